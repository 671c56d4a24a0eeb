import BeamlineTestSupport
import BeamlineIO
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

func sparseFixture(_ name: String) throws -> URL {
    guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
        throw FixtureError.missing("Fixtures")
    }
    return directory.appendingPathComponent(name)
}

/// The `.npz` files were written by `scipy.sparse.save_npz` (SciPy 1.17) or,
/// for the bad and legacy files, by `numpy.savez`, in
/// Tests/Fixtures/generate_sparse.py; the expected matrix is `dense` in
/// sparse.json (the same matrix).
@Suite("SciPy save_npz / load_npz interoperability")
struct SciPyFileTests {
    @Test("Files written by SciPy read back as the same matrix",
          arguments: ["scipy_csr_matrix.npz", "scipy_csr_array_compressed.npz", "scipy_csc.npz", "scipy_coo.npz",
                      "legacy_unicode_format.npz"])
    func readSciPy(file: String) throws {
        let dense = try Fixtures.load("sparse.json").real("dense")
        let a = try CSRMatrix<Double>.load(contentsOf: sparseFixture(file))
        #expect(a.toDense() == dense)
        #expect(a == (try CSRMatrix(dense: dense)))
    }

    @Test("float32 data reads as Float, and converts to Double")
    func float32File() throws {
        let url = try sparseFixture("scipy_csr_float32.npz")
        let a = try CSRMatrix<Float>.load(contentsOf: url)
        let d = try Fixtures.load("sparse.json").real("dense", as: Float.self)
        #expect(a.toDense() == d)
        #expect(try CSRMatrix<Double>.load(contentsOf: url).nonzeroCount == a.nonzeroCount)
    }

    @Test("A Swift-written file reads back identically; the members are what SciPy writes")
    func roundTrip() throws {
        let dense = try Fixtures.load("sparse.json").real("dense")
        let a = try CSRMatrix(dense: dense)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-csr-\(UUID()).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        for compressed in [false, true] {
            try a.save(to: url, compressed: compressed)
            #expect(try CSRMatrix<Double>.load(contentsOf: url) == a)
            let archive = try NumpyArchive(contentsOf: url)
            #expect(archive.names == ["indices", "indptr", "format", "shape", "data"])
            #expect(try archive.readString("format") == "csr")
            #expect(try archive.read("shape") == AnyTensor(Tensor<Int64>([Int64(a.rows), Int64(a.columns)])))
            #expect(try archive.read("indices").dtype == .int32)
        }
        // For the SciPy side of the round trip: with BEAMLINE_SPARSE_EXPORT=path, the matrix is also
        // saved there so that `scipy.sparse.load_npz(path)` can be compared with `dense` by hand.
        if let path = ProcessInfo.processInfo.environment["BEAMLINE_SPARSE_EXPORT"] {
            try a.save(to: URL(fileURLWithPath: path))
        }
    }

    @Test("Bad files give typed errors naming the problem")
    func badFiles() throws {
        func loadError(_ name: String) throws -> SparseError? {
            let url = try sparseFixture(name)
            do { _ = try CSRMatrix<Double>.load(contentsOf: url); return nil } catch { return error }
        }
        #expect(try loadError("bad_unsorted.npz") == .unsortedColumnIndices(row: 0, position: 1))
        #expect(try loadError("bad_index_range.npz") == .indexOutOfRange(argument: "indices", position: 3, index: 7, bound: 4))
        #expect(try loadError("bad_indptr.npz") == .rowPointerNotMonotone(row: 1, start: 2, end: 1))
        #expect(try loadError("bad_nan.npz") == .nonFiniteValue(argument: "values (data)", position: 1))
        guard case .unsupportedFormat(_, "dia") = try loadError("bad_format.npz") else {
            Issue.record("expected unsupportedFormat"); return
        }
        guard case .badMember(_, "shape", _, _) = try loadError("bad_shape.npz") else {
            Issue.record("expected badMember shape"); return
        }
        guard case .file(.missingMember(_, "format", _)) = try loadError("not_sparse.npz") else {
            Issue.record("expected missing format member"); return
        }
        guard case .file(.ioFailure) = try loadError("no_such_file.npz") else {
            Issue.record("expected ioFailure"); return
        }
        // Unsorted indices are accepted when asked to canonicalise, like SciPy's sum_duplicates.
        let fixed = try CSRMatrix<Double>.load(contentsOf: sparseFixture("bad_unsorted.npz"), canonicalize: true)
        #expect(fixed.toDense() == Tensor(shape: [3, 4], elements: [1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4]))
        #expect(try loadError("bad_unsorted.npz")?.description.contains("row 0") == true)
    }
}

@Suite("BeamlineIO string members (for SciPy's 'format')")
struct NumpyStringTests {
    @Test("Byte strings round trip and decode like NumPy's .item()")
    func byteString() throws {
        let data = NumpyFile.encodeByteString("csr")
        #expect(try NumpyFile.decodeString(data) == "csr")
        // Byte for byte what numpy.save(np.array(b"csr")) writes (NumPy 2.4): a 128-byte header, then b"csr".
        let header = "\u{93}NUMPY\u{01}\u{00}v\u{00}{'descr': '|S3', 'fortran_order': False, 'shape': (), }"
            + String(repeating: " ", count: 62) + "\ncsr"
        #expect(data == Data(header.unicodeScalars.map { UInt8($0.value) }))
        // Numeric arrays are not strings.
        #expect(throws: NumpyFileError.self) { _ = try NumpyFile.decodeString(NumpyFile.encode(Tensor([1.0]))) }
        // String members are not numeric arrays.
        #expect(throws: NumpyFileError.self) { _ = try NumpyFile.decode(data) }
        // Truncated payload.
        #expect(throws: NumpyFileError.self) { _ = try NumpyFile.decodeString(data.prefix(65)) }
    }
}
