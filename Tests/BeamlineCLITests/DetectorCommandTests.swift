import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Expected answers come from calling the library on the same inputs.
@Suite struct DetectorCommandTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-detector-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    let geometry = ["--thickness", "450e-6", "--distance", "0.05", "--poni1=-0.001", "--poni2", "0.002"]

    @Test func raytraceAndDeconvolveMatchTheLibrary() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        var mask = [Double](repeating: 0, count: 256)
        mask[17] = 1
        try NumpyFile.write(Tensor(shape: [16, 16], elements: mask), to: URL(fileURLWithPath: p("mask.npy")))
        let raytrace = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--shape", "16,16", "--pixel", "172e-6", "--material", "Si", "--energy", "17.8",
             "--mask", p("mask.npy"), "--sample", "3", "--out", p("psf.npz")] + geometry) as? RaytraceCommand)
        try raytrace.run()
        let matrix = try CSRMatrix<Double>.load(contentsOf: URL(fileURLWithPath: p("psf.npz")))
        let model = try raytrace.makeModel()
        #expect(matrix == (try model.raytrace(sample: 3, as: Double.self)).matrix)
        #expect(model.detector.isMasked(row: 1, column: 1))
        let truth = Tensor<Double>((0..<256).map { $0 % 5 == 0 ? 10 : 1 })
        try NumpyFile.write(matrix.adjoint.apply(truth).reshaped([16, 16]), to: URL(fileURLWithPath: p("img.npy")))
        for method in ["lsmr", "mlem"] {
            let command = try #require(try BeamlineCommand.parseAsRoot(
                ["deconvolve", "--matrix", p("psf.npz"), "--image", p("img.npy"), "--method", method, "--iterations", "10",
                 "--out", p("x.npy")]) as? DeconvolveCommand)
            try command.run()
            let x = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("x.npy")))
            let expected = try Deconvolution.deconvolve(
                matrix: matrix, image: try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("img.npy"))),
                method: Deconvolution.Method(rawValue: method)!, lsmr: .init(maximumIterations: 10),
                mlem: .init(maximumIterations: 10)).corrected
            #expect(x == expected, "\(method)")
        }
        let exact = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--shape", "16,16", "--pixel", "172e-6", "--mu", "1537.02", "--exact", "--subpixels", "2",
             "--out", p("exact.npz")] + geometry) as? RaytraceCommand)
        try exact.run()
        #expect(try CSRMatrix<Double>.load(contentsOf: URL(fileURLWithPath: p("exact.npz"))).nonzeroCount > 256)
    }

    @Test func badArgumentsAreNamed() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.npz").path
        let base = ["raytrace", "--mu", "100", "--out", out]
        for (arguments, option) in [
            (base + ["--detector", "Pilatus7M"] + geometry, "--detector"),
            (["raytrace", "--detector", "Pilatus1M", "--mu", "100", "--out", out, "--thickness", "0", "--distance", "0.1",
              "--poni1", "0", "--poni2", "0"], "--thickness"),
            (["raytrace", "--detector", "Pilatus1M", "--mu", "100", "--out", out, "--thickness", "1e-4", "--distance=-1",
              "--poni1", "0", "--poni2", "0"], "--distance"),
            (["raytrace", "--detector", "Pilatus1M", "--material", "Si", "--energy", "0.1", "--out", out] + geometry, "--energy"),
        ] {
            let command = try #require(try BeamlineCommand.parseAsRoot(arguments) as? RaytraceCommand)
            #expect { try command.run() } throws: { "\($0)".contains(option) }
        }
        #expect(throws: (any Error).self) { try BeamlineCommand.parseAsRoot(base + geometry) }  // no detector
        #expect(throws: (any Error).self) {
            try BeamlineCommand.parseAsRoot(base + ["--detector", "Pilatus1M", "--exact", "--sample", "4"] + geometry)
        }
        #expect(throws: (any Error).self) {
            try BeamlineCommand.parseAsRoot(["deconvolve", "--matrix", "a", "--image", "b", "--method", "cg", "--out", "c"])
        }
        // A malformed list is a parse error naming the option (CommandContractTests checks the message).
        #expect(throws: (any Error).self) { try BeamlineCommand.parseAsRoot(base + ["--shape", "4,x", "--pixel", "1e-4"] + geometry) }
    }
}
