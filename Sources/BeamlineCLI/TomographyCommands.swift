import ArgumentParser
import Beamline
import Foundation

/// Loads a geometry file, naming the option in errors.
func loadGeometry(_ path: String) throws -> Geometry {
    do { return try Geometry(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CommandError("--geometry \(path): \(error)")
    }
}

/// Reads a real `.npy` array (float32 stays float32, everything else becomes float64).
enum RealArray {
    case float(Tensor<Float>)
    case double(Tensor<Double>)

    var shape: [Int] {
        switch self { case .float(let t): return t.shape; case .double(let t): return t.shape }
    }

    static func load(_ path: String, option: String) throws -> RealArray {
        let any: AnyTensor
        do { any = try NumpyFile.read(from: URL(fileURLWithPath: path)) } catch { throw CommandError("\(option): \(error)") }
        switch any {
        case .float32(let t): return .float(t)
        case .complex64, .complex128, .bool:
            throw CommandError("\(option) \(path): expected real numbers, found \(any.dtype)")
        default: return .double(any.cast(to: Double.self))
        }
    }
}

/// `beamline project`: the John transform of a volume, or its adjoint.
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project a volume (X, Y, Z[, C]) to projections (N, J, K[, C]) with the John transform, or back-project with --adjoint.",
        discussion: """
            The geometry is a JSON file with mumott's field names (docs/tomography.md). Float32 input is \
            computed in float32, other real types in float64. Writes the result atomically (never onto an \
            input) and prints a JSON summary.
            """
    )

    @Option(help: "Geometry JSON file (mumott field names).")
    var geometry: String

    @Option(help: "Input volume (.npy, (X, Y, Z) or (X, Y, Z, C)); with --adjoint, projections (N, J, K[, C]).")
    var volume: String

    @Option(help: "Output .npy file.")
    var out: String

    @Flag(help: "Apply the adjoint (exact transpose): projections → volume.")
    var adjoint = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        _ = try SolverFiles(inputs: [("--geometry", geometry), ("--volume", volume)], output: ("--out", out))
        let start = ContinuousClock.now
        let g = try loadGeometry(geometry)
        let input = try RealArray.load(volume, option: "--volume")
        let shape = input.shape
        let expectedRank3 = adjoint ? [g.count] + g.projectionShape : g.volumeShape
        let channels: Int
        if shape.count == 3 && Array(shape) == expectedRank3 {
            channels = 1
        } else if shape.count == 4 && Array(shape[0..<3]) == expectedRank3 && shape[3] >= 1 {
            channels = shape[3]
        } else {
            throw CommandError("--volume \(volume): expected shape \(expectedRank3) or \(expectedRank3 + [-1]) " +
                               "(\(adjoint ? "N, J, K[, C] projections" : "X, Y, Z[, C] volume") from --geometry), received \(shape)")
        }
        func compute<S: OperatorScalar>(_ t: Tensor<S>) throws -> (Tensor<S>, Int) {
            do {
                let projector = try JohnTransformProjector<S>(geometry: g, channels: channels)
                let x = t.reshaped(adjoint ? projector.projectionsShape : projector.volumeShape)
                var y = adjoint ? try projector.checkedApplyAdjoint(x) : try projector.checkedApply(x)
                if shape.count == 3 { y = y.reshaped(Array(y.shape.dropLast())) }
                return (y, projector.raySamples * channels)
            } catch {
                throw CommandError("--volume \(volume): \(error)")
            }
        }
        let samples: Int
        do {
            switch input {
            case .float(let t):
                let (y, s) = try compute(t); samples = s
                try NumpyFile.write(y, to: URL(fileURLWithPath: out))
            case .double(let t):
                let (y, s) = try compute(t); samples = s
                try NumpyFile.write(y, to: URL(fileURLWithPath: out))
            }
        } catch let error as NumpyFileError {
            throw CommandError("--out: \(error)")
        }
        try printJSON([
            "command": "project", "adjoint": adjoint, "geometry": geometry, "input": volume, "out": out,
            "projections": g.count, "channels": channels, "ray_samples": samples,
            "threads": Parallel.threadCount, "seconds": seconds(since: start),
        ])
    }
}

/// `beamline reconstruct`: tomographic reconstruction from projections.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Reconstruct a volume from projections (N, J, K[, C]) with SIRT, CGLS, LSMR, MITRA or FBP.",
        discussion: """
            sirt and mitra use mumott's SIRT weights and preconditioner (cut-offs 0.1); mitra adds Nesterov \
            momentum 0.95 and non-negativity (mumott's run_mitra defaults). fbp filters along j and \
            back-projects (single-axis geometries). Writes the volume (X, Y, Z[, C]) atomically (never onto \
            an input), shows a progress bar on a terminal, and prints a JSON summary.
            """
    )

    @Option(help: "Geometry JSON file (mumott field names).")
    var geometry: String

    @Option(help: "Projections (.npy, (N, J, K) or (N, J, K, C)).")
    var projections: String

    @Option(help: "Method: sirt, cgls, lsmr, mitra or fbp.")
    var method: String = "sirt"

    @Option(help: "Iteration limit.")
    var iterations = 20

    @Option(help: "Stop tolerance (relative loss change for sirt/mitra; relative normal residual for cgls; atol/btol for lsmr). 0 runs every iteration.")
    var tolerance = 0.0

    @Flag(name: .customLong("non-negative"), help: "Keep the volume ≥ 0 (always on for mitra).")
    var nonNegative = false

    @Option(help: "FBP filter: ramp, shepp-logan, cosine, hamming, hann or none.")
    var filter = "ramp"

    @Option(help: "FBP frequency cut-off as a fraction of Nyquist, in (0, 1].")
    var cutoff = 1.0

    @Option(help: "Output .npy file for the volume.")
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard Reconstruction.Method(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(Reconstruction.Method.allCases.map(\.rawValue).joined(separator: ", ")), received '\(method)'")
        }
        guard iterations >= 0 else { throw ValidationError("--iterations must be ≥ 0, received \(iterations)") }
        guard tolerance.isFinite && tolerance >= 0 else { throw ValidationError("--tolerance must be finite and ≥ 0, received \(tolerance)") }
        guard FBPFilter(rawValue: filter) != nil else {
            throw ValidationError("--filter must be one of \(FBPFilter.allCases.map(\.rawValue).joined(separator: ", ")), received '\(filter)'")
        }
        guard cutoff > 0 && cutoff <= 1 else { throw ValidationError("--cutoff must be in (0, 1], received \(cutoff)") }
    }

    func run() throws {
        threads.apply()
        _ = try SolverFiles(inputs: [("--geometry", geometry), ("--projections", projections)], output: ("--out", out))
        let start = ContinuousClock.now
        let g = try loadGeometry(geometry)
        let input = try RealArray.load(projections, option: "--projections")
        let shape = input.shape
        let expected = [g.count] + g.projectionShape
        let channels: Int
        if shape == expected { channels = 1 } else if shape.count == 4 && Array(shape[0..<3]) == expected && shape[3] >= 1 {
            channels = shape[3]
        } else {
            throw CommandError("--projections \(projections): expected shape \(expected) or \(expected + [-1]) from --geometry, received \(shape)")
        }
        let chosen = Reconstruction.Method(rawValue: method)!
        var options = chosen == .mitra ? Reconstruction.Options.mitra : Reconstruction.Options()
        options.iterations = iterations
        options.tolerance = tolerance
        options.nonNegative = options.nonNegative || nonNegative
        options.filter = FBPFilter(rawValue: filter)!
        options.frequencyCutoff = cutoff
        let bar = chosen == .fbp ? nil : ProgressBar(label: method)
        func solve<S: OperatorScalar>(_ t: Tensor<S>) throws -> (Tensor<S>, Int, Double, String) {
            do {
                let projector = try JohnTransformProjector<S>(geometry: g, channels: channels)
                let result = try Reconstruction.run(chosen, projector: projector, projections: t.reshaped(projector.projectionsShape),
                                                    options: options, progress: bar?.update)
                var v = result.volume
                if shape.count == 3 { v = v.reshaped(g.volumeShape) }
                return (v, result.iterations, result.residualNorm, "\(result.stopReason)")
            } catch {
                bar?.finish()
                throw CommandError("--projections \(projections): \(error)")
            }
        }
        let summary: (Int, Double, String)
        do {
            switch input {
            case .float(let t):
                let (v, it, r, why) = try solve(t); summary = (it, r, why)
                bar?.finish()
                try NumpyFile.write(v, to: URL(fileURLWithPath: out))
            case .double(let t):
                let (v, it, r, why) = try solve(t); summary = (it, r, why)
                bar?.finish()
                try NumpyFile.write(v, to: URL(fileURLWithPath: out))
            }
        } catch let error as NumpyFileError {
            throw CommandError("--out: \(error)")
        }
        try printJSON([
            "command": "reconstruct", "method": method, "geometry": geometry, "projections": projections, "out": out,
            "iterations": summary.0, "residual_norm": summary.1, "stop_reason": summary.2, "channels": channels,
            "non_negative": options.nonNegative, "threads": Parallel.threadCount, "seconds": seconds(since: start),
        ])
    }
}
