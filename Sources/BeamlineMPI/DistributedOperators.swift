import BeamlineOperators
import BeamlineTensor

/// A `LinearOperator` whose rows are split over the ranks of a
/// ``Communicator``: each rank holds an operator `A_r` for its own rows (for
/// a projector, its own projections) and the whole input space (the volume),
/// so that `A = [A_0; A_1; …]`.
///
/// - ``apply(_:into:)`` is local: `y_r = A_r x`.
/// - ``applyAdjoint(_:into:)`` ends in a sum over ranks of the volume-sized
///   partial results `A_rᵀ y_r`, in rank order
///   (``Communicator/allreduceSumInRankOrder(_:)``), so every rank holds the
///   same bits of `Aᵀ y`.
/// - Vectors of the input space are whole (the same on every rank), so
///   their sums are local; vectors of the output space are split, so their
///   sums are local block sums combined over ranks in rank order
///   (``Communicator/sumInRankOrder(_:)``).
///
/// The solvers of BeamlineSolvers (LSMR, CGLS, SIRT in both forms) run
/// unchanged on it: every rank runs the same iterations with the same
/// scalars. On one rank the results are those of `local` itself, bit for
/// bit. On several ranks they differ from one rank's by rounding only: the
/// adjoint adds the ranks' partial sums, and the output-space norms add
/// per-rank block sums, in an order that depends on the number of ranks
/// (the tolerance is in docs/mpi.md).
///
/// An MPI failure inside ``applyAdjoint(_:into:)`` or a sum cannot be thrown
/// through `LinearOperator`: it ends every rank with
/// ``MPIEnvironment/abort(_:code:)`` and one message.
public struct RowDistributedOperator<Local: LinearOperator>: LinearOperator, @unchecked Sendable {
    /// The element type of `local`.
    public typealias Scalar = Local.Scalar
    /// This rank's rows of the operator.
    public let local: Local
    /// The ranks that hold the other rows.
    public let communicator: Communicator

    /// Wraps this rank's rows `local`; every rank must call it, and every
    /// rank's `local` must have the same columns.
    ///
    /// - Throws: ``MPIError/argument(_:)`` when the ranks' column counts
    ///   differ, or ``MPIError/call(function:code:message:)``.
    public init(local: Local, communicator: Communicator) throws(MPIError) {
        let columns = try communicator.allgather([local.columns])
        if let bad = columns.firstIndex(where: { $0 != [local.columns] }) {
            throw .invalidArgument(name: "local", expected: "the same columns on every rank (\(local.columns) on rank \(communicator.rank))",
                                   received: "\(columns[bad][0]) on rank \(bad)")
        }
        self.local = local
        self.communicator = communicator
    }

    /// This rank's rows.
    public var rows: Int { local.rows }
    /// The whole input space.
    public var columns: Int { local.columns }
    /// `local`'s input shape.
    public var inputShape: [Int] { local.inputShape }
    /// `local`'s output shape (this rank's part).
    public var outputShape: [Int] { local.outputShape }

    /// `y_r = A_r x` (local).
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        local.apply(x, into: y)
    }

    /// `x = Σ_r A_rᵀ y_r`, summed in rank order; the same bits on every rank.
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        local.applyAdjoint(y, into: x)
        do { try communicator.allreduceSumInRankOrder(x) } catch {
            MPIEnvironment.abort("rank \(communicator.rank): back-projection sum: \(error)")
        }
    }

    /// Local block sums, combined over ranks in rank order.
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        let mine = local.outputSpaceSum(blockSize: blockSize, partials: partials, body)
        do { return try communicator.sumInRankOrder(mine) } catch {
            MPIEnvironment.abort("rank \(communicator.rank): output-space sum: \(error)")
        }
    }

    /// Local (input-space vectors are whole on every rank).
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        local.inputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
}

/// A `LinearOperator` split into independent slabs over the ranks of a
/// ``Communicator``: the input space is split along axis ``inputAxis`` of
/// the input shape and the output space along axis ``outputAxis`` of the
/// output shape, and rank r's slab of the output depends only on rank r's
/// slab of the input (`A` is block diagonal). For a single-axis scan about
/// z, rank r owns z-slices of the volume `(X, Y, Z, C)` (axis 2) and the
/// matching detector rows of the projections `(N, J, K, C)` (axis 2): every
/// ray stays in its slab.
///
/// ``apply(_:into:)`` and ``applyAdjoint(_:into:)`` are local; only scalars
/// cross the network. Sums over either space are formed per slice of the
/// split axis (each slice's sum over its contiguous runs of the inner axes,
/// in index order), and the slice sums of all ranks are gathered and added
/// in global slice order. So the result of a sum does not depend on how the
/// slices are spread over ranks: a solver gives the same bits on 1, 2 or 4
/// ranks (the blocks differ from the one-process default's, so the results
/// differ from a plain one-process solve by rounding; see docs/mpi.md).
/// The `blockSize` the solvers pass is not used.
///
/// An MPI failure inside a sum ends every rank with
/// ``MPIEnvironment/abort(_:code:)`` and one message.
public struct SlabDistributedOperator<Local: LinearOperator>: LinearOperator, @unchecked Sendable {
    /// The element type of `local`.
    public typealias Scalar = Local.Scalar
    /// This rank's block: its input slab to its output slab.
    public let local: Local
    /// The ranks that hold the other slabs.
    public let communicator: Communicator
    /// The split axis of `local.inputShape`.
    public let inputAxis: Int
    /// The split axis of `local.outputShape`.
    public let outputAxis: Int

    /// Wraps this rank's block `local`, split along `inputAxis` of its input
    /// shape and `outputAxis` of its output shape. Every rank must call it,
    /// with slabs in rank order (rank 0 the first slices) and the same
    /// shapes apart from the split axes.
    ///
    /// - Throws: ``MPIError/argument(_:)`` for an axis out of range or
    ///   shapes that differ between ranks off the split axes, or
    ///   ``MPIError/call(function:code:message:)``.
    public init(local: Local, inputAxis: Int, outputAxis: Int, communicator: Communicator) throws(MPIError) {
        let (input, output) = (local.inputShape, local.outputShape)
        guard input.indices.contains(inputAxis) else {
            throw .invalidArgument(name: "inputAxis", expected: "an axis of the input shape \(input)", received: "\(inputAxis)")
        }
        guard output.indices.contains(outputAxis) else {
            throw .invalidArgument(name: "outputAxis", expected: "an axis of the output shape \(output)", received: "\(outputAxis)")
        }
        var key = input, key2 = output
        key[inputAxis] = -1
        key2[outputAxis] = -1
        let all = try communicator.allgather([key.count] + key + key2)
        if let bad = all.firstIndex(where: { $0 != all[0] }) {
            throw .invalidArgument(name: "local", expected: "the same input and output shapes off the split axes on every rank",
                                   received: "rank \(bad) differs from rank 0 (input \(input), output \(output) on rank \(communicator.rank))")
        }
        self.local = local
        self.communicator = communicator
        self.inputAxis = inputAxis
        self.outputAxis = outputAxis
    }

    /// This rank's output slab.
    public var rows: Int { local.rows }
    /// This rank's input slab.
    public var columns: Int { local.columns }
    /// `local`'s input shape (this rank's slab).
    public var inputShape: [Int] { local.inputShape }
    /// `local`'s output shape (this rank's slab).
    public var outputShape: [Int] { local.outputShape }

    /// `y_r = A_r x_r` (local).
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        local.apply(x, into: y)
    }

    /// `x_r = A_rᵀ y_r` (local).
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        local.applyAdjoint(y, into: x)
    }

    /// Per-slice sums of the output slab, added in global slice order.
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        sliceOrderedSum(shape: outputShape, axis: outputAxis, body)
    }

    /// Per-slice sums of the input slab, added in global slice order.
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        sliceOrderedSum(shape: inputShape, axis: inputAxis, body)
    }

    /// Σ body over a slab of `shape` split along `axis`: for each slice of
    /// the axis, the sum over (outer index, run of the inner axes) in index
    /// order; then all ranks' slice sums in slice order.
    func sliceOrderedSum(shape: [Int], axis: Int, _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        let slices = shape[axis]
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var partials = [SIMD2<Double>](repeating: .zero, count: slices)
        partials.withUnsafeMutableBufferPointer { out in
            let p = SendableMutableBuffer(out)
            Parallel.forEachBlock(count: slices, blockSize: 1) { s, _ in
                var sum = SIMD2<Double>.zero
                for o in 0..<outer {
                    let start = (o * slices + s) * inner
                    sum += body(start..<(start + inner))
                }
                p[s] = sum
            }
        }
        let flat = partials.flatMap { [$0.x, $0.y] }
        let all: [[Double]]
        if communicator.size > 1 {
            do { all = try communicator.allgather(flat) } catch {
                MPIEnvironment.abort("rank \(communicator.rank): slab sum: \(error)")
            }
        } else {
            all = [flat]
        }
        var total = SIMD2<Double>.zero
        for part in all {
            for s in 0..<(part.count / 2) { total += SIMD2(part[2 * s], part[2 * s + 1]) }
        }
        return total
    }
}
