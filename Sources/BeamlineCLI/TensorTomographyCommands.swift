import ArgumentParser
import Beamline
import BeamlineMPI
import Foundation

extension TensorPipeline: ExpressibleByArgument {}

/// `beamline tensor-reconstruct`: tensor tomography from a mumott DataContainer HDF5 file.
struct TensorReconstructCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor-reconstruct",
        abstract: "Reconstruct spherical-harmonic coefficients (X, Y, Z, C) from a mumott DataContainer HDF5 file.",
        discussion: """
            Reads DATA.h5 in mumott's DataContainer layout, divides the data by the diode (transmission \
            correction; --no-transmission-correction to skip), and runs sirt, mitra (Nesterov 0.95, \
            non-negativity), sigtt (L-BFGS + Laplacian 1e-4) or group-lasso (ISTA, --fista for FISTA). \
            The step size defaults to 1/λ (0.5/λ for group lasso), λ the power-iteration estimate of the \
            largest eigenvalue of the (preconditioned, weighted) normal operator, so the defaults converge on \
            spherical-harmonic data. --iterations N runs N iterations unless --ftol is given. Writes the \
            coefficients and the derived orientation maps (mean_intensity, fractional_anisotropy, \
            eigenvalues, main_orientation): into one HDF5 file for --out FILE.h5 (datasets /coefficients and \
            the maps), or for --out FILE.npy the coefficients there and each map beside it as \
            FILE.<map>.npy. Shows a progress bar on a terminal, prints a JSON summary with the loss history; \
            Ctrl-C stops, writes nothing and exits with status 130.

            Under mpirun, --distributed projections splits every pipeline over the ranks: each rank reads \
            and fits its own projections of DATA, back-projections and loss values are summed over the ranks \
            in rank order, rank 0 shows the progress, writes --out and prints; an error on any rank stops \
            all of them with one message and no output (docs/mpi.md): \
            mpirun -q -np 4 beamline tensor-reconstruct data.h5 --pipeline sigtt --distributed projections \
            --threads 1 --out c.h5
            """
    )

    @Argument(help: "mumott DataContainer HDF5 file.", completion: .file(extensions: ["h5", "hdf5"]))
    var data: String

    /// `--basis`, `--directions`, `--grid-scale`, `--ell-max` (shared with
    /// `align phase-matching --segment-mean`).
    @OptionGroup var basisOptions: TensorBasisOptions

    /// The basis name (default sh).
    var basis: String { basisOptions.basis ?? "sh" }
    /// The directions file of the nn basis.
    var directions: String? { basisOptions.directions }
    /// The grid scale of the Gaussian kernels (default 4).
    var gridScale: Int { basisOptions.gridScale ?? 4 }
    /// The band limit of the spherical harmonics (default 8).
    var ellMax: Int { basisOptions.ellMax ?? 8 }

    @Option(help: "Reconstruction pipeline.")
    var pipeline: TensorPipeline = .mitra

    @Option(name: iterationFlagNames, help: "Optimiser iterations (all run unless --ftol is given).")
    var maxIterations = 20

    @Option(help: "Output: FILE.h5 (coefficients and maps) or FILE.npy.", completion: .file(extensions: ["h5", "hdf5", "npy"]))
    var out: String

    @Option(help: "Regulariser weight (sigtt: Laplacian, default 1e-4; group-lasso: default 1e-3).")
    var regularizationWeight: Double?

    @Option(help: "Step size (default from the largest-eigenvalue estimate).")
    var stepSize: Double?

    @Option(help: "Nesterov momentum weight (mitra default 0.95, sirt 0).")
    var nesterovWeight: Double?

    @Flag(help: "Do not use the SIRT weights and preconditioner (sirt, mitra).")
    var noSirtWeights = false

    @Flag(help: "Do not clip the coefficients at zero (sirt, mitra).")
    var noNonNegativity = false

    @Flag(help: "Group lasso with FISTA's acceleration.")
    var fista = false

    @Option(help: "Relative loss-change tolerance (stops early when reached).")
    var ftol: Double?

    @Option(help: "sigtt: limit on loss evaluations.")
    var maxfun: Int?

    @Option(help: "Samples per detector segment for the probed coordinates.")
    var integrationSamples = 3

    @Option(help: "Replace NaN/inf in the file by this value (default: an error).")
    var nonfiniteReplacement: Double?

    @Flag(help: "Do not divide the data by the diode.")
    var noTransmissionCorrection = false

    @Flag(help: "Compute in float32 (default float64).")
    var float32 = false

    @Option(help: "Split the reconstruction over MPI ranks (run under mpirun -np N): projections (each rank reads and fits its own projections; the only split for tensor tomography). See docs/mpi.md.")
    var distributed: Decomposition?

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let distributed, distributed != .projections {
            throw ValidationError("--distributed \(distributed.rawValue) is not available for tensor-reconstruct (tensor scans are tilted: they do not split into z-slabs); use --distributed projections")
        }
        try validateIterations(maxIterations)
        try basisOptions.validate()
        if let s = stepSize, !(s > 0 && s.isFinite) { throw ValidationError("--step-size must be > 0, received \(s)") }
        if let b = nesterovWeight, !(b >= 0 && b <= 1) { throw ValidationError("--nesterov-weight must be in [0, 1], received \(b)") }
        if let w = regularizationWeight, !(w >= 0 && w.isFinite) { throw ValidationError("--regularization-weight must be ≥ 0, received \(w)") }
        if let f = ftol, !(f >= 0 && f.isFinite) { throw ValidationError("--ftol must be ≥ 0, received \(f)") }
        if let m = maxfun, m < 1 { throw ValidationError("--maxfun must be ≥ 1, received \(m)") }
        guard integrationSamples >= 1 else { throw ValidationError("--integration-samples must be ≥ 1, received \(integrationSamples)") }
        let lower = out.lowercased()
        guard lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".npy") else {
            throw ValidationError("--out must end in .h5, .hdf5 or .npy, received \(out)")
        }
    }

    struct Report: Encodable {
        let pipeline, basis, data, out: String
        let ellMax, coefficients, iterations, evaluations: Int
        let stopReason: String
        let lossHistory: [Double]
        let stepSize, largestEigenvalue, regularizationWeight: Double?
        let nonNegativity: Bool
        let precision: String
        let maps: [String]
        /// `--distributed` and the number of ranks (absent without it).
        var distributed: String? = nil
        var ranks: Int? = nil
        /// Per rank: payload bytes sent and seconds spent in MPI during the
        /// solve, and rank 0's number of collective calls (with `--distributed`).
        var mpiBytesSent: [Int]? = nil
        var mpiSeconds: [Double]? = nil
        var mpiCalls: Int? = nil
        enum CodingKeys: String, CodingKey {
            case pipeline, basis, data, out, coefficients, iterations, evaluations, precision, maps, distributed, ranks
            case mpiBytesSent = "mpi_bytes_sent", mpiSeconds = "mpi_seconds", mpiCalls = "mpi_calls"
            case ellMax = "ell_max", stopReason = "stop_reason", lossHistory = "loss_history", stepSize = "step_size"
            case largestEigenvalue = "largest_eigenvalue", regularizationWeight = "regularization_weight"
            case nonNegativity = "non_negativity"
        }
    }

    /// The nearest-neighbour basis on the (N, 3) directions at `text`.
    static func nearestNeighbor(_ text: String) throws -> NearestNeighbor { try TensorBasisOptions.nearestNeighbor(text) }

    func execute() throws -> Report {
        // With --distributed each rank reads its projections, fits them, and
        // the ranks agree on every failure; rank 0 alone writes and prints
        // (DistributedReconstruction.swift, docs/mpi.md).
        let communicator = try distributed.map { _ in try DistributedRun.start() }
        let (set, values) = try DistributedRun.agreed(communicator) { () throws -> (TensorTomographyData, Tensor<Double>) in
            _ = try OutputCheck(inputs: [("DATA", data)], output: ("--out", out), outputIsArray: false)
            let set = try loadData(communicator)
            var values = set.data
            if !noTransmissionCorrection, set.diode != nil { values = try set.correctedForTransmission() }
            return (set, values)
        }
        let options = TensorReconstructionOptions(
            iterations: maxIterations, stepSize: stepSize, nesterovWeight: nesterovWeight, useSIRTWeights: !noSirtWeights,
            nonNegativity: noNonNegativity ? false : nil, regularizationWeight: regularizationWeight, ftol: ftol, maxfun: maxfun,
            fista: fista)
        // The bar on rank 0 only; every rank still polls Ctrl-C.
        let progress = communicator?.isRoot ?? true
            ? CommandProgress(label: communicator.map { "\(pipeline.rawValue) ×\($0.size)" } ?? pipeline.rawValue) : nil
        defer { progress?.finish() }
        let handler: ProgressHandler = progress?.handler ?? { _ in Interrupt.requested ? .stop : .continue }
        var traffic: [Traffic] = []
        func solve<S: OperatorScalar, B: TensorBasisSet>(_ type: S.Type, _ b: B) throws -> (TensorReconstructionResult<S>, Tensor<Double>) {
            if let communicator {
                let calc = try DistributedRun.agreed(communicator) { () throws -> GradientResidualCalculator<S, B> in
                    do { return try calculator(set, values, b) } catch { throw CommandError(argument: "DATA", value: data, error) }
                }
                let r: TensorReconstructionResult<S>
                do {
                    r = try DistributedTensorTomography.run(pipeline, calculator: calc, options: options, communicator: communicator,
                                                            progress: handler)
                } catch {
                    // The ranks agreed inside `run`: rank 0 prints, the others exit quietly.
                    if communicator.isRoot { throw CommandError("DATA \(data): \(DistributedRun.message(error, ranks: communicator.size))") }
                    throw ExitCode(1)
                }
                if r.stopReason == .cancelled { throw Interrupted() }
                traffic = try DistributedRun.gatherTraffic(communicator)
                return (r, r.coefficients.map { Double($0) })
            }
            do {
                let calc: GradientResidualCalculator<S, B> = try calculator(set, values, b)
                let r = try TensorReconstruction.run(pipeline, calculator: calc, options: options, progress: handler)
                if r.stopReason == .cancelled { throw Interrupted() }
                try Interrupt.check()
                return (r, r.coefficients.map { Double($0) })
            } catch let e as Interrupted {
                throw e
            } catch {
                throw CommandError(argument: "DATA", value: data, error)
            }
        }
        let sh = try DistributedRun.agreed(communicator) { basis == "sh" ? try SphericalHarmonics(ellMax: ellMax) : nil }
        let nn = try DistributedRun.agreed(communicator) { try directions.map { try Self.nearestNeighbor($0) } }
        let summary: (iterations: Int, evaluations: Int, stop: StopReason, history: [Double], step: Double?, lambda: Double?,
                      weight: Double?, nonNegative: Bool)
        let coefficients: Tensor<Double>
        func keep<S>(_ r: TensorReconstructionResult<S>) -> (Int, Int, StopReason, [Double], Double?, Double?, Double?, Bool) {
            (r.iterations, r.evaluations, r.stopReason, r.lossHistory, r.stepSize, r.largestEigenvalue, r.regularizationWeight, r.nonNegativity)
        }
        if let sh {
            if float32 { let (r, c) = try solve(Float.self, sh); summary = keep(r); coefficients = c }
            else { let (r, c) = try solve(Double.self, sh); summary = keep(r); coefficients = c }
        } else if basis == "gk" {
            let k = try DistributedRun.agreed(communicator) { try GaussianKernels(gridScale: gridScale) }
            if float32 { let (r, c) = try solve(Float.self, k); summary = keep(r); coefficients = c }
            else { let (r, c) = try solve(Double.self, k); summary = keep(r); coefficients = c }
        } else if let nn {
            if float32 { let (r, c) = try solve(Float.self, nn); summary = keep(r); coefficients = c }
            else { let (r, c) = try solve(Double.self, nn); summary = keep(r); coefficients = c }
        } else {
            let t = try DistributedRun.agreed(communicator) { try TrivialBasis(channels: set.geometry.segmentCount) }
            if float32 { let (r, c) = try solve(Float.self, t); summary = keep(r); coefficients = c }
            else { let (r, c) = try solve(Double.self, t); summary = keep(r); coefficients = c }
        }
        var maps: [String] = []
        if let communicator {
            // Every rank holds the same coefficients; rank 0 derives the maps and writes, then the ranks agree.
            let failure = communicator.isRoot ? DistributedRun.attempt { maps = try write(coefficients, sh: sh, nn: nn) }.1 : nil
            try DistributedRun.agree(failure, communicator: communicator)
        } else {
            maps = try write(coefficients, sh: sh, nn: nn)
        }
        return Report(pipeline: pipeline.rawValue, basis: basis, data: data, out: out, ellMax: ellMax,
                      coefficients: coefficients.shape[3], iterations: summary.iterations, evaluations: summary.evaluations,
                      stopReason: "\(summary.stop)", lossHistory: summary.history, stepSize: summary.step,
                      largestEigenvalue: summary.lambda, regularizationWeight: summary.weight, nonNegativity: summary.nonNegative,
                      precision: float32 ? "float32" : "float64", maps: maps,
                      distributed: distributed?.rawValue, ranks: communicator?.size,
                      mpiBytesSent: communicator == nil ? nil : traffic.map(\.bytesSent),
                      mpiSeconds: communicator == nil ? nil : traffic.map(\.seconds), mpiCalls: traffic.first?.calls)
    }

    /// DATA read whole, or with a communicator only this rank's run of
    /// projections (``TomographyPartition``'s split of the file's count).
    func loadData(_ communicator: Communicator?) throws -> TensorTomographyData {
        let url = URL(fileURLWithPath: data)
        do {
            guard let communicator else { return try TensorTomographyData(contentsOf: url, nonfiniteReplacement: nonfiniteReplacement) }
            let count = try TensorTomographyData.projectionCount(contentsOf: url)
            let partition: TomographyPartition
            do {
                partition = try TomographyPartition(.projections, projectionCount: count, slices: 1, rank: communicator.rank,
                                                    size: communicator.size)
            } catch { throw CommandError("--distributed projections: \(error)") }
            return try TensorTomographyData(contentsOf: url, nonfiniteReplacement: nonfiniteReplacement, projections: partition.projections)
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError(argument: "DATA", value: data, error)
        }
    }

    /// The residual calculator of (a part of) the data set.
    func calculator<S: OperatorScalar, B: TensorBasisSet>(_ set: TensorTomographyData, _ values: Tensor<Double>, _ b: B) throws
        -> GradientResidualCalculator<S, B> {
        try GradientResidualCalculator<S, B>(geometry: set.geometry, basisSet: b, data: values.map { S($0) },
                                             weights: set.weights.map { S($0) }, integrationSamples: integrationSamples)
    }

    /// Derives the orientation maps of `coefficients` and writes them with
    /// the coefficients to `--out` (one HDF5 file, or .npy files); returns
    /// the maps' names.
    func write(_ coefficients: Tensor<Double>, sh: SphericalHarmonics?, nn: NearestNeighbor?) throws -> [String] {
        var maps: [(String, Tensor<Double>)] = []
        let derived: OrientationMaps? = if let sh, sh.ellMax >= 2 {
            try sh.derivedQuantities(coefficients)
        } else if let nn {
            try nn.derivedQuantities(coefficients)
        } else {
            nil
        }
        if let m = derived {
            maps = [("mean_intensity", m.meanIntensity), ("fractional_anisotropy", m.fractionalAnisotropy),
                    ("eigenvalues", m.eigenvalues), ("main_orientation", m.mainOrientation)]
        }
        if distributed == nil { try Interrupt.check() }
        let lower = out.lowercased()
        if lower.hasSuffix(".npy") {
            try ArrayFiles.write(coefficients, to: out)
            let stem = String(out.dropLast(4))
            for (name, t) in maps { try ArrayFiles.write(t, to: "\(stem).\(name).npy") }
        } else {
            do {
                try HDF5File.write(to: URL(fileURLWithPath: out)) { (file) throws(HDF5Error) in
                    try file.write(coefficients, to: "/coefficients")
                    for (name, t) in maps { try file.write(t, to: "/" + name) }
                    try file.setAttribute("pipeline", .string(pipeline.rawValue), on: "/coefficients")
                    try file.setAttribute("basis", .string(basis), on: "/coefficients")
                    try file.setAttribute("ell_max", .integer(Int64(ellMax)), on: "/coefficients")
                }
            } catch {
                throw CommandError(argument: "--out", value: out, error)
            }
        }
        return maps.map(\.0)
    }
}
