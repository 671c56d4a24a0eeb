import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

@Suite struct CLIParsingTests {
    @Test func versionAndSubcommandsParse() throws {
        #expect(BeamlineCommand.configuration.version == BeamlineVersion.string)
        let command = try BeamlineCommand.parseAsRoot(["demo", "--size", "64", "--output", "/tmp/x"])
        #expect(command is DemoCommand)
        #expect(try BeamlineCommand.parseAsRoot(["info", "--json"]) is InfoCommand)
    }

    @Test func badArgumentsGiveMessagesNamingTheArgument() {
        for (arguments, fragment) in [
            (["demo", "--size", "3"], "--size"),
            (["demo", "--sigma", "-1"], "--sigma"),
            (["demo", "--noise", "nan"], "--noise"),
            (["demo", "--threads", "0"], "--threads"),
            (["demo", "--size", "abc"], "--size"),
            (["nonsense"], "nonsense"),
        ] {
            do {
                _ = try BeamlineCommand.parseAsRoot(arguments)
                Issue.record("\(arguments) parsed")
            } catch {
                let message = BeamlineCommand.message(for: error)
                #expect(message.contains(fragment), "\(arguments): \(message)")
                #expect(BeamlineCommand.exitCode(for: error) != .success)
            }
        }
    }
}

@Suite struct DemoTests {
    @Test func demoWritesImagesAndFilteringReducesTheError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A small tomography part keeps the debug-build test fast.
        let command = try #require(try BeamlineCommand.parseAsRoot(["demo", "--size", "64", "--output", folder.path,
                                                                    "--tomography-size", "12", "--tomography-iterations", "5",
                                                                    "--detector", "Pilatus100k"])
                                   as? DemoCommand)
        try command.run()
        let clean = try NumpyFile.read(Double.self, from: folder.appendingPathComponent("clean.npy"))
        let noisy = try NumpyFile.read(Double.self, from: folder.appendingPathComponent("noisy.npy"))
        let filtered = try NumpyFile.read(Double.self, from: folder.appendingPathComponent("filtered.npy"))
        #expect(clean.shape == [64, 64] && filtered.shape == [64, 64])
        // A Gaussian low-pass of σ = 2 px keeps about 1/(8πσ²) ≈ 1% of white noise power; with the
        // blur of the edges the error still falls at least 2× (measured 3.5× at this size).
        #expect((filtered - clean).norm() * 2 < (noisy - clean).norm())
        // Tomography part: a PNG preview (signature; 12 × 26 enlarged 20× to 240 × 520, viridis RGB)
        // and the SIRT volume.
        let png = try Data(contentsOf: folder.appendingPathComponent("tomography_slice.png"))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[16..<24]) == [0, 0, 0x02, 0x08, 0, 0, 0, 240])
        #expect(png[24] == 8 && png[25] == 2)
        let volume = try NumpyFile.read(Float.self, from: folder.appendingPathComponent("tomography_sirt.npy"))
        #expect(volume.shape == [12, 12, 12, 1])
    }

    @Test func demoRejectsAnUnknownDetectorNamingTheArgument() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["demo", "--size", "16", "--output", folder.path, "--tomography-size", "0", "--detector", "Pilatus9000"])
            as? DemoCommand)
        do {
            try command.run()
            Issue.record("an unknown detector was accepted")
        } catch let error as CommandError {
            #expect(error.description.contains("--detector Pilatus9000"))
        }
    }

    @Test func demoRefusesAFileAsOutputFolder() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-not-a-folder-\(UUID())")
        try Data("keep me".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let command = try #require(try BeamlineCommand.parseAsRoot(["demo", "--size", "16", "--output", file.path])
                                   as? DemoCommand)
        #expect(throws: CommandError.self) { try command.run() }
        #expect(try Data(contentsOf: file) == Data("keep me".utf8))
    }

    @Test func gaussianFilterOfAConstantIsTheConstant() throws {
        // The transfer function is 1 at zero frequency, so a constant image passes unchanged
        // (to FFT rounding: 1e-15 relative for 32×48 points).
        let constant = Tensor<Double>.full([32, 48], 3.5)
        let filtered = try DemoData.gaussianLowPass(constant, sigma: 3)
        #expect((filtered - constant).norm(order: .infinity) < 1e-13)
    }
}
