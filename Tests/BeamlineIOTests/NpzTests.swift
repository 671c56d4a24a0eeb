import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

@Suite("Reading and writing .npz archives")
struct NpzTests {
    /// `np.savez(path, f8=f8, i4=i4, b1=b1, c16=c16, scalar=np.array(3.5))`
    /// (stored members with zip64 extra fields) and the same with
    /// `np.savez_compressed` (deflated).
    @Test("np.savez and np.savez_compressed archives", arguments: ["savez.npz", "savez_compressed.npz"])
    func numpyArchives(file: String) throws {
        let archive = try NumpyArchive(contentsOf: fixtureURL(file))
        #expect(archive.names == ["f8", "i4", "b1", "c16", "scalar"])
        #expect(try archive.read("f8", as: Double.self) == Expected.f8)
        #expect(try archive.read("i4.npy", as: Int32.self) == Expected.i4)
        #expect(try archive.read("b1", as: Bool.self) == Expected.b1)
        #expect(try archive.read("c16", as: Complex<Double>.self) == Expected.c16)
        #expect(try archive.read("scalar", as: Double.self).scalar == 3.5)
        #expect(archive.contains("f8") && !archive.contains("f4"))
        let all = try archive.readAll()
        #expect(all.count == 5)
        #expect(all["i4"] == AnyTensor(Expected.i4))
    }

    /// `np.savez_compressed(path, f8=f8, i4=i4)` written with `zipfile`'s
    /// ZIP64 limits lowered to 0 (generate_io.py): every central-directory
    /// entry keeps its sizes in a ZIP64 extra field and the archive ends
    /// with a ZIP64 end record, as archives beyond 4 GiB do.
    @Test("ZIP64 central directory and end record")
    func zip64Archive() throws {
        let archive = try NumpyArchive(contentsOf: fixtureURL("savez_zip64.npz"))
        #expect(archive.names == ["f8", "i4"])
        #expect(try archive.read("f8", as: Double.self) == Expected.f8)
        #expect(try archive.read("i4", as: Int32.self) == Expected.i4)
    }

    /// `np.savez(path, f4, u1)`: positional arrays become `arr_0`, `arr_1`.
    @Test("positional np.savez members")
    func positional() throws {
        let archive = try NumpyArchive(contentsOf: fixtureURL("savez_positional.npz"))
        #expect(archive.names == ["arr_0", "arr_1"])
        #expect(try archive.read("arr_0") == AnyTensor(Expected.f4))
        #expect(try archive.read("arr_1") == AnyTensor(Expected.u1))
    }

    /// `np.savez_compressed(path, big=np.arange(100000, dtype=np.float64).reshape(100, 1000) * 0.5)`:
    /// a member larger than the extraction buffer.
    @Test("large compressed member")
    func largeMember() throws {
        let archive = try NumpyArchive(data: fixtureData("savez_big_compressed.npz"))
        let big = try archive.read("big", as: Double.self)
        #expect(big.shape == [100, 1000])
        #expect(big.elements == (0..<100_000).map { Double($0) * 0.5 })
    }

    /// Archives written in Swift read back, stored and deflated, in memory
    /// and through files; dictionary members are sorted by name, ordered
    /// members keep their order.
    @Test("round trips", arguments: [NumpyArchive.Compression.stored, .deflated])
    func roundTrips(compression: NumpyArchive.Compression) throws {
        let members = Dictionary(uniqueKeysWithValues: Expected.typed)
        let data = try NumpyArchive.encode(members, compression: compression)
        let archive = try NumpyArchive(data: data)
        #expect(archive.names == members.keys.sorted())
        #expect(try archive.readAll() == members)

        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.npz")
        let ordered: [(String, AnyTensor)] = [("z", AnyTensor(Expected.f8)), ("a", AnyTensor(Expected.arange24Int))]
        try NumpyArchive.write(ordered, to: url, compression: compression)
        let fromFile = try NumpyArchive(contentsOf: url)
        #expect(fromFile.names == ["z", "a"])
        #expect(try fromFile.read("a", as: Int64.self) == Expected.arange24Int)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.npz"])

        // Each member holds exactly the .npy bytes NumpyFile writes, which
        // NpyWriteTests shows to be np.save's bytes for every dtype.
        for (name, tensor) in members {
            #expect(try archive.memberData(name) == NumpyFile.encode(tensor), "member \(name)")
        }
        #expect(throws: NumpyFileError.self) { try archive.memberData("absent") }
    }

    /// Equal inputs give byte-identical archives (fixed member timestamps).
    @Test("deterministic output")
    func deterministic() throws {
        let members = Dictionary(uniqueKeysWithValues: Expected.typed)
        #expect(try NumpyArchive.encode(members) == NumpyArchive.encode(members))
        #expect(try NumpyArchive.encode(members, compression: .deflated) == NumpyArchive.encode(members, compression: .deflated))
    }

    /// Deflate really compresses (a constant array shrinks a lot).
    @Test("deflated archives are smaller")
    func deflatedIsSmaller() throws {
        let members = ["zeros": AnyTensor(Tensor<Double>.zeros([100, 100]))]
        let stored = try NumpyArchive.encode(members, compression: .stored)
        let deflated = try NumpyArchive.encode(members, compression: .deflated)
        #expect(stored.count > 80_000)
        #expect(deflated.count < 2_000)
    }
}
