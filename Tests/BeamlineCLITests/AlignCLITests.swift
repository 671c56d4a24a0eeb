import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// The `align` commands against the library called directly on the same
/// simulated stack (SimulatedStack in BeamlineAlignment).
@Suite struct AlignCLITests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-align-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func verticalHorizontalAxisAndApply() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let sim = SimulatedStack(projections: 12, rows: 16, columns: 24, maximumShift: 1)
        try NumpyFile.write(sim.stack, to: URL(fileURLWithPath: p("stack.npy")))
        try NumpyFile.write(Tensor(shape: [12], elements: sim.angles), to: URL(fileURLWithPath: p("angles.npy")))
        let vertical = try #require(try BeamlineCommand.parseAsRoot(
            ["align", "vertical", "--stack", p("stack.npy"), "--rows", "2:14", "--max-iterations", "20", "--out", p("v.npy")])
            as? AlignVerticalCommand)
        try vertical.run()
        var optimizer = VerticalAlignment.defaultOptimizer
        optimizer.maximumIterations = 20
        let expected = try VerticalAlignment.align(sim.stack, options: .init(rows: 2..<14, optimizer: optimizer))
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("v.npy"))) == expected.shifts.shiftstack)

        let horizontal = try #require(try BeamlineCommand.parseAsRoot(
            ["align", "horizontal", "--stack", p("stack.npy"), "--angles", p("angles.npy"), "--initial", p("v.npy"),
             "--max-iterations", "5", "--out", p("h.npy")]) as? AlignHorizontalCommand)
        try horizontal.run()
        let expectedH = try HorizontalAlignment.align(sim.stack, anglesDegrees: sim.angles, initial: expected.shifts,
                                                      options: .init(optimizer: .init(maximumIterations: 5)))
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("h.npy"))) == expectedH.shifts.shiftstack)

        let axis = try #require(try BeamlineCommand.parseAsRoot(
            ["align", "axis", "--stack", p("stack.npy"), "--angles", p("angles.npy"), "--range", "2", "--out", p("a.npy"),
             "--plot", p("scan.png")]) as? AlignAxisCommand)
        try axis.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("a.npy"))).shape == [2, 12])
        // The plot is a PNG (signature, then the IHDR of a 480 × 280 image).
        let png = try Data(contentsOf: URL(fileURLWithPath: p("scan.png")))
        #expect(Array(png.prefix(8)) == [137, 80, 78, 71, 13, 10, 26, 10])
        #expect(Array(png[16..<24]) == [0, 0, 1, 224, 0, 0, 1, 24])

        let apply = try #require(try BeamlineCommand.parseAsRoot(
            ["align", "apply", "--stack", p("stack.npy"), "--shifts", p("h.npy"), "--out", p("aligned.npy")])
            as? AlignApplyCommand)
        try apply.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("aligned.npy")))
                == expectedH.shifts.apply(to: sim.stack))
    }

    @Test func badInputsAreErrorsNamingTheArgument() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let sim = SimulatedStack(projections: 6, rows: 8, columns: 12, maximumShift: 1)
        try NumpyFile.write(sim.stack, to: URL(fileURLWithPath: p("stack.npy")))
        try NumpyFile.write(Tensor(shape: [4], elements: [0.0, 1, 2, 3]), to: URL(fileURLWithPath: p("angles.npy")))
        func message(_ args: [String]) -> String {
            do {
                var command = try BeamlineCommand.parseAsRoot(args)
                try command.run()
                return "no error"
            } catch {
                return BeamlineCommand.message(for: error)
            }
        }
        #expect(message(["align", "horizontal", "--stack", p("stack.npy"), "--angles", p("angles.npy"), "--out", p("o.npy")])
            .contains("--angles"))
        #expect(message(["align", "vertical", "--stack", p("stack.npy"), "--rows", "5:2", "--out", p("o.npy")]).contains("--rows"))
        #expect(message(["align", "vertical", "--stack", p("stack.npy"), "--rows", "0:40", "--out", p("o.npy")]).contains("rows"))
        #expect(message(["align", "vertical", "--stack", p("stack.npy"), "--out", p("stack.npy")]).contains("--out"))
        #expect(message(["align", "vertical", "--stack", p("missing.npy"), "--out", p("o.npy")]).contains("--stack"))
        #expect(!FileManager.default.fileExists(atPath: p("o.npy")))
    }
}

/// `beamline align phase-matching` on a mumott DataContainer file written
/// by TensorTomographyData, against PhaseMatchingAlignment called directly.
@Suite struct AlignPhaseMatchingCLITests {
    @Test func offsetsFileMatchesTheLibrary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-pm-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 10, count = 8
        let angles = (0..<count).map { Double($0) * Double.pi / Double(count) }
        let truth = try Geometry.fromAngles(innerAngles: angles, jOffsets: (0..<count).map { Double($0 % 3) - 1 },
                                            volumeShape: [n, n, n], projectionShape: [n, n])
        let volume: Tensor<Double> = Phantom.randomEllipsoids(shape: [n, n, n], count: 4, seed: 2)
        let absorbance = try JohnTransformProjector<Double>(geometry: truth).checkedApply(volume.reshaped([n, n, n, 1]))
        let diode = Tensor(shape: [count, n, n], elements: absorbance.elements.map { pow(10, -0.2 * $0) })
        var start = try Geometry.fromAngles(innerAngles: angles, volumeShape: [n, n, n], projectionShape: [n, n])
        start.detectorAngles = [0]
        let data = try TensorTomographyData(geometry: start, data: Tensor(shape: [count, n, n, 1], repeating: 1),
                                            diode: diode)
        let file = dir.appendingPathComponent("data.h5")
        try data.write(to: file)
        let out = dir.appendingPathComponent("offsets.json").path
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["align", "phase-matching", file.path, "--max-iterations", "2", "--reconstruction-iterations", "3", "--out", out])
            as? AlignPhaseMatchingCommand)
        try command.run()
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let reread = try TensorTomographyData(contentsOf: file)
        var reconstruction = Reconstruction.Options.mitra
        reconstruction.iterations = 3
        let expected = try PhaseMatchingAlignment.align(
            absorbances: try reread.absorbances().reshaped([count, n, n]), weights: Tensor(shape: [count, n, n], repeating: 1),
            geometry: reread.geometry, options: .init(reconstruction: reconstruction, maximumIterations: 2))
        #expect(written?["j_offsets"] as? [Double] == expected.geometry.jOffsets)
        #expect(written?["k_offsets"] as? [Double] == expected.geometry.kOffsets)
        #expect((written?["j_offsets_history"] as? [[Double]])?.count == expected.iterations)
        // Bad input: every projection ignored, and the data file as output.
        for (args, name) in [(["--ignore", "0,1,2,3,4,5,6,7", "--out", dir.appendingPathComponent("x.json").path], "ignoredSubset"),
                             (["--out", file.path], "--out")] {
            do {
                var bad = try BeamlineCommand.parseAsRoot(["align", "phase-matching", file.path] + args)
                try bad.run()
                Issue.record("no error for \(args)")
            } catch {
                #expect(BeamlineCommand.message(for: error).contains(name), "\(BeamlineCommand.message(for: error))")
            }
        }
    }
}
