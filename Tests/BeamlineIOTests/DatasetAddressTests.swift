import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

@Suite("Dataset addresses")
struct DatasetAddressTests {
    @Test("parsing: file, member and Python slices")
    func parsing() throws {
        let a = try DatasetAddress("scan.nxs:/entry/data/data[10:20]")
        #expect(a.file == "scan.nxs" && a.format == .hdf5 && a.member == "/entry/data/data")
        #expect(a.selection == [.slice(10, 20, step: 1)])
        let b = try DatasetAddress("dir/x.h5:x[0:5, 100:200, :]")
        #expect(b.file == "dir/x.h5" && b.member == "/x")
        #expect(b.selection == [.slice(0, 5, step: 1), .slice(100, 200, step: 1), .all])
        let c = try DatasetAddress("a.hdf5:/d[-1, ::2, 3:, ...]")
        #expect(c.selection == [.index(-1), .slice(nil, nil, step: 2), .slice(3, nil, step: 1), .ellipsis])
        let d = try DatasetAddress("image.npy")
        #expect(d.format == .npy && d.member == nil && d.selection.isEmpty)
        let e = try DatasetAddress("arrays.npz:weights")
        #expect(e.format == .npz && e.member == "weights")
        #expect(try DatasetAddress("C.H5:/x").format == .hdf5)
    }

    @Test("bad addresses name the address")
    func badAddresses() throws {
        #expect(throws: DatasetAddressError.invalidAddress(address: "scan.h5",
                                                           reason: "no dataset path (write scan.h5:/entry/data/data)")) {
            _ = try DatasetAddress("scan.h5")
        }
        #expect(throws: DatasetAddressError.self) { _ = try DatasetAddress("scan.tiff") }
        #expect(throws: DatasetAddressError.invalidAddress(address: "s.h5:/x[1:a]", reason: "'a' in [1:a] is not an integer")) {
            _ = try DatasetAddress("s.h5:/x[1:a]")
        }
        #expect(throws: DatasetAddressError.self) { _ = try DatasetAddress("s.h5:/x[::0]") }
        #expect(throws: DatasetAddressError.self) { _ = try DatasetAddress("s.h5:/x[1:2:3:4]") }
    }

    @Test("loading an HDF5 hyperslab, a .npy selection and an .npz member")
    func loading() throws {
        let h5 = try fixtureURL("h5_layouts.h5").path
        let frames = try DatasetAddress("\(h5):/gzip[1:3, :, -1]").load(Int64.self)
        #expect(frames == HDF5Expected.stack[1..<3, .all, -1].contiguous())
        #expect(try DatasetAddress("\(h5):/gzip[2]").load().dtype == .uint16)
        let npy = try fixtureURL("i8_3d_2x3x4.npy").path
        let whole = try NumpyFile.read(Int64.self, from: URL(fileURLWithPath: npy))
        #expect(try DatasetAddress("\(npy)[1, ::2]").load(Int64.self) == whole[1, .stride(nil, nil, by: 2)].contiguous())
        #expect(throws: DatasetAddressError.self) { _ = try DatasetAddress("\(npy)[5]").load() }
        let missing = "\(h5):/nope"
        #expect(throws: DatasetAddressError.hdf5(address: missing, .missingObject(file: h5, path: "/nope"))) {
            _ = try DatasetAddress(missing).load()
        }
    }

    @Test("writing to .h5 (groups created, no overwrite unless asked), .npy and .npz")
    func writing() throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let t = Tensor<Float>(shape: [2, 2], elements: [1, 2, 3, 4])
        let h5 = folder.appendingPathComponent("out.h5").path
        try DatasetAddress("\(h5):/entry/result").write(t)
        try DatasetAddress("\(h5):/entry/other").write(t, storage: .chunked([1, 2], deflate: 4))
        #expect(throws: DatasetAddressError.alreadyExists(address: "\(h5):/entry/result")) {
            try DatasetAddress("\(h5):/entry/result").write(t)
        }
        try DatasetAddress("\(h5):/entry/result").write(t.map { $0 * 2 }, overwrite: true)
        #expect(try DatasetAddress("\(h5):/entry/result").load(Float.self) == t.map { $0 * 2 })
        #expect(try DatasetAddress("\(h5):/entry/other[1]").load(Float.self) == Tensor<Float>([3, 4]))
        #expect(throws: DatasetAddressError.self) { try DatasetAddress("\(h5):/entry/result[0]").write(t) }
        let npy = folder.appendingPathComponent("out.npy").path
        try DatasetAddress(npy).write(t)
        #expect(try DatasetAddress(npy).load(Float.self) == t)
        let npz = folder.appendingPathComponent("out.npz").path
        try DatasetAddress("\(npz):a").write(t)
        try DatasetAddress("\(npz):b").write(Tensor<Int64>([7]))
        #expect(try DatasetAddress("\(npz):a").load(Float.self) == t)
        #expect(try DatasetAddress("\(npz):b").load(Int64.self) == Tensor<Int64>([7]))
        #expect(directoryContents(folder) == ["out.h5", "out.npy", "out.npz"])
    }
}
