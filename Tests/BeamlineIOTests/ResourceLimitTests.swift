@testable import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// A reader never allocates more than the file can hold: sizes claimed by
/// headers are checked against the bytes that are there (and against the
/// archive's member limit) before any buffer is made, and decompression
/// stops at the declared size.
@Suite("Resource limits of the .npy and .npz readers")
struct ResourceLimitTests {
    /// A version 1.0 `.npy` header for `descr` and `shape` (padded as NumPy
    /// pads it) followed by `payload`.
    static func npy(descr: String, shape: String, payload: [UInt8] = []) -> Data {
        var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)]
        bytes += Array(text.utf8) + payload
        return Data(bytes)
    }

    /// The offsets of every ZIP record with `signature` in `data`.
    static func offsets(of signature: UInt32, in data: Data) -> [Int] {
        let bytes = [UInt8](data)
        var result: [Int] = []
        var i = 0
        while i + 4 <= bytes.count {
            let value = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            if value == signature { result.append(i) }
            i += 1
        }
        return result
    }

    /// `data` with the 4-byte little-endian field at `offset` set to `value`.
    static func patched(_ data: Data, at offset: Int, to value: UInt32) -> Data {
        var data = data
        for k in 0..<4 { data[data.startIndex + offset + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
        return data
    }

    /// `data` (a one-member archive) with the member's declared uncompressed
    /// size set to `value` in its local header (offset 22) and its central
    /// directory entry (offset 24), the two places the ZIP format keeps it.
    static func declaringUncompressedSize(_ value: UInt32, in data: Data) -> Data {
        declaring(value, localField: 22, centralField: 24, in: data)
    }

    /// `data` with the 4-byte field at `localField` of every local header
    /// and at `centralField` of every central-directory entry set to `value`.
    static func declaring(_ value: UInt32, localField: Int, centralField: Int, in data: Data) -> Data {
        var data = data
        for local in offsets(of: 0x0403_4B50, in: data) { data = patched(data, at: local + localField, to: value) }
        for central in offsets(of: 0x0201_4B50, in: data) { data = patched(data, at: central + centralField, to: value) }
        return data
    }

    @Test("a .npy header claiming 10^12 elements in a small file is refused before allocating, naming the size")
    func hugeNpyShape() throws {
        let data = Self.npy(descr: "<f8", shape: "(1000000, 1000000)", payload: [UInt8](repeating: 0, count: 64))
        #expect(data.count < 1024)
        // 10^12 float64 elements = 8·10^12 bytes expected, 64 present.
        #expect(throws: NumpyFileError.truncatedData(source: "huge.npy", part: "array data",
                                                     expected: 8_000_000_000_000, available: 64)) {
            try NumpyFile.decode(data, source: "huge.npy")
        }
        // A product beyond Int: (2^40)^2 elements.
        #expect(throws: NumpyFileError.shapeOverflow(source: "over.npy", shape: "(1099511627776, 1099511627776)")) {
            try NumpyFile.decode(Self.npy(descr: "<f8", shape: "(1099511627776, 1099511627776)"), source: "over.npy")
        }
        // One axis beyond Int.
        #expect(throws: NumpyFileError.shapeOverflow(source: "axis.npy", shape: "(99999999999999999999,)")) {
            try NumpyFile.decode(Self.npy(descr: "|u1", shape: "(99999999999999999999,)"), source: "axis.npy")
        }
    }

    @Test("a .npz member whose header claims a huge shape is refused like a .npy file")
    func hugeMemberShape() throws {
        let member = Self.npy(descr: "<f4", shape: "(100000, 100000, 100)")
        let archive = try NumpyArchive(data: NumpyArchive.encode(npyMembers: [("x", member)], compression: .deflated,
                                                                 source: "<memory>"), source: "huge.npz")
        #expect(throws: NumpyFileError.truncatedData(source: "huge.npz[x.npy]", part: "array data",
                                                     expected: 4_000_000_000_000, available: 0)) {
            try archive.read("x")
        }
    }

    @Test("a zip bomb (a member that decompresses beyond the limit) is refused naming the member and the limit")
    func zipBomb() throws {
        // 16 MiB of zeros deflate to about 16 kB.
        let zeros = Tensor<Double>.zeros([2048, 1024])
        let data = try NumpyArchive.encode(["z": AnyTensor(zeros)], compression: .deflated)
        #expect(data.count < 100_000)
        let size = UInt64(NumpyFile.encode(zeros).count)   // header + 16 MiB
        let archive = try NumpyArchive(data: data, source: "bomb.npz", memberSizeLimit: 1 << 20)
        #expect(archive.memberSizeLimit == 1 << 20)
        #expect(throws: NumpyFileError.sizeLimitExceeded(source: "bomb.npz", member: "z.npy", size: size, limit: 1 << 20)) {
            try archive.read("z")
        }
        #expect(throws: NumpyFileError.sizeLimitExceeded(source: "bomb.npz", member: "z.npy", size: size, limit: 1 << 20)) {
            try archive.memberData("z")
        }
        #expect(NumpyFileError.sizeLimitExceeded(source: "bomb.npz", member: "z.npy", size: size, limit: 1 << 20)
                    .description == "bomb.npz: member 'z.npy' would decompress to \(size) bytes, more than the limit of 1048576 bytes")
        // With the default limit (the machine's memory) the same archive reads.
        #expect(try NumpyArchive(data: data).read("z") == AnyTensor(zeros))
    }

    @Test("a member that decompresses to more than it declares stops at the declared size")
    func lyingDeclaredSize() throws {
        let zeros = Tensor<Double>.zeros([512, 512])   // 2 MiB
        let honest = try NumpyArchive.encode(["z": AnyTensor(zeros)], compression: .deflated)
        let lying = Self.declaringUncompressedSize(1000, in: honest)
        let archive = try NumpyArchive(data: lying, source: "lying.npz")
        #expect(throws: NumpyFileError.corruptArchive(source: "lying.npz", member: "z.npy",
                                                      reason: "decompresses to more than the 1000 bytes it declares")) {
            try archive.read("z")
        }
    }

    @Test("declared sizes that the archive cannot hold are refused before extracting")
    func impossibleDeclaredSizes() throws {
        // Deflated: 4 GB declared from a few kB compressed (deflate expands at most 1032:1).
        let small = Tensor<Double>.zeros([64])
        let deflated = try NumpyArchive.encode(["z": AnyTensor(small)], compression: .deflated)
        let archive = try NumpyArchive(data: Self.declaringUncompressedSize(0xFFFF_FF00, in: deflated), source: "a.npz")
        #expect {
            try archive.read("z")
        } throws: { error in
            guard case let .corruptArchive("a.npz", "z.npy", reason)? = error as? NumpyFileError else { return false }
            return reason.hasPrefix("declares 4294967040 uncompressed bytes, more than its") && reason.contains("1032:1")
        }
        // Stored: the two sizes must agree.
        let stored = try NumpyArchive.encode(["z": AnyTensor(small)], compression: .stored)
        let storedSize = NumpyFile.encode(small).count
        let storedArchive = try NumpyArchive(data: Self.declaringUncompressedSize(0x7FFF_FFFF, in: stored), source: "s.npz")
        #expect(throws: NumpyFileError.corruptArchive(source: "s.npz", member: "z.npy",
                                                      reason: "stored member declares 2147483647 bytes but \(storedSize) stored bytes")) {
            try storedArchive.read("z")
        }
    }

    /// `data` (a one-member archive) with the member's declared compressed
    /// size set to `value` in its local header (offset 18) and its central
    /// directory entry (offset 20).
    static func declaringCompressedSize(_ value: UInt32, in data: Data) -> Data {
        declaring(value, localField: 18, centralField: 20, in: data)
    }

    @Test("a deflate stream that runs past its member's bytes is an error, not a loop")
    func deflateStreamPastItsMember() throws {
        // The fuzz input (found by the npz target after 747 883 executions):
        // ZIPFoundation 0.9's inflate loop read empty chunks forever on it.
        // The reader now finds its central directory to run past the end of
        // the file, so opening it is the error.
        let fuzzed = try fixtureData("fuzz/npz-inflate-eof-loop.npz")
        #expect(throws: NumpyFileError.notZipArchive(source: "fuzzed.npz", reason:
            "the central directory (265 bytes at 702) runs past the end of the archive")) {
            try NumpyArchive(data: fuzzed, source: "fuzzed.npz")
        }

        // A valid deflated member cut short: its compressed size says 40 bytes
        // fewer than the stream needs, so the stream does not end there.
        let values: [Double] = (0..<4096).map { Double($0 % 97) }
        let tensor = Tensor<Double>(shape: [4096], elements: values)
        let honest = try NumpyArchive.encode(["z": AnyTensor(tensor)], compression: .deflated)
        let field = try #require(Self.offsets(of: 0x0201_4B50, in: honest).first) + 20
        var size: UInt32 = 0
        for k in 0..<4 { size |= UInt32(honest[honest.startIndex + field + k]) << UInt32(8 * k) }
        let cut = try NumpyArchive(data: Self.declaringCompressedSize(size - 40, in: honest), source: "cut.npz")
        #expect(throws: NumpyFileError.corruptArchive(source: "cut.npz", member: "z.npy",
                                                      reason: "its deflate stream does not end within its \(size - 40) compressed bytes")) {
            try cut.read("z")
        }
        #expect(try NumpyArchive(data: honest).read("z") == AnyTensor(tensor))
    }

    @Test("a stored member whose bytes run past the end of the archive is refused before reading")
    func storedMemberPastTheEnd() throws {
        let small = Tensor<Double>.zeros([64])
        let stored = try NumpyArchive.encode(["z": AnyTensor(small)], compression: .stored)
        // Both sizes agree and fit in the archive, but the data starts after
        // the 30-byte local header and the 5-byte name: it cannot all be there.
        let claimed = UInt32(stored.count - 8)
        var lying = Self.declaringUncompressedSize(claimed, in: stored)
        lying = Self.declaringCompressedSize(claimed, in: lying)
        let archive = try NumpyArchive(data: lying, source: "past.npz")
        #expect(throws: NumpyFileError.corruptArchive(source: "past.npz", member: "z.npy",
                                                      reason: "its \(claimed) data bytes at offset 35 run past the end of the archive")) {
            try archive.read("z")
        }
    }

    @Test("a central directory that declares more entries than it can hold is refused")
    func impossibleEntryCount() throws {
        let stored = try NumpyArchive.encode(["z": AnyTensor(Tensor<Double>.zeros([4]))], compression: .stored)
        let end = try #require(Self.offsets(of: 0x0605_4B50, in: stored).last)
        var lying = stored
        lying[end + 8] = 0xFF; lying[end + 9] = 0x7F     // entries on this disk
        lying[end + 10] = 0xFF; lying[end + 11] = 0x7F   // entries in all: 32767
        #expect {
            try NumpyArchive(data: lying, source: "count.npz")
        } throws: { error in
            guard case let .notZipArchive(source: "count.npz", reason)? = error as? NumpyFileError else { return false }
            return reason.hasPrefix("the central directory declares 32767 entries, more than its")
        }
    }
}
