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
    /// pyFAI's masks are int8 (`|i1`, the thick-detector notebook's); uint16 masks are common too.
    @Test func integerMasks() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        var flags = [Int8](repeating: 0, count: 256)
        flags[17] = 1
        flags[200] = -1
        try NumpyFile.write(Tensor(shape: [16, 16], elements: flags), to: URL(fileURLWithPath: p("mask_i1.npy")))
        try NumpyFile.write(Tensor(shape: [16, 16], elements: flags.map { $0 == 0 ? UInt16(0) : 65535 }),
                            to: URL(fileURLWithPath: p("mask_u2.npy")))
        let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: p("mask_i1.npy"))).prefix(64), as: UTF8.self)
        #expect(header.contains("'descr': '|i1'"))
        for file in ["mask_i1.npy", "mask_u2.npy"] {
            let raytrace = try #require(try BeamlineCommand.parseAsRoot(
                ["raytrace", "--shape", "16,16", "--pixel", "172e-6", "--mu", "1537.02", "--mask", p(file), "--exact",
                 "--out", p("psf.npz")] + geometry) as? RaytraceCommand)
            try raytrace.run()
            let model = try raytrace.makeModel()
            #expect(model.detector.isMasked(row: 1, column: 1) && model.detector.isMasked(row: 12, column: 8), "\(file)")
            #expect(model.detector.mask.elements.filter { $0 }.count == 2, "\(file)")
            let deconvolve = try #require(try BeamlineCommand.parseAsRoot(
                ["deconvolve", "--matrix", p("psf.npz"), "--image", p(file), "--mask", p(file), "--iterations", "2",
                 "--out", p("x.npy")]) as? DeconvolveCommand)
            try deconvolve.run()
        }
        // A complex "mask" is refused, naming the option.
        try NumpyFile.write(Tensor<Complex<Double>>(shape: [16, 16], repeating: .one), to: URL(fileURLWithPath: p("c.npy")))
        let bad = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--shape", "16,16", "--pixel", "172e-6", "--mu", "100", "--mask", p("c.npy"), "--out", p("o.npz")]
                + geometry) as? RaytraceCommand)
        #expect { try bad.run() } throws: { "\($0)".contains("--mask") && "\($0)".contains("complex128") }
    }

    /// `--poni` fills detector, geometry and (for --material) the energy; flags override it.
    @Test func poniFile() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        // What pyFAI 2026 writes for Geometry(...).save() with a generic 16x16 detector.
        let poni = """
            # Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
            # Calibration done on Thu Dec  3 12:00:00 2026
            poni_version: 2.1
            Detector: Detector
            Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172, "orientation": 3, "max_shape": [16, 16]}
            Distance: 0.05
            Poni1: -0.001
            Poni2: 0.002
            Rot1: 0.01
            Rot2: 0
            Rot3: 0
            Wavelength: 6.965404406359566e-11

            """
        try poni.write(toFile: p("calib.poni"), atomically: true, encoding: .utf8)
        let fromFile = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--poni", p("calib.poni"), "--thickness", "450e-6", "--material", "Si", "--sample", "2",
             "--out", p("a.npz")]) as? RaytraceCommand)
        let fromFlags = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--shape", "16,16", "--pixel", "172e-6", "--material", "Si", "--energy", "17.8", "--sample", "2",
             "--rot1", "0.01", "--out", p("b.npz")] + geometry) as? RaytraceCommand)
        let a = try fromFile.makeModel(), b = try fromFlags.makeModel()
        #expect(a.detector == b.detector)
        #expect(a.geometry == b.geometry)
        #expect(abs(a.sensor.mu - b.sensor.mu) < 1e-9 * b.sensor.mu)  // 12.398419843320026 keV·Å / 0.6965 Å = 17.8 keV
        try fromFile.run()
        #expect(try CSRMatrix<Double>.load(contentsOf: URL(fileURLWithPath: p("a.npz"))).nonzeroCount > 0)

        // Flags override the file: distance, a rotation, the detector.
        let overridden = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--poni", p("calib.poni"), "--thickness", "450e-6", "--mu", "100", "--distance", "0.07",
             "--rot1", "0", "--shape", "8,8", "--pixel", "100e-6", "--out", p("c.npz")]) as? RaytraceCommand)
        let c = try overridden.makeModel()
        #expect(c.geometry == (try PONIGeometry(distance: 0.07, poni1: -0.001, poni2: 0.002)))
        #expect(c.detector.shape == [8, 8] && c.detector.pixelSize1 == 100e-6)

        // Without --poni the geometry flags are required; a bad file names --poni and the key.
        #expect(throws: (any Error).self) {
            try BeamlineCommand.parseAsRoot(["raytrace", "--detector", "Pilatus1M", "--thickness", "1e-4", "--mu", "1",
                                             "--out", p("d.npz")])
        }
        try poni.replacingOccurrences(of: "Poni2: 0.002\n", with: "").write(toFile: p("bad.poni"), atomically: true, encoding: .utf8)
        let bad = try #require(try BeamlineCommand.parseAsRoot(
            ["raytrace", "--poni", p("bad.poni"), "--thickness", "450e-6", "--mu", "100", "--out", p("e.npz")]) as? RaytraceCommand)
        #expect { try bad.run() } throws: { "\($0)" == "--poni: \(p("bad.poni")): missing key 'Poni2'" }
        #expect(!FileManager.default.fileExists(atPath: p("e.npz")))

        // A bad distance in the file names the file; --distance replaces it.
        try poni.replacingOccurrences(of: "Distance: 0.05", with: "Distance: -1")
            .write(toFile: p("behind.poni"), atomically: true, encoding: .utf8)
        let behind = ["raytrace", "--poni", p("behind.poni"), "--thickness", "450e-6", "--mu", "100", "--exact",
                      "--out", p("f.npz")]
        let fromBadFile = try #require(try BeamlineCommand.parseAsRoot(behind) as? RaytraceCommand)
        #expect { try fromBadFile.run() } throws: { "\($0)".hasPrefix("--poni \(p("behind.poni")): distance:") }
        let fixed = try #require(try BeamlineCommand.parseAsRoot(behind + ["--distance", "0.05"]) as? RaytraceCommand)
        #expect(try fixed.makeModel().geometry.distance == 0.05)
    }
}
