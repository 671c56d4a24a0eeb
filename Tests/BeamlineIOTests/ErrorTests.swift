import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

@Suite("Errors from malformed, truncated and unsupported files")
struct ErrorTests {
    /// Each hand-corrupted or unsupported file from generate_io.py and the
    /// exact error it must raise (the source is the file's path).
    static let cases: [(file: String, expected: @Sendable (String) -> NumpyFileError)] = [
        // good[:6] replaced by b"\x93NUMPZ"
        ("bad_magic.npy", { .badMagic(source: $0, found: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x5A]) }),
        // version bytes set to 4.0
        ("bad_version.npy", { .unsupportedVersion(source: $0, major: 4, minor: 0) }),
        // np.save bytes of a (2, 3) float64 array minus the last 5 bytes
        ("truncated.npy", { .truncatedData(source: $0, part: "array data", expected: 48, available: 43) }),
        // the first 40 bytes only: 30 of the 118 header bytes
        ("truncated_header.npy", { .truncatedData(source: $0, part: "header", expected: 118, available: 30) }),
        // "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3 }"
        ("bad_header.npy", { .malformedHeader(source: $0, expected: "',' or ')' in the tuple", found: "\"}               \" at header byte 56") }),
        // "{'descr': '<f8', 'shape': (2, 3), }"
        ("missing_key_header.npy", { .malformedHeader(source: $0, expected: "a dict with exactly the keys 'descr', 'fortran_order' and 'shape'", found: "keys 'descr', 'shape'") }),
        // 'shape': (2, -3)
        ("negative_shape.npy", { .malformedHeader(source: $0, expected: "'shape': non-negative axis lengths", found: "(2, -3)") }),
        // 'shape': (4611686018427387904, 4): 2^64 elements
        ("overflow_shape.npy", { .shapeOverflow(source: $0, shape: "(4611686018427387904, 4)") }),
        // np.save(np.array([1, 2], dtype="<m8[s]"))
        ("unsupported_m8.npy", { .unsupportedDType(source: $0, descr: "'<m8[s]'") }),
        // np.save(np.array(["2026-01-01"], dtype="<M8[D]"))
        ("unsupported_M8.npy", { .unsupportedDType(source: $0, descr: "'<M8[D]'") }),
        // np.save(np.array(["abc", "de"], dtype="<U3"))
        ("unsupported_U3.npy", { .unsupportedDType(source: $0, descr: "'<U3'") }),
        // np.save(np.array([1, "a", None], dtype=object), allow_pickle=True)
        ("unsupported_object.npy", { .unsupportedDType(source: $0, descr: "'|O'") }),
        // np.save(np.zeros(2, dtype=[("x", "<f8"), ("y", "<i4")]))
        ("unsupported_structured.npy", { .unsupportedDType(source: $0, descr: "[('x', '<f8'), ('y', '<i4')]") }),
        // b"hello, this is not a NumPy file\n"
        ("not_npy.npy", { .badMagic(source: $0, found: Array("hello,".utf8)) }),
        // an empty file
        ("empty_file.npy", { .truncatedData(source: $0, part: "magic string", expected: 8, available: 0) }),
    ]

    @Test("each corrupted or unsupported .npy file raises its error", arguments: 0..<cases.count)
    func corruptedFile(index: Int) throws {
        let (file, expected) = Self.cases[index]
        let url = try fixtureURL(file)
        #expect(throws: expected(url.path)) { try NumpyFile.read(from: url) }
        // The in-memory decoder reports the same problem under its own name.
        #expect(throws: expected("<memory>")) { try NumpyFile.decode(try Data(contentsOf: url)) }
    }

    @Test("messages name the file and the problem")
    func messages() throws {
        let url = try fixtureURL("truncated.npy")
        do {
            _ = try NumpyFile.read(from: url)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(url.path): truncated array data: expected 48 bytes, only 43 available")
        }
        let dtype = NumpyFileError.unsupportedDType(source: "a.npy", descr: "'<U3'")
        #expect(dtype.description == "a.npy: unsupported dtype '<U3' (supported: i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8 c8 c16 b1, any byte order)")
        let missing = NumpyFileError.missingMember(archive: "x.npz", member: "q", available: ["a", "b"])
        #expect(missing.description == "x.npz: no member named 'q' (available: a, b)")
        let magic = NumpyFileError.badMagic(source: "m", found: [0x68, 0x69])
        #expect(magic.description.contains("found 68 69)"))
        // np.savez output handed to the .npy reader: the message points to NumpyArchive.
        #expect {
            try NumpyFile.read(from: fixtureURL("savez.npz"))
        } throws: { error in
            "\(error)".contains("found 50 4b 03 04 2d 00; this looks like a ZIP (.npz) archive")
        }
    }

    @Test("a file that does not exist")
    func missingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-beamline-dir/x.npy")
        #expect(throws: NumpyFileError.ioFailure(path: url.path, operation: "open", reason: "No such file or directory")) {
            try NumpyFile.read(from: url)
        }
        #expect(throws: NumpyFileError.ioFailure(path: url.path, operation: "open", reason: "No such file or directory")) {
            try NumpyArchive(contentsOf: url)
        }
    }

    @Test("a directory instead of a file")
    func directory() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: NumpyFileError.ioFailure(path: directory.path, operation: "read", reason: "is a directory")) {
            try NumpyFile.read(from: directory)
        }
        #expect(throws: NumpyFileError.ioFailure(path: directory.path, operation: "open", reason: "not a regular file")) {
            try NumpyArchive(contentsOf: directory)
        }
    }

    /// Header variants NumPy also accepts: Python 2 `L` suffixes, double
    /// quotes, other key order, no trailing comma, tabs; and ones it rejects.
    @Test("header parser: accepted and rejected variants")
    func headerVariants() throws {
        func npy(_ header: String, version: UInt8 = 1, payload: [UInt8] = [UInt8](repeating: 0, count: 48)) -> Data {
            var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
            let text = Array(header.utf8) + [0x0A]
            if version == 1 {
                bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
            } else {
                bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8 & 0xFF), 0, 0]
            }
            return Data(bytes + text + payload)
        }
        let accepted = [
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
            "{\"shape\": (2, 3), \"descr\": \"<f8\", \"fortran_order\": False}",
            "{\t'descr' : '<f8' ,'fortran_order':False,'shape':(6,)}",
            "{'descr': u'<f8', 'fortran_order': False, 'shape': (3, 2,), }",
            "{'descr': '=f8', 'fortran_order': True, 'shape': (1, 6), }",
        ]
        for header in accepted {
            let tensor = try NumpyFile.decode(Double.self, from: npy(header))
            #expect(tensor.count == 6, "\(header)")
        }
        // UTF-8 in a 3.0 header (in a key numpy would reject, so the dict check fails).
        #expect(throws: NumpyFileError.malformedHeader(source: "<memory>", expected: "a dict with exactly the keys 'descr', 'fortran_order' and 'shape'", found: "keys 'descr', 'fortran_order', 'shape', 'Ω'")) {
            try NumpyFile.decode(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'Ω': 1}", version: 3))
        }
        let rejected: [(String, NumpyFileError)] = [
            ("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3], }",
             .malformedHeader(source: "<memory>", expected: "'shape': a tuple of integers", found: "[2, 3]")),
            ("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3), }",
             .malformedHeader(source: "<memory>", expected: "'fortran_order': True or False", found: "0")),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2.0, 3), }",
             .malformedHeader(source: "<memory>", expected: "a decimal integer", found: "\".0, 3), }\n\" at header byte 52".replacingOccurrences(of: "\n", with: "?"))),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (6), }",
             .malformedHeader(source: "<memory>", expected: "'shape': a tuple of integers", found: "6")),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), } x",
             .malformedHeader(source: "<memory>", expected: "end of header after the closing brace", found: "\"x?\" at header byte 58")),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'extra': None}",
             .malformedHeader(source: "<memory>", expected: "a dict with exactly the keys 'descr', 'fortran_order' and 'shape'", found: "keys 'descr', 'extra', 'fortran_order', 'shape'")),
            ("('descr', '<f8')",
             .malformedHeader(source: "<memory>", expected: "a dict with exactly the keys 'descr', 'fortran_order' and 'shape'", found: "('descr', '<f8')")),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }",
             .shapeOverflow(source: "<memory>", shape: "(99999999999999999999999, 1)")),
            ("{'descr': '<f16', 'fortran_order': False, 'shape': (6,), }",
             .unsupportedDType(source: "<memory>", descr: "'<f16'")),
            ("{'descr': '<i16', 'fortran_order': False, 'shape': (6,), }",
             .unsupportedDType(source: "<memory>", descr: "'<i16'")),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }",
             .truncatedData(source: "<memory>", part: "array data", expected: 56, available: 48)),
        ]
        for (header, error) in rejected {
            #expect(throws: error, "\(header)") { try NumpyFile.decode(npy(header)) }
        }
        // Deep nesting is refused, not recursed into.
        let deep = "{'descr': " + String(repeating: "[", count: 10_000) + "}"
        #expect(throws: NumpyFileError.self) { try NumpyFile.decode(npy(deep)) }
    }

    /// Random corruption of valid files (bytes flipped, truncated, header
    /// bytes overwritten) must throw or decode, never crash. Seeded, so
    /// the same inputs run every time.
    @Test("fuzzed .npy input never crashes")
    func fuzzNpy() throws {
        let sources = try ["f8.npy", "c16_be.npy", "f8_fortran_2x3x4.npy", "f8_v3.npy", "b1.npy", "f8_scalar.npy"].map(fixtureData)
        var generator = Xoshiro256StarStar(seed: 2024)
        var decoded = 0, failed = 0
        for iteration in 0..<3000 {
            var data = sources[iteration % sources.count]
            switch generator.next() % 3 {
            case 0:
                for _ in 0..<(1 + generator.next() % 4) {
                    let index = Int(generator.next() % UInt64(min(data.count, 140)))
                    data[index] = UInt8(truncatingIfNeeded: generator.next())
                }
            case 1:
                data = data.prefix(Int(generator.next() % UInt64(data.count)))
            default:
                let index = 10 + Int(generator.next() % 100)
                let symbols = Array("{}()[],:'\" 0123456789-LTrueFalseNone<>|fcuib\n\\x".utf8)
                if index < data.count { data[index] = symbols[Int(generator.next() % UInt64(symbols.count))] }
            }
            do { _ = try NumpyFile.decode(data); decoded += 1 } catch { failed += 1 }
        }
        #expect(decoded + failed == 3000)
        #expect(failed > 0)
    }

    @Test("typed reads of the wrong dtype")
    func dtypeMismatch() throws {
        let url = try fixtureURL("f8.npy")
        #expect(throws: NumpyFileError.dtypeMismatch(source: url.path, expected: .float32, found: .float64)) {
            try NumpyFile.read(Float.self, from: url)
        }
        let f4 = try fixtureURL("f4.npy")
        #expect(throws: NumpyFileError.dtypeMismatch(source: f4.path, expected: .float64, found: .float32)) {
            try NumpyFile.read(Double.self, from: f4, conversion: .exact)
        }
        let npz = try fixtureURL("savez.npz")
        let archive = try NumpyArchive(contentsOf: npz)
        #expect(throws: NumpyFileError.dtypeMismatch(source: "\(npz.path)[b1.npy]", expected: .uint8, found: .bool)) {
            try archive.read("b1", as: UInt8.self, conversion: .exact)
        }
        #expect(throws: NumpyFileError.dtypeMismatch(source: "\(npz.path)[f8.npy]", expected: .int64, found: .float64)) {
            try archive.read("f8", as: Int64.self)
        }
    }

    @Test("archive errors")
    func archiveErrors() throws {
        // Not a ZIP file at all, or a .npy file.
        for file in ["not_zip.npz", "f8.npy", "empty_file.npy"] {
            let url = try fixtureURL(file)
            #expect {
                try NumpyArchive(contentsOf: url)
            } throws: { error in
                guard case let .notZipArchive(source, _)? = error as? NumpyFileError else { return false }
                return source == url.path
            }
        }
        #expect {
            try NumpyArchive(data: Data("not a zip".utf8), source: "bytes")
        } throws: { error in
            guard case .notZipArchive(source: "bytes", _)? = error as? NumpyFileError else { return false }
            return true
        }

        // A missing member lists the ones that exist.
        let savez = try fixtureURL("savez.npz")
        let archive = try NumpyArchive(contentsOf: savez)
        #expect(throws: NumpyFileError.missingMember(archive: savez.path, member: "x",
                                                     available: ["f8", "i4", "b1", "c16", "scalar"])) {
            try archive.read("x")
        }

        // zipfile.writestr("bad.npy", b"\x93NUMPY\x01\x00garbage"): header length "ga" = 24935.
        let bad = try fixtureURL("bad_member.npz")
        let badArchive = try NumpyArchive(contentsOf: bad)
        #expect(badArchive.names == ["good", "bad"])
        #expect(try badArchive.read("good") == AnyTensor(Expected.i4))
        #expect(throws: NumpyFileError.truncatedData(source: "\(bad.path)[bad.npy]", part: "header",
                                                     expected: 24935, available: 5)) {
            try badArchive.read("bad")
        }

        // Empty and repeated member names are refused before anything is written.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("bad.npz")
        #expect(throws: NumpyFileError.invalidMemberName(archive: url.path, name: "", reason: "member names must not be empty")) {
            try NumpyArchive.write(["": AnyTensor(Expected.f8)], to: url)
        }
        #expect(throws: NumpyFileError.invalidMemberName(archive: url.path, name: "a", reason: "the name occurs more than once")) {
            try NumpyArchive.write([("a", AnyTensor(Expected.f8)), ("a", AnyTensor(Expected.i4))], to: url)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    /// A stored member whose bytes were changed fails its CRC-32 check.
    @Test("corrupted archive member")
    func corruptedMember() throws {
        var data = try fixtureData("savez.npz")
        // The first member's data starts after its local header; change a
        // byte inside the f8 array data (the last bytes before member 2).
        let firstMemberEnd = data.range(of: Data("PK\u{03}\u{04}".utf8), in: 4..<data.count)!.lowerBound
        data[firstMemberEnd - 3] ^= 0xFF
        let archive = try NumpyArchive(data: data, source: "flipped.npz")
        #expect(throws: NumpyFileError.corruptArchive(source: "flipped.npz", member: "f8.npy", reason: "CRC-32 checksum mismatch")) {
            try archive.read("f8")
        }
        #expect(try archive.read("i4") == AnyTensor(Expected.i4))
    }

    /// Truncated and byte-flipped archives throw, never crash.
    @Test("fuzzed .npz input never crashes", arguments: ["savez.npz", "savez_compressed.npz"])
    func fuzzNpz(file: String) throws {
        let original = try fixtureData(file)
        var generator = Xoshiro256StarStar(seed: 99)
        for iteration in 0..<300 {
            var data = original
            if iteration % 2 == 0 {
                data = data.prefix(Int(generator.next() % UInt64(data.count)))
            } else {
                for _ in 0..<3 {
                    let index = Int(generator.next() % UInt64(data.count))
                    data[index] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            guard let archive = try? NumpyArchive(data: data) else { continue }
            for name in archive.names { _ = try? archive.read(name) }
        }
    }
}
