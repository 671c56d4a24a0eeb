import ArgumentParser
import Beamline
import BeamlineMPI
import Foundation

/// Loads a geometry file, naming the option in errors.
func loadGeometry(_ path: String) throws -> Geometry {
    do { return try Geometry(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CommandError(argument: "--geometry", value: path, error)
    }
}

extension Reconstruction.Method: ExpressibleByArgument {}
extension FBPFilter: ExpressibleByArgument {}

/// The channel count of `shape` against the shape a geometry expects
/// (`expected` or `expected + [C]`), or nil when it fits neither.
func channels(of shape: [Int], expected: [Int]) -> Int? {
    if shape == expected { return 1 }
    if shape.count == expected.count + 1 && Array(shape.dropLast()) == expected && shape.last! >= 1 { return shape.last! }
    return nil
}

/// `beamline project`: the John transform of a volume, or its adjoint.
struct ProjectCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project a volume (X, Y, Z[, C]) to projections (N, J, K[, C]) with the John transform, or back-project projections with --adjoint.",
        discussion: """
            The geometry is a JSON file with mumott's field names (docs/tomography.md). The input is --volume \
            (forward) or --projections (with --adjoint). Float32 input is computed in float32, other real types \
            in float64. Writes the result atomically (never onto an input) and prints a JSON summary.
            """
    )

    @Option(help: "Geometry JSON file (mumott field names).", completion: .file(extensions: ["json"]))
    var geometry: String

    @Option(help: "Volume to project (file.npy, .npz:member or .h5:/dataset[selection]; (X, Y, Z) or (X, Y, Z, C)).", completion: .file(extensions: arrayExtensions))
    var volume: String?

    @Option(help: "Projections to back-project with --adjoint (file.npy, .npz:member or .h5:/dataset[selection]; (N, J, K) or (N, J, K, C)).",
            completion: .file(extensions: arrayExtensions))
    var projections: String?

    @Option(help: "Output array (file.npy, file.npz:member or file.h5:/dataset).", completion: .file(extensions: arrayExtensions))
    var out: String

    @Flag(help: "Apply the adjoint (exact transpose): projections → volume.")
    var adjoint = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if adjoint {
            guard projections != nil && volume == nil else {
                throw ValidationError("--adjoint back-projects --projections FILE (and takes no --volume)")
            }
        } else {
            guard volume != nil && projections == nil else {
                throw ValidationError("give --volume FILE to project (or --adjoint with --projections FILE)")
            }
        }
    }

    struct Report: Encodable {
        let adjoint: Bool
        let geometry, input, out: String
        let projections, channels, raySamples: Int
        enum CodingKeys: String, CodingKey {
            case adjoint, geometry, input, out, projections, channels, raySamples = "ray_samples"
        }
    }

    func execute() throws -> Report {
        let (option, path) = adjoint ? ("--projections", projections!) : ("--volume", volume!)
        _ = try OutputCheck(inputs: [("--geometry", geometry), (option, path)], output: ("--out", out))
        let g = try loadGeometry(geometry)
        let input = try ArrayFiles.loadReal(path, option: option)
        let shape = input.shape
        let expected = adjoint ? [g.count] + g.projectionShape : g.volumeShape
        guard let channels = channels(of: shape, expected: expected) else {
            throw CommandError("\(option) \(path): expected shape \(expected) or \(expected + [-1]) " +
                               "(\(adjoint ? "N, J, K[, C] projections" : "X, Y, Z[, C] volume") from --geometry), received \(shape)")
        }
        func compute<S: OperatorScalar>(_ t: Tensor<S>) throws -> (Tensor<S>, Int) {
            do {
                let projector = try JohnTransformProjector<S>(geometry: g, channels: channels)
                var y = adjoint ? try projector.checkedApplyAdjoint(t) : try projector.checkedApply(t)
                if shape.count == 3 { y = y.reshaped(Array(y.shape.dropLast())) }
                return (y, projector.raySamples * channels)
            } catch {
                throw CommandError(argument: option, value: path, error)
            }
        }
        let samples: Int
        switch input {
        case .float(let t):
            let (y, s) = try compute(t); samples = s
            try ArrayFiles.write(y, to: out)
        case .double(let t):
            let (y, s) = try compute(t); samples = s
            try ArrayFiles.write(y, to: out)
        }
        return Report(adjoint: adjoint, geometry: geometry, input: path, out: out, projections: g.count,
                      channels: channels, raySamples: samples)
    }
}

/// `beamline reconstruct`: tomographic reconstruction from projections.
struct ReconstructCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Reconstruct a volume from projections (N, J, K[, C]) with SIRT, CGLS, LSMR, MITRA or FBP.",
        discussion: """
            sirt and mitra use mumott's SIRT weights and preconditioner (cut-offs 0.1); mitra adds Nesterov \
            momentum 0.95 and non-negativity (mumott's run_mitra defaults). fbp filters along j and \
            back-projects (single-axis geometries). Writes the volume (X, Y, Z[, C]) atomically (never onto \
            an input), shows a progress bar on a terminal, and prints a JSON summary. Ctrl-C stops the \
            reconstruction, writes nothing and exits with status 130.

            --scan reads a NeXus NXtomo file instead: projections, flats and darks by image_key, \
            flat/dark-corrected to absorbance −log((p − d)/(f − d)), and the rotation angles; without \
            --geometry the geometry is a single-axis scan about the detector's vertical axis (J = detector \
            columns, K = rows; volume (columns, columns, rows)).

            Under mpirun, --distributed projections|slabs splits sirt, mitra, cgls and lsmr over the ranks \
            (each rank reads its part of an HDF5 input; rank 0 writes the volume and prints; docs/mpi.md): \
            mpirun -q -np 4 beamline reconstruct --geometry g.json --projections p.h5:/projections \
            --distributed slabs --threads 1 --out v.npy
            """
    )

    @Option(help: "Geometry JSON file (mumott field names); optional with --scan.",
            completion: .file(extensions: ["json"]))
    var geometry: String?

    @Option(help: "Projections (N, J, K) or (N, J, K, C): file.npy, file.npz:member or file.h5:/dataset[selection].",
            completion: .file(extensions: ["npy", "npz", "h5", "hdf5", "nxs"]))
    var projections: String?

    @Option(help: "NeXus NXtomo scan (file.nxs, or file.nxs:/entry for another entry) instead of --projections.",
            completion: .file(extensions: ["nxs", "h5", "hdf5"]))
    var scan: String?

    @Option(help: "Reconstruction method.")
    var method: Reconstruction.Method = .sirt

    @Option(name: iterationFlagNames, help: "Iteration limit.")
    var maxIterations = 20

    @Option(help: "Stop tolerance (relative loss change for sirt/mitra; relative normal residual for cgls; atol/btol for lsmr). 0 runs every iteration.")
    var tolerance = 0.0

    @Flag(name: .customLong("non-negative"), help: "Keep the volume ≥ 0 (always on for mitra).")
    var nonNegative = false

    @Option(help: "FBP filter.")
    var filter: FBPFilter = .ramp

    @Option(help: "FBP frequency cut-off as a fraction of Nyquist, in (0, 1].")
    var cutoff = 1.0

    @Option(help: "Output array for the volume (file.npy, file.npz:member or file.h5:/dataset).", completion: .file(extensions: arrayExtensions))
    var out: String

    @Option(help: "Split the reconstruction over MPI ranks (run under mpirun -np N): projections (each rank holds some projections) or slabs (z-slabs of a single-axis scan about z). See docs/mpi.md.")
    var distributed: Decomposition?

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let distributed {
            guard projections != nil && scan == nil else {
                throw ValidationError("--distributed \(distributed.rawValue) reads --projections FILE with --geometry FILE.json (not --scan)")
            }
            guard method != .fbp else {
                throw ValidationError("--distributed \(distributed.rawValue) runs sirt, mitra, cgls or lsmr; fbp is one back-projection: run it without --distributed")
            }
        }
        guard (projections == nil) != (scan == nil) else {
            throw ValidationError("give either --projections FILE (with --geometry) or --scan FILE.nxs")
        }
        if projections != nil && geometry == nil { throw ValidationError("--projections needs --geometry FILE.json") }
        try validateIterations(maxIterations)
        guard tolerance.isFinite && tolerance >= 0 else { throw ValidationError("--tolerance must be finite and ≥ 0, received \(tolerance)") }
        guard cutoff > 0 && cutoff <= 1 else { throw ValidationError("--cutoff must be in (0, 1], received \(cutoff)") }
    }

    struct Report: Encodable {
        let method: String
        let geometry: String?
        let projections, out: String
        let channels: Int
        let nonNegative: Bool
        /// `--distributed` and the number of ranks (absent without it).
        var distributed: String? = nil
        var ranks: Int? = nil
        /// Per rank: payload bytes sent and seconds spent in MPI during the
        /// solve, and rank 0's number of collective calls (with `--distributed`).
        var mpiBytesSent: [Int]? = nil
        var mpiSeconds: [Double]? = nil
        var mpiCalls: Int? = nil
        enum CodingKeys: String, CodingKey {
            case method, geometry, projections, out, channels, nonNegative = "non_negative", distributed, ranks
            case mpiBytesSent = "mpi_bytes_sent", mpiSeconds = "mpi_seconds", mpiCalls = "mpi_calls"
        }
    }

    /// A NeXus scan as absorbance projections `(N, J, K)` (J the detector's
    /// columns, K its rows) and the single-axis geometry of its angles
    /// (rotation about the detector's vertical axis, mumott's default
    /// inner axis), for `--scan FILE[:ENTRY]`.
    static func loadScan(_ text: String) throws -> (projections: Tensor<Float>, geometry: Geometry) {
        var file = text, entry = "/entry"
        if let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...].hasPrefix("/") {
            file = String(text[..<colon])
            entry = String(text[text.index(after: colon)...])
        }
        let frames: Tensor<Float>
        let angles: [Double]
        do {
            let scan = try NXtomoScan(contentsOf: URL(fileURLWithPath: file), entry: entry)
            frames = try scan.absorbance()
            angles = scan.rotationAnglesRadians
        } catch {
            throw CommandError("--scan: \(error)")
        }
        let (rows, columns) = (frames.length(ofAxis: 1), frames.length(ofAxis: 2))
        do {
            let geometry = try Geometry.fromAngles(innerAngles: angles, volumeShape: [columns, columns, rows],
                                                   projectionShape: [columns, rows])
            return (frames.permuted([0, 2, 1]).contiguous(), geometry)
        } catch {
            throw CommandError(argument: "--scan", value: text, error)
        }
    }

    func execute() throws -> Merged<IterativeSummary, Report> {
        if let distributed { return try executeDistributed(distributed) }
        let (inputOption, inputPath) = scan.map { ("--scan", $0) } ?? ("--projections", projections!)
        _ = try OutputCheck(inputs: [(inputOption, inputPath)] + (geometry.map { [("--geometry", $0)] } ?? []),
                            output: ("--out", out))
        let input: RealArray
        let g: Geometry
        if let scan {
            let absorbance = try Self.loadScan(scan)
            input = .float(absorbance.projections)
            g = try geometry.map(loadGeometry) ?? absorbance.geometry
        } else {
            g = try loadGeometry(geometry!)
            input = try ArrayFiles.loadReal(inputPath, option: inputOption)
        }
        let expected = [g.count] + g.projectionShape
        guard let channels = channels(of: input.shape, expected: expected) else {
            throw CommandError("\(inputOption) \(inputPath): expected shape \(expected) or \(expected + [-1]) from --geometry, received \(input.shape)")
        }
        var options = method == .mitra ? Reconstruction.Options.mitra : Reconstruction.Options()
        options.iterations = maxIterations
        options.tolerance = tolerance
        options.nonNegative = options.nonNegative || nonNegative
        options.filter = filter
        options.frequencyCutoff = cutoff
        let progress = CommandProgress(label: method.rawValue)
        defer { progress.finish() }
        var handler: ProgressHandler?
        if method != .fbp { handler = progress.handler }
        func solve<S: OperatorScalar>(_ t: Tensor<S>) throws -> (Tensor<S>, IterativeSummary) {
            let result: Reconstruction.Result<S>
            do {
                let projector = try JohnTransformProjector<S>(geometry: g, channels: channels)
                result = try Reconstruction.run(method, projector: projector, projections: t.reshaped(projector.projectionsShape),
                                                options: options, progress: handler)
            } catch {
                throw CommandError(argument: inputOption, value: inputPath, error)
            }
            if result.stopReason == .cancelled { throw Interrupted() }
            try Interrupt.check()
            let v = input.shape.count == 3 ? result.volume.reshaped(g.volumeShape) : result.volume
            return (v, IterativeSummary(result))
        }
        let summary: IterativeSummary
        switch input {
        case .float(let t):
            let (v, s) = try solve(t); summary = s
            try ArrayFiles.write(v, to: out)
        case .double(let t):
            let (v, s) = try solve(t); summary = s
            try ArrayFiles.write(v, to: out)
        }
        return Merged(summary, Report(method: method.rawValue, geometry: geometry, projections: inputPath, out: out,
                                      channels: channels, nonNegative: options.nonNegative))
    }
}
