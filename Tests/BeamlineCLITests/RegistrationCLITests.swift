import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

@Suite struct RegistrationCLITests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-reg-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func registerPrintsShiftErrorAndPhase() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = Tensor<Double>.normal([32, 40], seed: 5)
        let b = try SubpixelShift.fourier(a, by: [3, -4])   // moving(x) = reference(x − s) → shift −s
        try NumpyFile.write(a, to: dir.appendingPathComponent("a.npy"))
        try NumpyFile.write(b, to: dir.appendingPathComponent("b.npy"))
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["register", dir.appendingPathComponent("a.npy").path, dir.appendingPathComponent("b.npy").path,
             "--upsample", "10"]) as? RegisterCommand)
        let report = try command.result()
        #expect(report.shift == [-3, 4])
        #expect(report.normalizedError.map { $0 < 1e-6 } == true)
        #expect(report.phasediff != nil && report.error != nil)
    }

    @Test func shiftWritesAtomicallyAndRefusesTheInputPath() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = Tensor<Float>(unsafeUninitializedShape: [8, 9]) { b in for i in 0..<72 { b[i] = Float(i % 7) } }
        let input = dir.appendingPathComponent("a.npy"), output = dir.appendingPathComponent("out.npy")
        try NumpyFile.write(a, to: input)
        var command = try #require(try BeamlineCommand.parseAsRoot(
            ["shift", input.path, "--by", "-1,2", "--method", "linear", "--out", output.path]) as? ShiftCommand)
        try command.run()
        let shifted = try NumpyFile.read(Float.self, from: output)
        #expect(shifted == (try SubpixelShift.linear(a, by: [-1, 2])))
        command = try #require(try BeamlineCommand.parseAsRoot(
            ["shift", input.path, "--by", "1,1", "--out", input.path]) as? ShiftCommand)
        #expect(throws: CommandError.self) { try command.run() }
    }

    @Test func badArgumentsNameTheArgument() {
        for (arguments, fragment) in [
            (["register", "a.npy", "b.npy", "--upsample", "0"], "--upsample"),
            (["register", "a.npy", "b.npy", "--moving-mask", "m.npy"], "--reference-mask"),
            (["register", "a.npy", "b.npy", "--overlap-ratio", "2"], "--overlap-ratio"),
            (["register", "a.npy", "b.npy", "--normalization", "unit"], "--normalization"),
            (["register", "a.npy", "b.npy", "--space", "k"], "--space"),
            (["shift", "a.npy", "--by", "1,x", "--out", "o.npy"], "--by"),
            (["shift", "a.npy", "--by", "1,2", "--method", "cubic", "--out", "o.npy"], "--method"),
            (["shift", "a.npy", "--by", "1,2", "--mode", "bogus", "--out", "o.npy"], "--mode"),
            (["shift", "a.npy", "--by", "1,2"], "--out"),
        ] {
            do {
                _ = try BeamlineCommand.parseAsRoot(arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                let message = BeamlineCommand.message(for: error)
                #expect(message.contains(fragment), "\(arguments): \(message)")
            }
        }
    }

    @Test func missingFilesAndBadMasksAreCommandErrors() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = Tensor<Double>.normal([16, 16], seed: 1)
        let path = dir.appendingPathComponent("a.npy").path
        try NumpyFile.write(a, to: URL(fileURLWithPath: path))
        try NumpyFile.write(Tensor<Bool>(shape: [4, 4], repeating: true), to: dir.appendingPathComponent("m.npy"))
        let missing = try #require(try BeamlineCommand.parseAsRoot(["register", path, dir.appendingPathComponent("x.npy").path])
                                   as? RegisterCommand)
        #expect(throws: CommandError.self) { try missing.result() }
        let wrongMask = try #require(try BeamlineCommand.parseAsRoot(
            ["register", path, path, "--reference-mask", dir.appendingPathComponent("m.npy").path]) as? RegisterCommand)
        #expect(throws: CommandError.self) { try wrongMask.result() }
    }
}
