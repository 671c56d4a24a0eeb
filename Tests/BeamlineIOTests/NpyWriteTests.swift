import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

@Suite("Writing .npy files")
struct NpyWriteTests {
    /// Swift's bytes equal `np.save(name, array)`'s file for the same
    /// array, for every dtype.
    @Test("byte-identical to np.save for every dtype", arguments: Expected.typed)
    func byteIdentical(name: String, tensor: AnyTensor) throws {
        #expect(NumpyFile.encode(tensor) == (try fixtureData("\(name).npy")))
    }

    /// Same for `np.save` of `np.array(3.5)`, `np.zeros((0, 3))`,
    /// `np.arange(24, dtype=np.int64).reshape(2, 3, 4)` and
    /// `(np.arange(1000) % 256).astype(np.uint8)`.
    @Test("byte-identical to np.save for 0-d, empty, 3-d and long arrays")
    func byteIdenticalShapes() throws {
        #expect(NumpyFile.encode(Tensor<Double>(scalar: 3.5)) == (try fixtureData("f8_scalar.npy")))
        #expect(NumpyFile.encode(Tensor<Double>.zeros([0, 3])) == (try fixtureData("f8_empty_0x3.npy")))
        #expect(NumpyFile.encode(Expected.arange24Int) == (try fixtureData("i8_3d_2x3x4.npy")))
        #expect(NumpyFile.encode(Expected.u1Long) == (try fixtureData("u1_1000.npy")))
    }

    /// Written to disk, the file equals `np.save`'s; the data starts at a
    /// multiple of 64 bytes.
    @Test("write(to:) writes the np.save bytes")
    func writeToFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("f8.npy")
        try NumpyFile.write(Expected.f8, to: url)
        let written = try Data(contentsOf: url)
        #expect(written == (try fixtureData("f8.npy")))
        let headerLength = Int(written[8]) | Int(written[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(try NumpyFile.read(Double.self, from: url) == Expected.f8)
        // Only the destination is left in the directory (no temporary files).
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["f8.npy"])
    }

    /// A non-contiguous view (transpose, flipped axis) is written in C order
    /// of its logical elements, as `np.save(a.T)` does.
    @Test("views are written in logical C order")
    func views() throws {
        let transposed = Expected.f8.transposed
        let read = try NumpyFile.decode(Double.self, from: NumpyFile.encode(transposed))
        #expect(read.shape == [3, 2])
        #expect(read.elements == [0, 0.30000000000000004, 0.1, 0.4, 0.2, 0.5])
        let flipped = Expected.i4.flipped(axis: 0)
        #expect(try NumpyFile.decode(Int32.self, from: NumpyFile.encode(flipped)).elements == [Int32.max, 0, -1, Int32.min])
    }

    /// Round trips of every dtype through a file, including NaN payloads
    /// and signed zeros (compared bit for bit).
    @Test("round trips")
    func roundTrips() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, tensor) in Expected.typed {
            let url = directory.appendingPathComponent("\(name).npy")
            try NumpyFile.write(tensor, to: url)
            #expect(try NumpyFile.read(from: url) == tensor)
        }
        let special = Tensor<Double>([.nan, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)])
        let back = try NumpyFile.decode(Double.self, from: NumpyFile.encode(special))
        #expect(back.elements.map(\.bitPattern) == special.elements.map(\.bitPattern))
        let random = Tensor<Float>.uniform([4, 5, 6], in: -1..<1, seed: 7)
        #expect(try NumpyFile.decode(Float.self, from: NumpyFile.encode(random)) == random)
    }

    /// A header longer than 65535 bytes needs format 2.0, as
    /// `numpy.lib.format` chooses it (here: a rank-25000 array of one
    /// element, which NumPy itself cannot make; its limit is 64 axes).
    @Test("format 2.0 when the header needs it")
    func version2() throws {
        let shape = [Int](repeating: 1, count: 25_000)
        let tensor = Tensor<Int32>(shape: shape, elements: [42])
        let data = NumpyFile.encode(tensor)
        #expect(data[6] == 2 && data[7] == 0)
        let headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        #expect(headerLength > 65535)
        #expect((12 + headerLength) % 64 == 0)
        let back = try NumpyFile.decode(Int32.self, from: data)
        #expect(back.shape == shape)
        #expect(back.elements == [42])
    }

    /// Writing replaces an existing file; a failed write (the destination
    /// is a directory, so the final rename fails) leaves the destination as
    /// it was and removes the temporary file.
    @Test("atomic writes")
    func atomicWrites() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("a.npy")
        try NumpyFile.write(Expected.f8, to: url)
        try NumpyFile.write(Expected.i4, to: url)
        #expect(try NumpyFile.read(from: url) == AnyTensor(Expected.i4))

        let blocker = directory.appendingPathComponent("dir.npy")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: blocker.appendingPathComponent("inside"))
        do {
            try NumpyFile.write(Expected.f8, to: blocker)
            Issue.record("writing over a non-empty directory should fail")
        } catch {
            guard case let .ioFailure(path, operation, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == blocker.path)
            #expect(operation == "rename")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["a.npy", "dir.npy"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: blocker.path) == ["inside"])

        let missing = directory.appendingPathComponent("no-such-dir/x.npy")
        #expect {
            try NumpyFile.write(Expected.f8, to: missing)
        } throws: { error in
            guard case let .ioFailure(path, _, reason)? = error as? NumpyFileError else { return false }
            return path == missing.path && reason.contains("No such file")
        }
    }
}
