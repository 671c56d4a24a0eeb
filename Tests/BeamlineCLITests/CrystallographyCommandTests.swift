import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Expected answers come from calling the library on the same inputs.
@Suite struct CrystallographyCommandTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-cbc-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func cbcScaleWritesTheLibrarysMergedStructureFactorsAndMaps() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sim = try CBCSimulation(.init(frames: 2, streaksPerFrame: 30, symmetry: .mmm, seed: 21))
        let tableURL = dir.appendingPathComponent("table.npz")
        try sim.table.write(to: tableURL)
        let out = dir.appendingPathComponent("sfac.hkl"), maps = dir.appendingPathComponent("maps.h5")
        var command = try BeamlineCommand.parseAsRoot(["cbc-scale", tableURL.path, "--symmetry", "mmm", "--bandwidth", "0.2",
                                                       "--iterations", "3", "--grid", "16,16", "--out", out.path,
                                                       "--maps", maps.path, "--threads", "1"])
        try command.run()
        let scaler = try IntensityScaler(table: sim.table, gridShape: (16, 16), symmetry: .mmm)
        let expected = try Parallel.withThreadCount(1) { () throws(CrystallographyError) in
            try scaler.train(ScalingConfiguration(bandwidth: 0.2, rounds: 3))
        }
        let merged = try expected.scaler.mergedReflections(expected.x, symmetry: .mmm).normalisedBySigma
        #expect(try String(contentsOf: out, encoding: .utf8) == HKLFile.text(merged))
        #expect(try ProjectionMaps.read(from: maps) == expected.scaler.maps)
    }

    @Test func cbcScaleInterruptWritesNothingAndBadInputIsRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sim = try CBCSimulation(.init(frames: 1, streaksPerFrame: 10, symmetry: .mmm, seed: 22))
        let tableURL = dir.appendingPathComponent("table.h5")
        try sim.table.write(to: tableURL)
        let out = dir.appendingPathComponent("sfac.hkl")
        var command = try BeamlineCommand.parseAsRoot(["cbc-scale", tableURL.path, "--bandwidth", "0.2", "--out", out.path])
        do {
            try Interrupt.simulate { try command.run() }
            Issue.record("cbc-scale finished although interrupted")
        } catch let exit as ExitCode {
            #expect(exit.rawValue == 130)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        for arguments in [
            ["cbc-scale", tableURL.path, "--bandwidth", "0", "--out", out.path],
            ["cbc-scale", tableURL.path, "--bandwidth", "0.2", "--symmetry", "6mm", "--out", out.path],
            ["cbc-scale", tableURL.path, "--bandwidth", "0.2", "--loss", "cauchy", "--out", out.path],
            ["cbc-scale", tableURL.path, "--bandwidth", "0.2", "--grid", "0,4", "--out", out.path],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try BeamlineCommand.parseAsRoot(arguments) }
        }
        var missing = try BeamlineCommand.parseAsRoot(["cbc-scale", dir.appendingPathComponent("none.npz").path,
                                                       "--bandwidth", "0.2", "--out", out.path])
        #expect(throws: CommandError.self) { try missing.run() }
    }
}
