import ArgumentParser
import Beamline
import BeamlineMPI
import Foundation
import Synchronization

// `beamline reconstruct … --distributed projections|slabs` and
// `beamline tensor-reconstruct … --distributed projections` (in
// TensorTomographyCommands.swift, with the helpers of `DistributedRun`) under
// `mpirun -np N`: MPI starts only here (plain commands never initialise it).
// Each rank reads only its part of the projections (an HDF5 hyperslab), the
// ranks run the same solver, the volume is gathered on rank 0, which alone
// writes it and prints the summary. A failure on any rank (a bad file, a bad
// part, a failed write) is agreed on by all ranks: rank 0 prints one message,
// every rank exits with status 1, and no output file is left (writes are
// atomic and happen only after the agreement).

extension Decomposition: ExpressibleByArgument {}

/// Whether this process prints summaries and messages: false on the ranks
/// other than 0 of a distributed run (set once, when MPI starts).
enum DistributedRun {
    static let quiet = Atomic<Bool>(false)

    /// Starts MPI (once per process) and arranges `MPI_Finalize` at exit, so
    /// that mpirun sees every rank end cleanly, on success and on error.
    static func start() throws -> Communicator {
        let communicator: Communicator
        do { communicator = try MPIEnvironment.initialize() } catch {
            throw CommandError("--distributed: MPI could not start: \(error)")
        }
        if !communicator.isRoot { quiet.store(true, ordering: .relaxed) }
        if !finalizerInstalled.exchange(true, ordering: .relaxed) {
            atexit { try? MPIEnvironment.finalize() }
        }
        return communicator
    }

    static let finalizerInstalled = Atomic<Bool>(false)

    /// Agrees on `failure` over all ranks: rank 0 throws the first failing
    /// rank's message (printed once, exit status 1); the other ranks exit
    /// with status 1 silently.
    static func agree(_ failure: String?, communicator: Communicator) throws {
        do { try communicator.agreeOnFailure(failure) } catch {
            let text: String
            if case let .failedOnRank(rank, message) = error {
                text = communicator.size > 1 ? "rank \(rank): \(message)" : message
            } else {
                text = "\(error)"
            }
            if communicator.isRoot { throw CommandError(text) }
            throw ExitCode(1)
        }
    }

    /// Runs `body`; with a communicator, every rank runs it and the ranks
    /// agree on its failure (``agree(_:communicator:)``), so that a failure
    /// on one rank stops all of them with its message. Without one, `body`'s
    /// error is thrown as it is (the single-process command).
    static func agreed<T>(_ communicator: Communicator?, _ body: () throws -> T) throws -> T {
        guard let communicator else { return try body() }
        let (value, failure) = attempt(body)
        try agree(failure, communicator: communicator)
        return value!
    }

    /// Every rank's traffic since the communicator was created, in rank
    /// order (an allgather of three numbers per rank).
    static func gatherTraffic(_ communicator: Communicator) throws -> [Traffic] {
        let mine = communicator.traffic
        do {
            let all = try communicator.allgather([Double(mine.bytesSent), mine.seconds, Double(mine.calls)])
            return all.map { Traffic(bytesSent: Int($0[0]), seconds: $0[1], calls: Int($0[2])) }
        } catch { throw CommandError("--distributed: \(error)") }
    }

    /// The message of a distributed failure (another rank's, or this one's).
    static func message(_ error: MPIError, ranks: Int) -> String {
        if case let .failedOnRank(rank, message) = error { return ranks > 1 ? "rank \(rank): \(message)" : message }
        return error.description
    }

    /// Runs `body`, turning its error into a message for ``agree(_:communicator:)``.
    static func attempt<T>(_ body: () throws -> T) -> (T?, String?) {
        do { return (try body(), nil) } catch let error as CommandError {
            return (nil, error.description)
        } catch {
            return (nil, "\(error)")
        }
    }
}

extension ReconstructCommand {
    /// This rank's part of `--projections` (an HDF5 hyperslab when the file
    /// is HDF5 and no selection is given; otherwise the whole array is read
    /// and the part taken from it), as `(N_r, J, K_r, C)`, the channel count
    /// and the number of axes of the whole array (3 or 4).
    func loadLocalProjections(_ text: String, geometry g: Geometry, partition: TomographyPartition) throws -> (RealArray, Int, Int) {
        let option = "--projections"
        let expected = [g.count] + g.projectionShape
        let address = try ArrayFiles.address(text, option: option)
        let whole: [Int]
        let part: RealArray
        if address.format == .hdf5 && address.selection.isEmpty {
            do { whole = try HDF5File(contentsOf: address.url).shape(of: address.member ?? "/") } catch {
                throw CommandError("\(option): \(error)")
            }
            guard channels(of: whole, expected: expected) != nil else {
                throw CommandError("\(option) \(text): expected shape \(expected) or \(expected + [-1]) from --geometry, received \(whole)")
            }
            var hyperslab = address
            hyperslab.selection = partition.projectionsSelection
            let any: AnyTensor
            do { any = try hyperslab.load() } catch { throw CommandError("\(option): \(ArrayFiles.message(error))") }
            switch any {
            case .float32(let t): part = .float(t)
            case .complex64, .complex128, .bool:
                throw CommandError("\(option) \(text): expected real numbers, found \(any.dtype)")
            default: part = .double(any.cast(to: Double.self))
            }
        } else {
            let array = try ArrayFiles.loadReal(text, option: option)
            whole = array.shape
            guard channels(of: whole, expected: expected) != nil else {
                throw CommandError("\(option) \(text): expected shape \(expected) or \(expected + [-1]) from --geometry, received \(whole)")
            }
            do {
                switch array {
                case .float(let t): part = .float(try t.view(partition.projectionsSelection))
                case .double(let t): part = .double(try t.view(partition.projectionsSelection))
                }
            } catch { throw CommandError(argument: option, value: text, error) }
        }
        let c = channels(of: whole, expected: expected)!
        let local = [partition.projections.count, g.projectionShape[0], partition.slices.count, c]
        switch part {
        case .float(let t): return (.float(t.contiguous().reshaped(local)), c, whole.count)
        case .double(let t): return (.double(t.contiguous().reshaped(local)), c, whole.count)
        }
    }

    /// `reconstruct --distributed`: see the comment at the top of this file.
    func executeDistributed(_ decomposition: Decomposition) throws -> Merged<IterativeSummary, Report> {
        let communicator = try DistributedRun.start()
        let inputPath = projections!
        // Every rank checks the arguments and reads its part; then they agree.
        let (loaded, loadFailure) = DistributedRun.attempt { () throws -> (Geometry, TomographyPartition, RealArray, Int, Int) in
            _ = try OutputCheck(inputs: [("--projections", inputPath), ("--geometry", geometry!)], output: ("--out", out))
            let g = try loadGeometry(geometry!)
            let partition: TomographyPartition
            do {
                partition = try TomographyPartition(decomposition, geometry: g, rank: communicator.rank, size: communicator.size)
                if decomposition == .slabs { try DistributedTomography.checkSlabGeometry(g) }
            } catch { throw CommandError(argument: "--distributed", value: decomposition.rawValue, error) }
            let (data, c, axes) = try loadLocalProjections(inputPath, geometry: g, partition: partition)
            return (g, partition, data, c, axes)
        }
        try DistributedRun.agree(loadFailure, communicator: communicator)
        let (g, partition, data, channels, axes) = loaded!
        let threeD = axes == 3
        var options = method == .mitra ? Reconstruction.Options.mitra : Reconstruction.Options()
        options.iterations = maxIterations
        options.tolerance = tolerance
        options.nonNegative = options.nonNegative || nonNegative
        // The bar on rank 0 only; every rank still polls Ctrl-C.
        let progress = communicator.isRoot ? CommandProgress(label: "\(method.rawValue) ×\(communicator.size)") : nil
        defer { progress?.finish() }
        let handler: ProgressHandler = progress?.handler ?? { _ in Interrupt.requested ? .stop : .continue }
        var traffic: [Traffic] = []
        func solve<S: OperatorScalar>(_ t: Tensor<S>) throws -> (Tensor<S>?, IterativeSummary) {
            let result: Reconstruction.Result<S>
            do {
                result = try DistributedTomography.reconstruct(method, geometry: g, channels: channels, localProjections: t,
                                                               partition: partition, communicator: communicator,
                                                               options: options, progress: handler)
            } catch {
                // The ranks agreed inside `reconstruct` (every rank throws the
                // same error): rank 0 prints it, the others exit quietly.
                if communicator.isRoot { throw CommandError("\(inputPathLabel): \(DistributedRun.message(error, ranks: communicator.size))") }
                throw ExitCode(1)
            }
            if result.stopReason == .cancelled { throw Interrupted() }
            // Every rank's traffic of the solve (before the volume is gathered).
            traffic = try DistributedRun.gatherTraffic(communicator)
            let volume: Tensor<S>?
            do { volume = try DistributedTomography.gatherVolume(result.volume, partition: partition, geometry: g, communicator: communicator) }
            catch { throw CommandError("--distributed: \(error)") }
            return (volume.map { threeD ? $0.reshaped(g.volumeShape) : $0 }, IterativeSummary(result))
        }
        let summary: IterativeSummary
        var writeFailure: String?
        switch data {
        case .float(let t):
            let (v, s) = try solve(t); summary = s
            if let v { writeFailure = DistributedRun.attempt { try ArrayFiles.write(v, to: out) }.1 }
        case .double(let t):
            let (v, s) = try solve(t); summary = s
            if let v { writeFailure = DistributedRun.attempt { try ArrayFiles.write(v, to: out) }.1 }
        }
        try DistributedRun.agree(writeFailure, communicator: communicator)
        return Merged(summary, Report(method: method.rawValue, geometry: geometry, projections: inputPath, out: out,
                                      channels: channels, nonNegative: options.nonNegative,
                                      distributed: decomposition.rawValue, ranks: communicator.size,
                                      mpiBytesSent: traffic.map(\.bytesSent), mpiSeconds: traffic.map(\.seconds),
                                      mpiCalls: traffic.first?.calls))
    }

    /// The label of the input in messages.
    var inputPathLabel: String { "--projections \(projections ?? "")" }
}
