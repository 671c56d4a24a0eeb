import ArgumentParser
import Beamline
@testable import BeamlineCLI
import Foundation
import Testing

/// Inputs are built here; the expected coefficients come from calling the
/// library (TensorReconstruction) on the same data.
@Suite struct TensorTomographyCLITests {
    func dataSet(_ dir: URL) throws -> (URL, TensorTomographyData) {
        var g = try Geometry.fromAngles(innerAngles: (0..<8).map { Double($0) * .pi / 4 }, outerAngles: (0..<8).map { Double($0 % 2) * 0.3 },
                                        volumeShape: [5, 5, 4], projectionShape: [6, 5])
        g.detectorAngles = (0..<6).map { Double($0) * .pi / 6 }
        var values = [Double](repeating: 0, count: 1440)
        for i in values.indices { values[i] = Double((i * 7919) % 101) / 50 }
        let data = Tensor<Double>(shape: [8, 6, 5, 6], elements: values)
        let diode = Tensor<Double>(shape: [8, 6, 5], repeating: 0.5)
        let set = try TensorTomographyData(geometry: g, data: data, diode: diode)
        let url = dir.appendingPathComponent("data.h5")
        try set.write(to: url)
        return (url, set)
    }

    @Test func reconstructsAsTheLibraryDoes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tt-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, set) = try dataSet(dir)
        for pipeline in TensorPipeline.allCases {
            let out = dir.appendingPathComponent("c-\(pipeline.rawValue).h5").path
            let command = try #require(try BeamlineCommand.parseAsRoot(
                ["tensor-reconstruct", url.path, "--ell-max", "2", "--pipeline", pipeline.rawValue, "--iterations", "3", "--out", out])
                as? TensorReconstructCommand)
            try command.run()
            let file = try HDF5File(contentsOf: URL(fileURLWithPath: out))
            let c = try file.read(Double.self, from: "/coefficients")
            #expect(c.shape == [5, 5, 4, 6])
            #expect(try file.read(Double.self, from: "/main_orientation").shape == [5, 5, 4, 3])
            try file.close()
            if pipeline == .mitra {
                let calc = try GradientResidualCalculator<Double, SphericalHarmonics>(
                    geometry: set.geometry, basisSet: try SphericalHarmonics(ellMax: 2), data: try set.correctedForTransmission(),
                    weights: set.weights)
                let expected = try TensorReconstruction.run(.mitra, calculator: calc, options: .init(iterations: 3))
                #expect(c.elements == expected.coefficients.elements)
            }
        }
        let npy = dir.appendingPathComponent("c.npy").path
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["tensor-reconstruct", url.path, "--ell-max", "2", "--iterations", "2", "--float32", "--out", npy]) as? TensorReconstructCommand)
        try command.run()
        #expect(try NumpyFile.read(Double.self, from: URL(fileURLWithPath: npy)).shape == [5, 5, 4, 6])
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("c.main_orientation.npy").path))
    }

    /// `--basis nn --directions FILE.npy`: the same coefficients as the
    /// library's MITRA with ``NearestNeighbor`` on those directions, and
    /// the orientation maps written beside them.
    @Test func nearestNeighborBasis() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tt-cli-nn-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, set) = try dataSet(dir)
        let values: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, -1, 0, 0, 1, 1]
        let directions = Tensor<Double>(shape: [6, 3], elements: values)
        let directionsFile = dir.appendingPathComponent("directions.npy")
        try NumpyFile.write(directions, to: directionsFile)
        let out = dir.appendingPathComponent("nn.h5").path
        let command = try #require(try BeamlineCommand.parseAsRoot(
            ["tensor-reconstruct", url.path, "--basis", "nn", "--directions", directionsFile.path, "--iterations", "3", "--out", out])
            as? TensorReconstructCommand)
        try command.run()
        let file = try HDF5File(contentsOf: URL(fileURLWithPath: out))
        let c = try file.read(Double.self, from: "/coefficients")
        #expect(try file.read(Double.self, from: "/eigenvalues").shape == [5, 5, 4, 3])
        try file.close()
        let nn = try NearestNeighbor(directions: (0..<6).map { SIMD3(values[3 * $0], values[3 * $0 + 1], values[3 * $0 + 2]) })
        let calc = try GradientResidualCalculator<Double, NearestNeighbor>(
            geometry: set.geometry, basisSet: nn, data: try set.correctedForTransmission(), weights: set.weights)
        let expected = try TensorReconstruction.run(.mitra, calculator: calc, options: .init(iterations: 3))
        #expect(c.shape == [5, 5, 4, 6])
        #expect(c.elements == expected.coefficients.elements)
    }

    /// `tensor-fbp`: the volume the library's filteredBackProjection gives
    /// on the same file (a diode that varies, so the volume is not zero),
    /// written as (X, Y, Z); bad options name themselves.
    @Test func filteredBackProjection() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tt-cli-fbp-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, base) = try dataSet(dir)
        var diodeValues = [Double](repeating: 0, count: 240)
        for i in 0..<240 { diodeValues[i] = 0.3 + 0.6 * Double((i * 37) % 23) / 23 }
        let diode = Tensor<Double>(shape: [8, 6, 5], elements: diodeValues)
        let set = try TensorTomographyData(geometry: base.geometry, data: base.data, diode: diode)
        let url = dir.appendingPathComponent("fbp.h5")
        try set.write(to: url)
        let out = dir.appendingPathComponent("volume.npy").path
        let command = try #require(try BeamlineCommand.parseAsRoot(["tensor-fbp", url.path, "--filter", "hann", "--out", out])
            as? TensorFBPCommand)
        try command.run()
        let volume = try NumpyFile.read(Double.self, from: URL(fileURLWithPath: out))
        let expected = try TensorReconstruction.filteredBackProjection(set, window: .hann)
        #expect(volume.shape == [5, 5, 4])
        #expect(volume.elements == expected.volume.elements)
        #expect(volume.elements.contains { $0 != 0 })
        func message(_ args: [String]) -> String {
            do { var c = try BeamlineCommand.parseAsRoot(args); try c.run(); return "" } catch { return BeamlineCommand.message(for: error) }
        }
        #expect(message(["tensor-fbp", url.path, "--axis", "sideways", "--out", out]).contains("--axis"))
        #expect(message(["tensor-fbp", url.path, "--filter", "box", "--out", out]).contains("--filter"))
        #expect(message(["tensor-fbp", url.path, "--out", url.path]).contains("--out"))
        #expect(message(["tensor-fbp", dir.appendingPathComponent("none.h5").path, "--out", out]).contains("DATA"))
    }

    @Test func badInputsNameTheArgument() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tt-cli-bad-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, _) = try dataSet(dir)
        func message(_ args: [String]) -> String {
            do {
                var command = try BeamlineCommand.parseAsRoot(args)
                try command.run()
                return ""
            } catch {
                return BeamlineCommand.message(for: error)
            }
        }
        let out = dir.appendingPathComponent("o.h5").path
        #expect(message(["tensor-reconstruct", url.path, "--ell-max", "3", "--out", out]).contains("--ell-max"))
        #expect(message(["tensor-reconstruct", url.path, "--out", dir.appendingPathComponent("o.txt").path]).contains("--out"))
        #expect(message(["tensor-reconstruct", url.path, "--step-size", "-1", "--out", out]).contains("--step-size"))
        let missing = dir.appendingPathComponent("missing.h5").path
        let missingMessage = message(["tensor-reconstruct", missing, "--out", out])
        // The argument and the path once: "DATA <path>: cannot open HDF5 file (…)".
        #expect(missingMessage.hasPrefix("DATA \(missing): cannot open HDF5 file"), "\(missingMessage)")
        #expect(missingMessage.components(separatedBy: missing).count == 2, "\(missingMessage)")
        #expect(message(["tensor-reconstruct", url.path, "--out", url.path]).contains("--out"))
        #expect(message(["tensor-reconstruct", url.path, "--basis", "nn", "--out", out]).contains("--directions"))
        #expect(message(["tensor-reconstruct", url.path, "--directions", url.path, "--out", out]).contains("--directions"))
        let flat = dir.appendingPathComponent("flat.npy")
        try NumpyFile.write(Tensor<Double>(shape: [4], repeating: 1), to: flat)
        #expect(message(["tensor-reconstruct", url.path, "--basis", "nn", "--directions", flat.path, "--out", out])
                    == "--directions \(flat.path): expected an (N, 3) array of directions, received shape [4]")
        let zero = dir.appendingPathComponent("zero.npy")
        try NumpyFile.write(Tensor<Double>(shape: [2, 3], repeating: 0), to: zero)
        #expect(message(["tensor-reconstruct", url.path, "--basis", "nn", "--directions", zero.path, "--out", out])
                    .hasPrefix("--directions \(zero.path): "))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite struct TensorTomographyDemoTests {
    /// The demo's tensor-tomography part writes the orientation PNG and
    /// reports the orientation error; with 30 SIGTT iterations the median
    /// error is a few degrees (3.3° measured), with 8 it is still below 20°.
    @Test func demoPart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("beamline-tt-demo-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try TensorTomographyDemo.run(in: dir, size: 8, iterations: 8)
        #expect(report.contains("main-orientation error"))
        let png = try Data(contentsOf: dir.appendingPathComponent("tensor_orientation.png"))
        #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        let median = report.components(separatedBy: "median ")[1].components(separatedBy: "°")[0]
        #expect(Double(median)! < 20, "\(report)")
    }
}
