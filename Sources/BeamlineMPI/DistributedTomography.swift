import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography
import Foundation

/// How a tomography problem is split over ranks.
public enum Decomposition: String, Sendable, CaseIterable, Equatable {
    /// Each rank holds a contiguous run of projections (and the whole
    /// volume); back-projections are summed over ranks. Any geometry.
    case projections
    /// Each rank holds a contiguous run of z-slices of the volume and the
    /// same detector rows of every projection; only scalars cross the
    /// network. Single-axis scans about z whose detector rows lie on the
    /// volume's z-slices (see ``DistributedTomography/checkSlabGeometry(_:)``).
    case slabs
}

/// The part of a tomography problem one rank holds: a run of projections
/// and a run of z-slices (= detector rows `k`).
public struct TomographyPartition: Sendable, Equatable {
    /// The decomposition.
    public let decomposition: Decomposition
    /// The rank this part belongs to.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// Indices of the projections this rank holds (all for ``Decomposition/slabs``).
    public let projections: Range<Int>
    /// The z-slices of the volume, and detector rows `k`, this rank holds
    /// (all for ``Decomposition/projections``).
    public let slices: Range<Int>

    /// Rank `rank`'s part of `geometry` among `size` ranks: the
    /// projections (or slices) split into contiguous runs in rank order, the
    /// run of rank r starting at `⌊r · n / size⌋`.
    ///
    /// - Throws: ``MPIError/argument(_:)`` when there are fewer projections
    ///   (or slices) than ranks, or `rank` is not in `0..<size`.
    public init(_ decomposition: Decomposition, geometry: Geometry, rank: Int, size: Int) throws(MPIError) {
        try self.init(decomposition, projectionCount: geometry.count, slices: geometry.volumeShape[2], rank: rank, size: size)
    }

    /// Rank `rank`'s part of a problem of `projectionCount` projections and
    /// a volume of `slices` z-slices, split as
    /// ``init(_:geometry:rank:size:)`` does (for a data set whose geometry
    /// is not read yet, such as a mumott file read projection by projection).
    ///
    /// - Throws: ``MPIError/argument(_:)`` when there are fewer projections
    ///   (or slices) than ranks, or `rank` is not in `0..<size`.
    public init(_ decomposition: Decomposition, projectionCount: Int, slices z: Int, rank: Int, size: Int) throws(MPIError) {
        guard size >= 1 && rank >= 0 && rank < size else {
            throw .invalidArgument(name: "rank", expected: "a rank in 0..<\(size)", received: "\(rank)")
        }
        let n = decomposition == .projections ? projectionCount : z
        guard n >= size else {
            let what = decomposition == .projections ? "projections" : "z-slices"
            throw .invalidArgument(name: "--distributed \(decomposition.rawValue)",
                                   expected: "at least one of the \(n) \(what) per rank", received: "\(size) ranks")
        }
        let run = (rank * n / size)..<((rank + 1) * n / size)
        self.decomposition = decomposition
        self.rank = rank
        self.size = size
        projections = decomposition == .projections ? run : 0..<projectionCount
        slices = decomposition == .slabs ? run : 0..<z
    }

    /// The selection of this rank's part of a projections array
    /// `(N, J, K[, C])`: a range of axis 0 or of axis 2 (for an HDF5
    /// hyperslab read).
    public var projectionsSelection: [TensorIndex] {
        decomposition == .projections ? [.range(projections)] : [.all, .all, .range(slices)]
    }
}

/// Builders of the distributed John-transform operators and the
/// distributed reconstructions (mumott's SIRT and MITRA, CGLS, LSMR) on
/// them: the same solvers as `Reconstruction`, run on every rank.
public enum DistributedTomography {
    /// Checks that `geometry` can be split into z-slabs with every ray in its
    /// slab: every projection is a rotation about z (detector `k` along +z,
    /// beam and `j` without z component, within 1e-13), the `k` offsets are
    /// 0, and the detector has as many rows `K` as the volume has slices `Z`
    /// (row k then lies on slice k).
    ///
    /// - Throws: ``MPIError/argument(_:)`` naming the first projection or
    ///   field that does not fit.
    public static func checkSlabGeometry(_ geometry: Geometry) throws(MPIError) {
        let tolerance = 1e-13
        guard geometry.volumeShape[2] == geometry.projectionShape[1] else {
            throw .invalidArgument(name: "geometry", expected: "as many detector rows K as volume slices Z for --distributed slabs",
                                   received: "K = \(geometry.projectionShape[1]), Z = \(geometry.volumeShape[2])")
        }
        for i in 0..<geometry.count {
            let (k, p, j) = (geometry.kDirection(i), geometry.beamDirection(i), geometry.jDirection(i))
            guard Swift.abs(k.x) <= tolerance && Swift.abs(k.y) <= tolerance && Swift.abs(k.z - 1) <= tolerance
                    && Swift.abs(p.z) <= tolerance && Swift.abs(j.z) <= tolerance else {
                throw .invalidArgument(name: "geometry rotations[\(i)]",
                                       expected: "a rotation about z (detector k along +z, beam and j in the xy plane) for --distributed slabs",
                                       received: "k direction \(k), beam \(p), j direction \(j)")
            }
            guard geometry.kOffsets[i] == 0 else {
                throw .invalidArgument(name: "geometry k_offsets[\(i)]", expected: "0 for --distributed slabs",
                                       received: "\(geometry.kOffsets[i])")
            }
        }
    }

    /// The geometry of one slab: `geometry` with `slices.count` volume slices
    /// and detector rows (centred like the whole, so row k of the slab lies
    /// on its slice k).
    static func slabGeometry(_ geometry: Geometry, slices: Range<Int>) -> Geometry {
        var g = geometry
        g.volumeShape[2] = slices.count
        g.projectionShape[1] = slices.count
        return g
    }

    /// The row-split operator of `partition` (``Decomposition/projections``):
    /// this rank's projections of `geometry`, the whole volume.
    ///
    /// - Throws: ``MPIError/argument(_:)`` wrapping the projector's error
    ///   (bad geometry or channels), or an MPI failure.
    public static func projectionOperator<S: OperatorScalar>(_ geometry: Geometry, channels: Int, partition: TomographyPartition,
                                                             communicator: Communicator, as _: S.Type = S.self)
        throws(MPIError) -> RowDistributedOperator<JohnTransformProjector<S>> {
        let projector: JohnTransformProjector<S>
        do { projector = try JohnTransformProjector<S>(geometry: geometry, channels: channels, indices: Array(partition.projections)) }
        catch { throw .invalidArgument(name: "geometry", expected: "a geometry the John transform accepts", received: error.description) }
        return try RowDistributedOperator(local: projector, communicator: communicator)
    }

    /// The slab operator of `partition` (``Decomposition/slabs``): this
    /// rank's z-slices of the volume and detector rows of every projection.
    ///
    /// - Throws: ``MPIError/argument(_:)`` from ``checkSlabGeometry(_:)`` or
    ///   the projector, or an MPI failure.
    public static func slabOperator<S: OperatorScalar>(_ geometry: Geometry, channels: Int, partition: TomographyPartition,
                                                       communicator: Communicator, as _: S.Type = S.self)
        throws(MPIError) -> SlabDistributedOperator<JohnTransformProjector<S>> {
        try checkSlabGeometry(geometry)
        let projector: JohnTransformProjector<S>
        do { projector = try JohnTransformProjector<S>(geometry: slabGeometry(geometry, slices: partition.slices), channels: channels) }
        catch { throw .invalidArgument(name: "geometry", expected: "a geometry the John transform accepts", received: error.description) }
        return try SlabDistributedOperator(local: projector, inputAxis: 2, outputAxis: 2, communicator: communicator)
    }

    /// This rank's part of a whole projections array `(N, J, K, C)`
    /// (for inputs that cannot be read in parts).
    ///
    /// - Throws: ``MPIError/argument(_:)`` when `projections` has fewer
    ///   than 3 axes or the part is out of its range.
    public static func localProjections<S: OperatorScalar>(_ projections: Tensor<S>,
                                                           partition: TomographyPartition) throws(MPIError) -> Tensor<S> {
        do { return try projections.view(partition.projectionsSelection).contiguous() } catch {
            throw .invalidArgument(name: "projections", expected: "an (N, J, K[, C]) array holding rank \(partition.rank)'s part",
                                   received: "shape \(projections.shape): \(error)")
        }
    }

    /// This rank's part of a whole volume `(X, Y, Z, C)`: the volume itself
    /// for ``Decomposition/projections``, its z-slab for ``Decomposition/slabs``.
    ///
    /// - Throws: ``MPIError/argument(_:)`` when `volume` has fewer than 3
    ///   axes or the slab is out of its range.
    public static func localVolume<S: OperatorScalar>(_ volume: Tensor<S>, partition: TomographyPartition) throws(MPIError) -> Tensor<S> {
        if partition.decomposition == .projections { return volume }
        do { return try volume.view([TensorIndex.all, .all, .range(partition.slices)]).contiguous() } catch {
            throw .invalidArgument(name: "volume", expected: "an (X, Y, Z[, C]) array holding rank \(partition.rank)'s slab",
                                   received: "shape \(volume.shape): \(error)")
        }
    }

    /// Reconstructs with `method` on every rank of `communicator`: this
    /// rank's projections `(N_r, J, K_r, C)` in, this rank's volume out (the
    /// whole volume for ``Decomposition/projections``, its slab `(X, Y,
    /// Z_r, C)` for ``Decomposition/slabs``; see ``gatherVolume(_:partition:geometry:communicator:)``).
    ///
    /// The methods are `Reconstruction`'s, with the same options and
    /// defaults: `sirt` and `mitra` (SIRT's weighted form, with the weights
    /// of the single-channel operator repeated over channels), `cgls` and
    /// `lsmr` (clamped at the end with `Reconstruction.Options.nonNegative`).
    /// The residual norm is ‖P x − d‖ over all ranks. On one rank with
    /// ``Decomposition/projections`` the result has the bits of
    /// `Reconstruction.run`.
    ///
    /// `progress` is called on every rank after each iteration; the solve
    /// stops (with `StopReason.cancelled`) when any rank's callback returns
    /// `ProgressAction.stop` (the ranks agree through one `MPI_Allreduce`
    /// per iteration).
    ///
    /// - Throws: ``MPIError/argument(_:)`` for `fbp` (not distributed), for
    ///   projections of the wrong shape or with non-finite values, or a bad
    ///   option; ``MPIError/failedOnRank(rank:message:)`` when another rank
    ///   failed its checks (every rank checks, then they agree, so every
    ///   rank throws the same error).
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func reconstruct<S: OperatorScalar>(_ method: Reconstruction.Method, geometry: Geometry, channels: Int,
                                                      localProjections: Tensor<S>, partition: TomographyPartition,
                                                      communicator: Communicator, options: Reconstruction.Options = Reconstruction.Options(),
                                                      progress: ProgressHandler? = nil) throws(MPIError) -> Reconstruction.Result<S> {
        // Every rank checks its own part; then they agree, so that a bad
        // part on one rank stops all of them with its message.
        var failure: String?
        var data: [S] = []
        let expected = [partition.projections.count, geometry.projectionShape[0], partition.slices.count, channels]
        if method == .fbp {
            failure = "--method fbp is not distributed (run it without --distributed: it is one back-projection)"
        } else if localProjections.shape != expected {
            failure = "projections: expected this rank's part of shape \(expected), received \(localProjections.shape)"
        } else if options.iterations < 0 {
            failure = "iterations: expected ≥ 0, received \(options.iterations)"
        } else if let problem = memoryProblem(geometry: geometry, channels: channels, partition: partition, as: S.self) {
            failure = problem
        } else {
            data = localProjections.elements
            if let bad = data.firstIndex(where: { !$0.isFinite }) {
                failure = "projections: non-finite value \(data[bad]) in this rank's part (element \(bad) of rank \(partition.rank)'s \(expected))"
            }
        }
        try communicator.agreeOnFailure(failure)
        let agreed = agreedProgress(progress, communicator: communicator)
        switch partition.decomposition {
        case .projections:
            let op = try projectionOperator(geometry, channels: channels, partition: partition, communicator: communicator, as: S.self)
            let single = channels == 1 ? nil
                : try projectionOperator(geometry, channels: 1, partition: partition, communicator: communicator, as: S.self)
            return try solve(method, op, single: single, data: data, channels: channels, options: options, progress: agreed)
        case .slabs:
            let op = try slabOperator(geometry, channels: channels, partition: partition, communicator: communicator, as: S.self)
            let single = channels == 1 ? nil
                : try slabOperator(geometry, channels: 1, partition: partition, communicator: communicator, as: S.self)
            return try solve(method, op, single: single, data: data, channels: channels, options: options, progress: agreed)
        }
    }

    /// `progress` (called on every rank; nil: continue) with the ranks'
    /// agreement: every rank stops when any rank's callback says `.stop` (an
    /// `MPI_Allreduce` of a flag per call), so the ranks stay in step.
    static func agreedProgress(_ progress: ProgressHandler?, communicator: Communicator) -> ProgressHandler {
        return { step in
            let local = progress?(step) ?? .continue
            var flag = [local == .stop ? 1.0 : 0.0]
            do { try communicator.allreduce(&flag, .max) } catch {
                MPIEnvironment.abort("rank \(communicator.rank): progress: \(error)")
            }
            return flag[0] > 0 ? .stop : .continue
        }
    }

    /// Why this rank cannot hold its part, or nil: the solvers keep about 7
    /// vectors of the rank's volume part and 4 of its projections (LSMR's
    /// count; SIRT and CGLS keep fewer), plus one volume for the rank-order
    /// sum of a projection split and the whole volume on rank 0 for the
    /// gather; this must fit in the machine's physical memory (ranks on one
    /// node share it: the check is per rank, so it is a lower bound there).
    /// (MPI's 32-bit counts are no limit: the collectives go in chunks.)
    static func memoryProblem<S: OperatorScalar>(geometry: Geometry, channels: Int, partition: TomographyPartition,
                                                 as _: S.Type) -> String? {
        let v = geometry.volumeShape
        // In Double: absurd shapes must give a message, not an overflow trap.
        let whole = v.reduce(Double(channels)) { $0 * Double($1) }
        let slab = Double(v[0]) * Double(v[1]) * Double(partition.slices.count * channels)
        let rows = Double(partition.projections.count) * Double(geometry.projectionShape[0]) * Double(partition.slices.count * channels)
        var elements = 7 * slab + 4 * rows
        if partition.decomposition == .projections && partition.size > 1 { elements += whole }
        if partition.rank == 0 && partition.decomposition == .slabs { elements += whole }
        let bytes = elements * Double(MemoryLayout<S>.stride)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > available else { return nil }
        func gb(_ b: Double) -> String { String(format: "%.1f GB", b / 1e9) }
        return "memory: this rank needs about \(gb(bytes)) for its part (volume \(v) × \(channels), \(partition.decomposition.rawValue) split over \(partition.size) ranks), the machine has \(gb(available))"
    }

    /// Runs the solver of `method` on `op` (`single`: the single-channel
    /// operator for the SIRT weights when there are several channels).
    static func solve<Op: LinearOperator>(_ method: Reconstruction.Method, _ op: Op, single: Op?, data: [Op.Scalar], channels: Int,
                                          options: Reconstruction.Options, progress: @escaping ProgressHandler) throws(MPIError)
        -> Reconstruction.Result<Op.Scalar> {
        typealias S = Op.Scalar
        let start = Tensor<S>([S](repeating: 0, count: op.columns))
        let rhs = Tensor(data)
        do {
            switch method {
            case .sirt, .mitra:
                let weighting = SIRT.Weighting.cutoffs(rows: options.weightsCutoff, columns: options.preconditionerCutoff)
                let configuration = SIRT.Configuration(maximumIterations: options.iterations, relaxation: options.stepSize,
                                                       nonNegative: options.nonNegative, weighting: weighting,
                                                       momentum: method == .sirt ? 0 : options.nesterovWeight,
                                                       lossTolerance: options.tolerance)
                let w = weights(single ?? op, weighting: weighting, channels: channels)
                let result = try SIRT.solve(op, rhs: rhs, x0: start, configuration: configuration, weights: w, progress: progress)
                return Reconstruction.Result(solution: result.solution.reshaped(op.inputShape), stopReason: result.stopReason,
                                             iterations: result.iterations, residualNorm: result.residualNorm,
                                             residualHistory: result.residualHistory, diagnostics: .init(method: method))
            case .cgls:
                let result = try CGLS.solve(op, rhs: rhs, x0: start,
                                            configuration: .init(tolerance: options.tolerance, maximumIterations: options.iterations),
                                            progress: progress)
                return finish(method, op, data, result.solution.elements, options, result.iterations, result.residualHistory, result.stopReason)
            case .lsmr:
                let result = try LSMR.solve(op, rhs: rhs, x0: start,
                                            configuration: .init(atol: options.tolerance, btol: options.tolerance, conlim: 0,
                                                                 maximumIterations: options.iterations),
                                            progress: progress)
                return finish(method, op, data, result.solution.elements, options, result.iterations, result.residualHistory, result.stopReason)
            case .fbp:
                throw MPIError.invalidArgument(name: "--method", expected: "sirt, mitra, cgls or lsmr with --distributed", received: "fbp")
            }
        } catch let error as SolverError {
            throw .invalidArgument(name: "reconstruction", expected: "a problem the solver accepts", received: error.description)
        } catch let error as MPIError {
            throw error
        } catch {
            throw .invalidArgument(name: "reconstruction", expected: "a problem the solver accepts", received: "\(error)")
        }
    }

    /// mumott's SIRT weights on `op` (single channel), repeated over
    /// `channels` as `Reconstruction.weights` does.
    static func weights<Op: LinearOperator>(_ op: Op, weighting: SIRT.Weighting, channels: Int) -> SIRT.Weights<Op.Scalar> {
        let w = SIRT.Weights(of: op, weighting: weighting)
        guard channels > 1 else { return w }
        func repeated(_ values: [Op.Scalar]) -> [Op.Scalar] {
            var out = [Op.Scalar](repeating: 0, count: values.count * channels)
            for (i, v) in values.enumerated() { for ch in 0..<channels { out[i * channels + ch] = v } }
            return out
        }
        return SIRT.Weights(rows: repeated(w.rows), columns: repeated(w.columns))
    }

    /// The clamp of `Reconstruction.Options.nonNegative` and ‖P x − d‖
    /// over all ranks (one sequential block per rank, as `Reconstruction`
    /// sums it on one process).
    static func finish<Op: LinearOperator>(_ method: Reconstruction.Method, _ op: Op, _ data: [Op.Scalar], _ solution: [Op.Scalar],
                                           _ options: Reconstruction.Options, _ iterations: Int, _ history: [Double],
                                           _ reason: StopReason) -> Reconstruction.Result<Op.Scalar> {
        var x = solution
        if options.nonNegative { for j in 0..<x.count where x[j] < 0 { x[j] = 0 } }
        var r = [Op.Scalar](repeating: 0, count: op.rows)
        x.withUnsafeBufferPointer { xs in r.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
        let norm2 = r.withUnsafeBufferPointer { rs in
            data.withUnsafeBufferPointer { ds in
                let (rp, dp) = (SendableBuffer(rs), SendableBuffer(ds))
                return op.outputSpaceSum(blockSize: Int.max, scalar: { range in
                    var sum = 0.0
                    for i in range { let d = Double(rp[i]) - Double(dp[i]); sum += d * d }
                    return sum
                })
            }
        }
        return Reconstruction.Result(solution: Tensor(shape: op.inputShape, elements: x), stopReason: reason, iterations: iterations,
                                     residualNorm: norm2.squareRoot(), residualHistory: history, diagnostics: .init(method: method))
    }

    /// The whole volume `(X, Y, Z, C)` on rank 0 (nil on the others), from
    /// every rank's result of ``reconstruct(_:geometry:channels:localProjections:partition:communicator:options:progress:)``:
    /// rank 0's own for ``Decomposition/projections`` (every rank holds the
    /// same bits), the slabs gathered in rank order (`MPI_Gatherv`) for
    /// ``Decomposition/slabs``.
    ///
    /// - Throws: ``MPIError`` for a local volume of the wrong shape (on any
    ///   rank: they agree first) or a failed call.
    public static func gatherVolume<S: OperatorScalar>(_ local: Tensor<S>, partition: TomographyPartition, geometry: Geometry,
                                                       communicator: Communicator) throws(MPIError) -> Tensor<S>? {
        let (x, y, z) = (geometry.volumeShape[0], geometry.volumeShape[1], geometry.volumeShape[2])
        let channels = local.rank == 4 ? local.shape[3] : 0
        let expected = [x, y, partition.slices.count, channels]
        try communicator.agreeOnFailure(local.shape == expected ? nil
                                        : "volume: expected this rank's part of shape \(expected), received \(local.shape)")
        if partition.decomposition == .projections { return communicator.isRoot ? local : nil }
        guard let all = try communicator.gather(local.elements) else { return nil }
        var volume = [S](repeating: 0, count: x * y * z * channels)
        var offset = 0
        for r in 0..<partition.size {
            let slices = (r * z / partition.size)..<((r + 1) * z / partition.size)
            let zr = slices.count
            for ix in 0..<x { for iy in 0..<y {
                let source = offset + (ix * y + iy) * zr * channels
                let target = ((ix * y + iy) * z + slices.lowerBound) * channels
                for e in 0..<(zr * channels) { volume[target + e] = all[source + e] }
            } }
            offset += x * y * zr * channels
        }
        return Tensor(shape: [x, y, z, channels], elements: volume)
    }
}
