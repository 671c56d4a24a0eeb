import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Inputs are built here; expected outputs come from calling the library
/// (JohnTransformProjector, Reconstruction) directly on the same data.
@Suite struct TomographyCLITests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tomo-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func projectAndReconstruct() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: (0..<12).map { Double($0) * .pi / 12 },
                                               volumeShape: [8, 8, 3], projectionShape: [8, 3])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        let volume: Tensor<Double> = Phantom.randomEllipsoids(shape: [8, 8, 3], count: 3, seed: 1)
        try NumpyFile.write(volume.reshaped([8, 8, 3]), to: dir.appendingPathComponent("v.npy"))
        let project = try #require(try BeamlineCommand.parseAsRoot(
            ["project", "--geometry", p("g.json"), "--volume", p("v.npy"), "--out", p("p.npy")]) as? ProjectCommand)
        try project.run()
        let projector = try JohnTransformProjector<Double>(geometry: geometry)
        let expected = try projector.checkedApply(volume)
        let written = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("p.npy")))
        #expect(written.shape == [12, 8, 3])
        #expect(written.elements == expected.elements)
        let back = try #require(try BeamlineCommand.parseAsRoot(
            ["project", "--adjoint", "--geometry", p("g.json"), "--projections", p("p.npy"), "--out", p("b.npy")]) as? ProjectCommand)
        try back.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("b.npy"))).elements
                == (try projector.checkedApplyAdjoint(expected)).elements)
        for method in ["sirt", "cgls", "lsmr", "mitra", "fbp"] {
            let command = try #require(try BeamlineCommand.parseAsRoot(
                ["reconstruct", "--geometry", p("g.json"), "--projections", p("p.npy"), "--method", method,
                 "--iterations", "5", "--out", p("r-\(method).npy")]) as? ReconstructCommand)
            try command.run()
            let result = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("r-\(method).npy")))
            #expect(result.shape == [8, 8, 3])
        }
        let sirt = try Reconstruction.sirt(projector, projections: expected, options: .init(iterations: 5))
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("r-sirt.npy"))).elements == sirt.volume.elements)
    }

    /// `reconstruct --distributed` in this process (MPI starts as a
    /// singleton: one rank; the 2- and 4-rank runs are scripts/mpi_tests.sh).
    /// Expected: the plain `reconstruct` output of the same command, byte for
    /// byte for the projection split (on one rank it is the same
    /// computation), and the slab split within 1e-5 relative (the norms sum
    /// per slice; docs/mpi.md).
    @Test func distributedReconstructionOnOneRank() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: (0..<10).map { Double($0) * .pi / 10 },
                                               volumeShape: [8, 8, 4], projectionShape: [8, 4])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        let projector = try JohnTransformProjector<Float>(geometry: geometry)
        let volume: Tensor<Float> = Phantom.randomEllipsoids(shape: [8, 8, 4], count: 3, seed: 2, as: Float.self)
        let projections = projector.apply(volume.reshaped(projector.volumeShape)).reshaped([10, 8, 4])
        try HDF5File.write(to: dir.appendingPathComponent("p.h5")) { file throws(HDF5Error) in
            try file.write(projections, to: "/projections")
        }
        func run(_ extra: [String], out: String) throws {
            let command = try #require(try BeamlineCommand.parseAsRoot(
                ["reconstruct", "--geometry", p("g.json"), "--projections", p("p.h5") + ":/projections", "--method", "cgls",
                 "--iterations", "4", "--out", p(out)] + extra) as? ReconstructCommand)
            try command.run()
        }
        try run([], out: "plain.npy")
        try run(["--distributed", "projections"], out: "projections.npy")
        try run(["--distributed", "slabs"], out: "slabs.npy")
        let plain = try NumpyFile.read(Float.self, from: URL(fileURLWithPath: p("plain.npy")))
        let split = try NumpyFile.read(Float.self, from: URL(fileURLWithPath: p("projections.npy")))
        let slabs = try NumpyFile.read(Float.self, from: URL(fileURLWithPath: p("slabs.npy")))
        #expect(split.shape == [8, 8, 4] && split.elements == plain.elements)
        let scale = plain.elements.map { Swift.abs($0) }.max()!
        #expect(slabs.shape == [8, 8, 4])
        #expect(zip(slabs.elements, plain.elements).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * scale })
    }

    /// `--distributed` misuse is one message naming the option.
    @Test func distributedMisuseNamesTheOption() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: [0, 1, 2], volumeShape: [4, 4, 2], projectionShape: [4, 3])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        try NumpyFile.write(Tensor<Double>(shape: [3, 4, 3], repeating: 1), to: dir.appendingPathComponent("p.npy"))
        func message(_ args: [String]) -> String {
            do {
                var command = try BeamlineCommand.parseAsRoot(args)
                try command.run()
                return ""
            } catch { return BeamlineCommand.message(for: error) }
        }
        let base = ["reconstruct", "--geometry", p("g.json"), "--projections", p("p.npy"), "--out", p("o.npy")]
        #expect(message(base + ["--distributed", "rows"]).contains("--distributed"))
        #expect(message(base + ["--distributed", "slabs", "--method", "fbp"]).contains("fbp"))
        #expect(message(["reconstruct", "--scan", p("s.nxs"), "--distributed", "projections", "--out", p("o.npy")])
            .contains("--distributed projections reads --projections"))
        // K = 3 detector rows, Z = 2 slices: rays would leave their slab.
        let slabs = message(base + ["--distributed", "slabs"])
        #expect(slabs.contains("--distributed slabs") && slabs.contains("K = 3, Z = 2"))
        #expect(!FileManager.default.fileExists(atPath: p("o.npy")))
    }

    @Test func badInputsAreErrorsNamingTheArgument() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let geometry = try Geometry.fromAngles(innerAngles: [0, 1], volumeShape: [4, 4, 2], projectionShape: [4, 2])
        try geometry.write(to: dir.appendingPathComponent("g.json"))
        try NumpyFile.write(Tensor<Double>(shape: [3, 4, 2], repeating: 1), to: dir.appendingPathComponent("wrong.npy"))
        try Data("{\"rotations\": [[1, 0]]".utf8).write(to: dir.appendingPathComponent("bad.json"))
        func message(_ args: [String]) -> String {
            do {
                var command = try BeamlineCommand.parseAsRoot(args)
                try command.run()
                return ""
            } catch { return "\(error) \(BeamlineCommand.message(for: error))" }
        }
        #expect(message(["project", "--geometry", p("g.json"), "--volume", p("wrong.npy"), "--out", p("o.npy")]).contains("--volume"))
        #expect(message(["project", "--geometry", p("bad.json"), "--volume", p("wrong.npy"), "--out", p("o.npy")]).contains("--geometry"))
        #expect(message(["project", "--geometry", p("g.json"), "--volume", p("g.json"), "--out", p("g.json")]).contains("refusing"))
        #expect(message(["reconstruct", "--geometry", p("g.json"), "--projections", p("wrong.npy"), "--method", "art",
                         "--out", p("o.npy")]).contains("--method"))
        #expect(message(["reconstruct", "--geometry", p("g.json"), "--projections", p("wrong.npy"),
                         "--out", p("o.npy")]).contains("--projections"))
        #expect(message(["reconstruct", "--geometry", p("g.json"), "--projections", p("wrong.npy"), "--max-iterations=-1",
                         "--out", p("o.npy")]).contains("--max-iterations"))
    }
}

/// PNGFile's checksums against their published check values (CRC-32 of
/// "123456789" is 0xCBF43926, ISO 3309 / PNG spec; Adler-32 of "Wikipedia"
/// is 0x11E60398, RFC 1950 example), and a multi-block image.
@Suite struct PNGFileTests {
    @Test func checksumsAndBlocks() throws {
        #expect(PNGFile.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGFile.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        // 300 × 300 pixels: 90 300 raw bytes, two stored deflate blocks.
        let data = try PNGFile.encodeGrayscale([UInt8](repeating: 7, count: 300 * 300), width: 300, height: 300)
        #expect(data.count > 90_300 && data.count < 90_400)
        #expect(throws: PNGError.pixelCountMismatch(expected: 4, received: 3)) {
            try PNGFile.encodeGrayscale([1, 2, 3], width: 2, height: 2)
        }
    }
}
