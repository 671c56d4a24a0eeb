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
            ["align", "axis", "--stack", p("stack.npy"), "--angles", p("angles.npy"), "--range", "2", "--out", p("a.npy")])
            as? AlignAxisCommand)
        try axis.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("a.npy"))).shape == [2, 12])

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
