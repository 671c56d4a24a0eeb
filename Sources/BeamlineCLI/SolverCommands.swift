import ArgumentParser
import Beamline
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `beamline lsmr`: solves `A x = b` (least squares, optionally damped)
/// with LSMR on a SciPy sparse matrix.
struct LSMRCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "lsmr",
        abstract: "Solve A x = b in the least-squares sense with LSMR (scipy.sparse.linalg.lsmr's parameters).",
        discussion: """
            Reads A from a scipy.sparse.save_npz file and b from a .npy file, writes x as a .npy file \
            (atomically; never onto an input) and prints a JSON summary on standard output (SciPy's names \
            istop, normar, norma, conda and normx beside the common keys). Ctrl-C stops the solve, writes \
            nothing and exits with status 130.
            """
    )

    @Option(help: "Sparse matrix A (scipy.sparse.save_npz file: csr, csc or coo).", completion: .file(extensions: ["npz"]))
    var matrix: String

    @Option(help: "Right-hand side b (file.npy, .npz:member or .h5:/dataset[selection]; one value per row of A, or per column with --transpose).",
            completion: .file(extensions: arrayExtensions))
    var rhs: String

    @Option(help: "Output file for the solution x (file.npy, .npz:member or .h5:/dataset[selection]; float64).", completion: .file(extensions: arrayExtensions))
    var out: String

    @Option(help: "Damping λ in min ‖A x − b‖² + λ²‖x‖².")
    var damp = 0.0

    @Option(help: "Relative tolerance on A (scipy's atol).")
    var atol = 1e-6

    @Option(help: "Relative tolerance on b (scipy's btol).")
    var btol = 1e-6

    @Option(help: "Condition-number limit (scipy's conlim; 0 disables).")
    var conlim = 1e8

    @Option(name: iterationFlagNames, help: "Iteration limit (scipy's maxiter; default: min(rows, columns)).")
    var maxIterations: Int?

    @Flag(help: "Solve with the transpose Aᵀ instead of A.")
    var transpose = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        for (name, value) in [("--damp", damp), ("--atol", atol), ("--btol", btol), ("--conlim", conlim)] {
            guard value.isFinite && value >= 0 else { throw ValidationError("\(name) must be finite and ≥ 0, received \(value)") }
        }
        try validateIterations(maxIterations)
    }

    struct Report: Encodable {
        let matrix, rhs, out: String
        let transpose: Bool
        let rows, columns, nonzeros: Int
        let istop: Int
        let normar, norma, conda, normx: Double
    }

    func execute() throws -> Merged<IterativeSummary, Report> {
        _ = try OutputCheck(inputs: [("--matrix", matrix), ("--rhs", rhs)], output: ("--out", out))
        let a = try loadSparseMatrix(matrix)
        let b = try ArrayFiles.loadDoubles(rhs, option: "--rhs")
        let configuration = LSMR.Configuration(damp: damp, atol: atol, btol: btol, conlim: conlim,
                                               maximumIterations: maxIterations)
        let progress = CommandProgress(label: "lsmr")
        defer { progress.finish() }
        let result: LSMR.Result<Double>
        do {
            result = transpose
                ? try LSMR.solve(a.adjoint, rhs: b, configuration: configuration, progress: progress.handler)
                : try LSMR.solve(a, rhs: b, configuration: configuration, progress: progress.handler)
        } catch {
            throw CommandError(argument: "--rhs", value: rhs, error)
        }
        try ArrayFiles.write(result.solution, to: out, stopReason: result.stopReason)
        let d = result.diagnostics
        return Merged(IterativeSummary(result), Report(
                      matrix: matrix, rhs: rhs, out: out, transpose: transpose, rows: a.rows, columns: a.columns,
                      nonzeros: a.nonzeroCount, istop: d.istop?.istop ?? -1,
                      normar: d.normalResidualNorm, norma: d.operatorNorm, conda: d.conditionEstimate, normx: d.solutionNorm))
    }
}

/// `beamline mlem`: Poisson maximum-likelihood reconstruction with MLEM.
struct MLEMCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "mlem",
        abstract: "Reconstruct x ≥ 0 from counts y ≈ A x with MLEM (Shepp–Vardi).",
        discussion: """
            Reads A (non-negative) from a scipy.sparse.save_npz file and y from a .npy file, writes x as a \
            .npy file (atomically; never onto an input) and prints a JSON summary on standard output. \
            Ctrl-C stops the solve, writes nothing and exits with status 130.
            """
    )

    @Option(help: "System matrix A (scipy.sparse.save_npz file), non-negative.", completion: .file(extensions: ["npz"]))
    var matrix: String

    @Option(help: "Measured counts y (file.npy, .npz:member or .h5:/dataset[selection]; non-negative, one value per row of A).", completion: .file(extensions: arrayExtensions))
    var data: String

    @Option(help: "Output file for the reconstruction x (file.npy, .npz:member or .h5:/dataset[selection]; float64).", completion: .file(extensions: arrayExtensions))
    var out: String

    @Option(name: iterationFlagNames, help: "Iteration limit.")
    var maxIterations = 50

    @Option(help: "Stop when max |Δx| ≤ tolerance · max x (0 runs all iterations).")
    var tolerance = 0.0

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try validateIterations(maxIterations)
        guard tolerance.isFinite && tolerance >= 0 else {
            throw ValidationError("--tolerance must be finite and ≥ 0, received \(tolerance)")
        }
    }

    struct Report: Encodable {
        let matrix, data, out: String
        let rows, columns, nonzeros: Int
        let maxRelativeChange, totalCounts: Double
        enum CodingKeys: String, CodingKey {
            case matrix, data, out, rows, columns, nonzeros
            case maxRelativeChange = "max_relative_change", totalCounts = "total_counts"
        }
    }

    func execute() throws -> Merged<IterativeSummary, Report> {
        _ = try OutputCheck(inputs: [("--matrix", matrix), ("--data", data)], output: ("--out", out))
        let a = try loadSparseMatrix(matrix)
        let y = try ArrayFiles.loadDoubles(data, option: "--data")
        let progress = CommandProgress(label: "mlem")
        defer { progress.finish() }
        let result: MLEM.Result<Double>
        do {
            result = try MLEM.solve(a, data: y, configuration: .init(maximumIterations: maxIterations, tolerance: tolerance),
                                    progress: progress.handler)
        } catch {
            throw CommandError(argument: "--data", value: data, error)
        }
        try ArrayFiles.write(result.solution, to: out, stopReason: result.stopReason)
        return Merged(IterativeSummary(result), Report(
                      matrix: matrix, data: data, out: out, rows: a.rows, columns: a.columns, nonzeros: a.nonzeroCount,
                      maxRelativeChange: result.diagnostics.relativeChange,
                      totalCounts: y.sum()))
    }
}

/// Reads the SciPy sparse matrix (`scipy.sparse.save_npz`) given to `option`.
func loadSparseMatrix(_ path: String, option: String = "--matrix") throws -> CSRMatrix<Double> {
    do {
        return try CSRMatrix<Double>.load(contentsOf: URL(fileURLWithPath: path))
    } catch {
        if case .file = error { throw CommandError("\(option): \(error)") }
        throw CommandError(argument: option, value: path, error)
    }
}

/// A one-line progress bar on standard error, only when standard error is
/// a terminal (nil otherwise, so scripts and pipes see nothing).
final class ProgressBar {
    let label: String
    private var lastDrawn = -1

    init?(label: String) {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        self.label = label
    }

    func draw(_ progress: IterationProgress) {
        let total = max(1, progress.maximumIterations)
        let percent = min(100, progress.iteration * 100 / total)
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "\r\(label) [\(bar)] \(progress.iteration)/\(total) \(String(format: "%.3e", progress.value))"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let (s, atto) = (ContinuousClock.now - start).components
    return Double(s) + Double(atto) * 1e-18
}
