import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Inputs are built here (a small well-posed sparse system); the expected
/// answers come from calling the library solvers directly on the same data.
@Suite struct SolverCommandTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-solver-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func system(in dir: URL) throws -> (CSRMatrix<Double>, Tensor<Double>) {
        let a = try CSRMatrix<Double>(dense: Tensor(shape: [4, 3], elements: [2, 0, 1, 0, 3, 0, 1, 1, 0, 0, 0.5, 4]))
        let b = Tensor<Double>([1, 2, 3, 4])
        try a.save(to: dir.appendingPathComponent("A.npz"))
        try NumpyFile.write(b, to: dir.appendingPathComponent("b.npy"))
        return (a, b)
    }

    @Test func lsmrWritesTheLibrarySolution() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (a, b) = try system(in: dir)
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["lsmr", "--matrix", p("A.npz"), "--rhs", p("b.npy"), "--out", p("x.npy"), "--atol", "1e-10", "--btol", "1e-10"])
            as? LSMRCommand)
        try command.run()
        let x = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("x.npy")))
        let expected = try LSMR.solve(a, rhs: b, configuration: .init(atol: 1e-10, btol: 1e-10)).solution
        #expect(x == expected)
        // --transpose solves Aᵀ x = c with c of length 3.
        try NumpyFile.write(Tensor<Double>([1, 0, 2]), to: dir.appendingPathComponent("c.npy"))
        let transposed = try #require(try BeamlineCommand.parseAsRoot(
            ["lsmr", "--matrix", p("A.npz"), "--rhs", p("c.npy"), "--out", p("y.npy"), "--transpose", "--maxiter", "10"])
            as? LSMRCommand)
        try transposed.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("y.npy"))).shape == [4])
    }

    @Test func mlemWritesANonNegativeReconstruction() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (a, _) = try system(in: dir)
        try NumpyFile.write(Tensor<Double>([3, 6, 2, 9]), to: dir.appendingPathComponent("y.npy"))
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["mlem", "--matrix", p("A.npz"), "--data", p("y.npy"), "--out", p("x.npy"), "--iterations", "20"]) as? MLEMCommand)
        try command.run()
        let x = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: p("x.npy")))
        #expect(x == (try MLEM.solve(a, data: Tensor([3.0, 6, 2, 9]), configuration: .init(maximumIterations: 20)).solution))
        #expect(x.elements.allSatisfy { $0 >= 0 })
    }

    @Test func inputsAreNeverOverwrittenAndFileErrorsNameThePath() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try system(in: dir)
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let before = try Data(contentsOf: URL(fileURLWithPath: p("b.npy")))
        for out in [p("b.npy"), dir.appendingPathComponent("./b.npy").path, p("A.npz")] {
            let command = try #require(try BeamlineCommand.parseAsRoot(
                ["lsmr", "--matrix", p("A.npz"), "--rhs", p("b.npy"), "--out", out]) as? LSMRCommand)
            #expect(throws: CommandError.self) { try command.run() }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: p("b.npy"))) == before)
        func message(_ arguments: [String]) throws -> String {
            var command = try BeamlineCommand.parseAsRoot(arguments)
            do { try command.run(); return "" } catch { return "\(error)" }
        }
        let missing = try message(["lsmr", "--matrix", p("none.npz"), "--rhs", p("b.npy"), "--out", p("x.npy")])
        #expect(missing.contains(p("none.npz")) && missing.contains("--matrix"))
        let wrongLength = try message(["mlem", "--matrix", p("A.npz"), "--data", p("b.npy"), "--out", p("x.npy"),
                                       "--iterations", "1"])
        #expect(wrongLength.isEmpty)  // 4 counts for 4 rows: fine
        try NumpyFile.write(Tensor<Double>([1, 2]), to: dir.appendingPathComponent("short.npy"))
        let short = try message(["lsmr", "--matrix", p("A.npz"), "--rhs", p("short.npy"), "--out", p("x.npy")])
        #expect(short.contains("short.npy") && short.contains("[4]"))
        let notSparse = try message(["lsmr", "--matrix", p("b.npy"), "--rhs", p("b.npy"), "--out", p("x.npy")])
        #expect(notSparse.contains("b.npy"))
        #expect(throws: (any Error).self) { _ = try BeamlineCommand.parseAsRoot(["lsmr", "--matrix", "a", "--rhs", "b", "--out", "c", "--damp", "-1"]) }
        #expect(throws: (any Error).self) { _ = try BeamlineCommand.parseAsRoot(["mlem", "--matrix", "a", "--data", "b", "--out", "c", "--iterations", "-3"]) }
    }

    /// An output in a missing folder (or a read-only one, when not root) is
    /// refused before the solver runs, in one line naming --out and the
    /// folder, with a command-error exit status.
    @Test func outputInAMissingFolderIsNamed() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try system(in: dir)
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        let missingFolder = p("no/such")
        for command in ["lsmr", "mlem"] {
            let dataFlag = command == "lsmr" ? "--rhs" : "--data"
            var parsed = try BeamlineCommand.parseAsRoot(
                [command, "--matrix", p("A.npz"), dataFlag, p("b.npy"), "--out", missingFolder + "/x.npy"])
            do {
                try parsed.run()
                Issue.record("\(command) wrote into a missing folder")
            } catch {
                let message = BeamlineCommand.message(for: error)
                #expect(message.hasSuffix("--out \(missingFolder)/x.npy: the folder \(missingFolder) does not exist"), "\(message)")
                #expect(!message.contains("\n"))
                #expect(BeamlineCommand.exitCode(for: error) == ExitCode(1))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: missingFolder))
        guard getuid() != 0 else { return }   // root may write into read-only folders
        let readOnly = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: false)
        chmod(readOnly.path, 0o555)
        defer { chmod(readOnly.path, 0o755) }
        var parsed = try BeamlineCommand.parseAsRoot(
            ["lsmr", "--matrix", p("A.npz"), "--rhs", p("b.npy"), "--out", readOnly.path + "/x.npy"])
        #expect { try parsed.run() } throws: { "\($0)".contains("is not writable") }
    }
}
