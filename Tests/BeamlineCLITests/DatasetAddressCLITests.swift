import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Every array argument takes a dataset address (`file.h5:/path[selection]`,
/// `file.npz:member`, `file.npy`). Inputs are built here; expected outputs
/// come from calling the library directly on the same data, so each check
/// is that the command read and wrote the addressed arrays (exactly: the
/// same bits as the library call on the same input).
@Suite struct DatasetAddressCLITests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-address-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func run(_ arguments: [String]) throws {
        var command = try BeamlineCommand.parseAsRoot(arguments)
        try command.run()
    }

    /// The error message a command stops with ("" when it succeeds).
    func message(_ arguments: [String]) -> String {
        do { try run(arguments); return "" } catch { return BeamlineCommand.message(for: error) }
    }

    @Test("project and reconstruct read and write HDF5 datasets, several in one file")
    func hdf5InputsAndOutputs() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: (0..<10).map { Double($0) * .pi / 10 },
                                               volumeShape: [6, 6, 2], projectionShape: [6, 2])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        let volume: Tensor<Double> = Phantom.randomEllipsoids(shape: [6, 6, 2], count: 2, seed: 3)
        try DatasetAddress("\(p("in.h5")):/entry/volume").write(volume)

        try run(["project", "--geometry", p("g.json"), "--volume", "\(p("in.h5")):/entry/volume",
                 "--out", "\(p("out.h5")):/entry/projections"])
        let projector = try JohnTransformProjector<Double>(geometry: geometry)
        let projections = try projector.checkedApply(volume)
        let written = try HDF5File(contentsOf: dir.appendingPathComponent("out.h5"))
        #expect(try written.read(Double.self, from: "/entry/projections") == projections)

        // A second dataset of the input's file: allowed, and the input stays.
        try run(["reconstruct", "--geometry", p("g.json"), "--projections", "\(p("out.h5")):/entry/projections",
                 "--method", "sirt", "--iterations", "4", "--out", "\(p("out.h5")):/entry/reconstruction"])
        let file = try HDF5File(contentsOf: dir.appendingPathComponent("out.h5"))
        let sirt = try Reconstruction.sirt(projector, projections: projections, options: .init(iterations: 4))
        #expect(try file.read(Double.self, from: "/entry/reconstruction") == sirt.volume)
        #expect(try file.read(Double.self, from: "/entry/projections") == projections)

        // The same dataset as output is refused, and the file is unchanged.
        let refused = message(["reconstruct", "--geometry", p("g.json"),
                               "--projections", "\(p("out.h5")):/entry/projections",
                               "--out", "\(p("out.h5")):/entry/projections"])
        #expect(refused.contains("refusing"), "\(refused)")
        #expect(try HDF5File(contentsOf: dir.appendingPathComponent("out.h5"))
            .read(Double.self, from: "/entry/projections") == projections)
    }

    @Test("register takes frames of one HDF5 stack by selection; shift writes an .npz member")
    func selectionsAndArchiveMembers() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let reference = Tensor<Double>.normal([32, 32], seed: 5)
        let moving = try SubpixelShift.fourier(reference, by: [2.0, -3.0])
        let stack = Tensor<Double>(shape: [2, 32, 32], elements: reference.elements + moving.elements)
        try DatasetAddress("\(p("stack.h5")):/frames").write(stack)
        try run(["register", "\(p("stack.h5")):/frames[0]", "\(p("stack.h5")):/frames[1]"])   // parses and runs

        try run(["shift", "\(p("stack.h5")):/frames[1]", "--by", "-2,3", "--method", "fourier",
                 "--out", "\(p("shifted.npz")):back"])
        let back = try NumpyArchive(contentsOf: dir.appendingPathComponent("shifted.npz")).read("back", as: Double.self)
        #expect(back == (try SubpixelShift.fourier(moving, by: [-2, 3])))
    }

    @Test("bad addresses: unknown type, missing dataset, selection out of range, each naming the option")
    func badAddresses() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: [0, 1], volumeShape: [4, 4, 2], projectionShape: [4, 2])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        try DatasetAddress("\(p("v.h5")):/v").write(Tensor<Double>(shape: [4, 4, 2], repeating: 1))
        let base = ["project", "--geometry", p("g.json")]
        let unknown = message(base + ["--volume", p("v.txt"), "--out", p("o.npy")])
        #expect(unknown.contains("--volume") && unknown.contains("unknown file type"), "\(unknown)")
        let missing = message(base + ["--volume", "\(p("v.h5")):/nothing", "--out", p("o.npy")])
        #expect(missing.contains("--volume") && missing.contains("/nothing"), "\(missing)")
        let range = message(base + ["--volume", "\(p("v.h5")):/v[9]", "--out", p("o.npy")])
        #expect(range.contains("--volume") && range.contains("/v"), "\(range)")
        let npz = message(base + ["--volume", "\(p("v.h5")):/v", "--out", p("o.npz")])
        #expect(npz.contains("--out") && npz.contains("member"), "\(npz)")
        #expect(!FileManager.default.fileExists(atPath: p("o.npy")) && !FileManager.default.fileExists(atPath: p("o.npz")))
    }

    @Test("reconstruct --scan: an NXtomo file (image_key, flats, darks, angles in degrees) gives tomopy's absorbance and the single-axis geometry")
    func nexusScan() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        // A phantom projected over 8 angles in 180°, (N, J, K) = (8, 6, 3), stored as NXtomo
        // frames (rows = K, columns = J) of counts dark + (flat − dark)·exp(−absorbance),
        // after two darks and two flats.
        let angles = (0..<8).map { Double($0) * 180 / 8 }
        let geometry = try Geometry.fromAngles(innerAngles: angles.map { $0 * .pi / 180 },
                                               volumeShape: [6, 6, 3], projectionShape: [6, 3])
        let phantom: Tensor<Double> = Phantom.randomEllipsoids(shape: [6, 6, 3], count: 2, seed: 9)
        let absorbance = try JohnTransformProjector<Double>(geometry: geometry).checkedApply(phantom * 0.2).reshaped([8, 6, 3])
        let (dark, flat) = (100.0, 5000.0)
        var frames = [Float](), keys = [Int32](), frameAngles = [Double]()
        for _ in 0..<2 { frames += [Float](repeating: Float(dark), count: 18); keys.append(2); frameAngles.append(0) }
        for _ in 0..<2 { frames += [Float](repeating: Float(flat), count: 18); keys.append(1); frameAngles.append(0) }
        for n in 0..<8 {
            for k in 0..<3 { for j in 0..<6 {
                frames.append(Float(dark + (flat - dark) * Foundation.exp(-absorbance[at: n, j, k])))
            } }
            keys.append(0)
            frameAngles.append(angles[n])
        }
        try HDF5File.write(to: dir.appendingPathComponent("scan.nxs")) { file throws(HDF5Error) in
            try file.write(Tensor<Float>(shape: [12, 3, 6], elements: frames), to: "/entry/instrument/detector/data")
            try file.write(Tensor<Int32>(shape: [12], elements: keys), to: "/entry/instrument/detector/image_key")
            try file.write(Tensor<Double>(shape: [12], elements: frameAngles), to: "/entry/sample/rotation_angle")
        }
        try run(["reconstruct", "--scan", p("scan.nxs"), "--method", "sirt", "--iterations", "3", "--out", p("r.npy")])
        let result = try NumpyFile.read(Float.self, from: dir.appendingPathComponent("r.npy"))
        #expect(result.shape == [6, 6, 3])

        // The same absorbance and geometry through the library give the same bits.
        let (projections, scanGeometry) = try ReconstructCommand.loadScan(p("scan.nxs"))
        #expect(scanGeometry.volumeShape == [6, 6, 3] && scanGeometry.projectionShape == [6, 3])
        // float32 counts: the absorbance matches the projector's to float32 rounding of exp/log (1e-4 absolute).
        #expect(zip(projections.elements, absorbance.elements).allSatisfy { Swift.abs(Double($0) - $1) < 1e-4 })
        let sirt = try Reconstruction.sirt(try JohnTransformProjector<Float>(geometry: scanGeometry),
                                           projections: projections.reshaped([8, 6, 3, 1]), options: .init(iterations: 3))
        #expect(result == sirt.volume.reshaped([6, 6, 3]))

        let neither = message(["reconstruct", "--out", p("x.npy")])
        #expect(neither.contains("--scan"), "\(neither)")
        let missing = message(["reconstruct", "--scan", "\(p("scan.nxs")):/other", "--out", p("x.npy")])
        #expect(missing.contains("--scan") && missing.contains("/other"), "\(missing)")
    }
}
