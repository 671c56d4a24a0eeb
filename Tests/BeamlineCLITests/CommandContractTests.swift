import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// What every numerical command shares: the one iteration flag and its
/// aliases, the typed JSON keys, enum options that name themselves in
/// errors, and Ctrl-C (exit status 130, no output file).
@Suite struct CommandContractTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-contract-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small sparse system and a tomography set-up on disk.
    func inputs(in dir: URL) throws -> (String) -> String {
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let a = try CSRMatrix<Double>(dense: Tensor(shape: [4, 3], elements: [2, 0, 1, 0, 3, 0, 1, 1, 0, 0, 0.5, 4]))
        try a.save(to: URL(fileURLWithPath: p("A.npz")))
        try NumpyFile.write(Tensor<Double>([1, 2, 3, 4]), to: URL(fileURLWithPath: p("b.npy")))
        let geometry = try Geometry.fromAngles(innerAngles: (0..<6).map { Double($0) * .pi / 6 },
                                               volumeShape: [6, 6, 2], projectionShape: [6, 2])
        try geometry.write(to: URL(fileURLWithPath: p("g.json")))
        let projector = try JohnTransformProjector<Double>(geometry: geometry)
        let volume: Tensor<Double> = Phantom.randomEllipsoids(shape: [6, 6, 2], count: 2, seed: 3)
        try NumpyFile.write(try projector.checkedApply(volume), to: URL(fileURLWithPath: p("proj.npy")))
        return p
    }

    @Test func oneIterationFlagWithTheOldSpellingsAsAliases() throws {
        for flag in ["--max-iterations", "--iterations", "--maxiter"] {
            let lsmr = try #require(try BeamlineCommand.parseAsRoot(["lsmr", "--matrix", "a", "--rhs", "b", "--out", "c", flag, "7"])
                                    as? LSMRCommand)
            #expect(lsmr.maxIterations == 7, "lsmr \(flag)")
            let mlem = try #require(try BeamlineCommand.parseAsRoot(["mlem", "--matrix", "a", "--data", "b", "--out", "c", flag, "7"])
                                    as? MLEMCommand)
            #expect(mlem.maxIterations == 7, "mlem \(flag)")
            let rec = try #require(try BeamlineCommand.parseAsRoot(
                ["reconstruct", "--geometry", "g", "--projections", "p", "--out", "o", flag, "7"]) as? ReconstructCommand)
            #expect(rec.maxIterations == 7, "reconstruct \(flag)")
            let dec = try #require(try BeamlineCommand.parseAsRoot(
                ["deconvolve", "--matrix", "a", "--image", "b", "--out", "c", flag, "7"]) as? DeconvolveCommand)
            #expect(dec.maxIterations == 7, "deconvolve \(flag)")
        }
    }

    @Test func enumOptionsRejectUnknownValuesNamingTheFlag() {
        for (arguments, flag) in [
            (["reconstruct", "--geometry", "g", "--projections", "p", "--out", "o", "--method", "art"], "--method"),
            (["reconstruct", "--geometry", "g", "--projections", "p", "--out", "o", "--filter", "gauss"], "--filter"),
            (["deconvolve", "--matrix", "a", "--image", "b", "--out", "c", "--method", "cg"], "--method"),
            (["raytrace", "--detector", "Pilatus1M", "--thickness", "1e-3", "--mu", "100", "--distance", "0.1",
              "--poni1", "0", "--poni2", "0", "--coefficient", "photo", "--out", "o.npz"], "--coefficient"),
            (["raytrace", "--shape", "10,x", "--pixel", "1e-4", "--thickness", "1e-3", "--mu", "100", "--distance", "0.1",
              "--poni1", "0", "--poni2", "0", "--out", "o.npz"], "--shape"),
            (["project", "--geometry", "g", "--adjoint", "--volume", "p.npy", "--out", "o.npy"], "--projections"),
            (["project", "--geometry", "g", "--projections", "p.npy", "--out", "o.npy"], "--volume"),
        ] {
            do {
                _ = try BeamlineCommand.parseAsRoot(arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                let message = BeamlineCommand.message(for: error)
                #expect(message.contains(flag), "\(arguments): \(message)")
            }
        }
        // Help lists the values of an enum option.
        let help = ReconstructCommand.helpMessage()
        #expect(help.contains("sirt") && help.contains("mitra") && help.contains("shepp-logan"), "\(help)")
        // A list option's default reads as it is typed.
        let cbcHelp = CBCScaleCommand.helpMessage(columns: 200)
        #expect(cbcHelp.contains("(default: 32,32)") && !cbcHelp.contains("NumberList"), "\(cbcHelp)")
    }

    /// Every command's JSON line has the common keys, and the iterative ones
    /// the same three iteration keys, whatever their own keys.
    @Test func summariesShareTheirKeys() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try inputs(in: dir)
        func keys<R: Encodable>(_ command: String, _ report: R) throws -> Set<String> {
            let encoder = JSONEncoder()
            let data = try encoder.encode(CommandSummary(command: command, seconds: 0.5, threads: 2, report: report))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["command"] as? String == command)
            #expect(object["threads"] as? Int == 2)
            return Set(object.keys)
        }
        let common: Set<String> = ["command", "seconds", "threads"]
        let iterative: Set<String> = common.union(["iterations", "stop_reason", "residual_norm"])
        let lsmr = try #require(try BeamlineCommand.parseAsRoot(["lsmr", "--matrix", p("A.npz"), "--rhs", p("b.npy"),
                                                                 "--out", p("x.npy")]) as? LSMRCommand)
        #expect(try keys("lsmr", lsmr.execute()).isSuperset(of: iterative.union(["istop", "normar", "conda"])))
        let mlem = try #require(try BeamlineCommand.parseAsRoot(["mlem", "--matrix", p("A.npz"), "--data", p("b.npy"),
                                                                 "--out", p("y.npy")]) as? MLEMCommand)
        #expect(try keys("mlem", mlem.execute()).isSuperset(of: iterative))
        let rec = try #require(try BeamlineCommand.parseAsRoot(["reconstruct", "--geometry", p("g.json"), "--projections",
                                                                p("proj.npy"), "--max-iterations", "3", "--out", p("v.npy")])
                               as? ReconstructCommand)
        let report = try rec.execute()
        #expect(report.first.iterations == 3 && report.first.stopReason == "iteration_limit")
        #expect(try keys("reconstruct", report).isSuperset(of: iterative))
        let project = try #require(try BeamlineCommand.parseAsRoot(["project", "--geometry", p("g.json"), "--adjoint",
                                                                    "--projections", p("proj.npy"), "--out", p("bp.npy")])
                                   as? ProjectCommand)
        #expect(try keys("project", project.execute()).isSuperset(of: common.union(["ray_samples", "input"])))
        // (N, J, K, 1) projections back-project to an (X, Y, Z, 1) volume.
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("bp.npy"))).shape == [6, 6, 2, 1])
    }

    /// Ctrl-C (simulated on this thread only, so other suites' commands are
    /// not stopped): the solve stops at its next progress report, the
    /// command exits with status 130 and writes no output file.
    @Test func interruptStopsWithStatus130AndWritesNothing() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try inputs(in: dir)
        for arguments in [
            ["lsmr", "--matrix", p("A.npz"), "--rhs", p("b.npy"), "--out", p("out-lsmr.npy")],
            ["mlem", "--matrix", p("A.npz"), "--data", p("b.npy"), "--out", p("out-mlem.npy")],
            ["reconstruct", "--geometry", p("g.json"), "--projections", p("proj.npy"), "--out", p("out-sirt.npy")],
            ["reconstruct", "--geometry", p("g.json"), "--projections", p("proj.npy"), "--method", "cgls",
             "--out", p("out-cgls.npy")],
            ["project", "--geometry", p("g.json"), "--adjoint", "--projections", p("proj.npy"), "--out", p("out-bp.npy")],
        ] {
            var command = try BeamlineCommand.parseAsRoot(arguments)
            do {
                try Interrupt.simulate { try command.run() }
                Issue.record("\(arguments[0]) finished although interrupted")
            } catch let exit as ExitCode {
                #expect(exit.rawValue == 130, "\(arguments[0])")
            }
            #expect(!FileManager.default.fileExists(atPath: arguments[arguments.count - 1]), "\(arguments[0]) wrote its output")
        }
        // Without the interrupt the same command writes its output.
        var command = try BeamlineCommand.parseAsRoot(["mlem", "--matrix", p("A.npz"), "--data", p("b.npy"),
                                                       "--out", p("out-mlem.npy")])
        try command.run()
        #expect(FileManager.default.fileExists(atPath: p("out-mlem.npy")))
    }
}
