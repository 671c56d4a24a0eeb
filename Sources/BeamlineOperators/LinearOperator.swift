import BeamlineTensor

/// A linear map `A` from vectors of ``columns`` elements to vectors of
/// ``rows`` elements, given by its forward product `y = A x` and its adjoint
/// `x = Aᵀ y`, written into buffers the caller owns (so that iterations do
/// not allocate).
///
/// Every solver in BeamlineSolvers takes `some LinearOperator`, so a
/// `CSRMatrix`, a dense matrix (``DenseMatrixOperator``), a projector, and
/// the combinators (``AdjointOperator``, ``ScaledOperator``,
/// ``SumOperator``, ``ProductOperator``, ``VerticalStackOperator``,
/// ``DiagonalOperator``) all work with every solver. The design follows
/// `scipy.sparse.linalg.LinearOperator` (`matvec` / `rmatvec`).
///
/// One vocabulary: ``apply(_:into:)`` / ``applyAdjoint(_:into:)`` on
/// buffers, ``apply(_:)`` / ``applyAdjoint(_:)`` on any tensor whose element
/// count matches (a mismatch is a programmer error, as in `Array`), and
/// ``checkedApply(_:)`` / ``checkedApplyAdjoint(_:)`` that throw
/// `ArgumentError` instead.
///
/// Contract: ``apply(_:into:)`` overwrites all of `y` (it does not
/// accumulate), the buffers have exactly the announced lengths and do not
/// overlap, and ``applyAdjoint(_:into:)`` is the exact adjoint:
/// ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ up to rounding.
public protocol LinearOperator {
    /// The element type, `Float` or `Double`.
    associatedtype Scalar: OperatorScalar
    /// Length of the output of ``apply(_:into:)`` (rows of the matrix).
    var rows: Int { get }
    /// Length of the input of ``apply(_:into:)`` (columns of the matrix).
    var columns: Int { get }
    /// The shape of a natural input (default `[columns]`; a projector's is
    /// its volume shape). Its element count is ``columns``.
    var inputShape: [Int] { get }
    /// The shape of a natural output (default `[rows]`; a projector's is
    /// its projections shape). Its element count is ``rows``.
    var outputShape: [Int] { get }
    /// `y = A x`, with `x.count == columns` and `y.count == rows`.
    func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>)
    /// `x = Aᵀ y`, with `y.count == rows` and `x.count == columns`.
    func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>)
    /// Σ `body(range)` over the indices `0..<rows` of vectors of the output
    /// space (two sums at once: lanes of a `SIMD2<Double>`), in a fixed
    /// order. Every norm and dot product of the solvers over vectors of
    /// ``rows`` elements goes through here.
    ///
    /// The default (every operator on one process) sums fixed blocks of
    /// `blockSize` indices (in parallel) and adds the block sums in block
    /// order, as `VectorKernels.blockedSum(count:_:)` does, so the result
    /// does not depend on the thread count. An operator whose output space is
    /// split over processes (BeamlineMPI's distributed operators) sums its
    /// own part and combines the parts of every process in a fixed order, so
    /// the solvers run unchanged on it; it may choose its own blocks.
    /// `partials` is optional scratch for the default's block sums (at least
    /// one element per block; a solver that sums every iteration passes one
    /// so that it allocates nothing); with nil the default allocates it.
    func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double>
    /// Σ `body(range)` over the indices `0..<columns` of vectors of the input
    /// space; see ``outputSpaceSum(blockSize:partials:_:)``.
    func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double>
}

extension LinearOperator {
    /// `[columns]`.
    @inlinable public var inputShape: [Int] { [columns] }
    /// `[rows]`.
    @inlinable public var outputShape: [Int] { [rows] }

    /// `[rows, columns]`.
    @inlinable public var shape: [Int] { [rows, columns] }

    /// Blocks of `blockSize` output indices, summed in block order (one
    /// process).
    @inlinable
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        VectorKernels.blockedSum2(count: rows, blockSize: blockSize, partials: partials, body)
    }

    /// Blocks of `blockSize` input indices, summed in block order (one
    /// process).
    @inlinable
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        VectorKernels.blockedSum2(count: columns, blockSize: blockSize, partials: partials, body)
    }

    /// ``outputSpaceSum(blockSize:partials:_:)`` without scratch.
    @inlinable
    public func outputSpaceSum(blockSize: Int, _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        outputSpaceSum(blockSize: blockSize, partials: nil, body)
    }

    /// ``inputSpaceSum(blockSize:partials:_:)`` without scratch.
    @inlinable
    public func inputSpaceSum(blockSize: Int, _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        inputSpaceSum(blockSize: blockSize, partials: nil, body)
    }

    /// Σ `body(range)` over the output space, one sum (see
    /// ``outputSpaceSum(blockSize:partials:_:)``; blocks of `VectorKernels.blockSize`
    /// by default).
    @inlinable
    public func outputSpaceSum(blockSize: Int = VectorKernels.blockSize,
                               scalar body: @Sendable (Range<Int>) -> Double) -> Double {
        outputSpaceSum(blockSize: blockSize) { SIMD2(body($0), 0) }.x
    }

    /// Σ `body(range)` over the input space, one sum (see
    /// ``inputSpaceSum(blockSize:partials:_:)``).
    @inlinable
    public func inputSpaceSum(blockSize: Int = VectorKernels.blockSize,
                              scalar body: @Sendable (Range<Int>) -> Double) -> Double {
        inputSpaceSum(blockSize: blockSize) { SIMD2(body($0), 0) }.x
    }

    /// Σ yᵢ² over a vector `y` of the output space (``rows`` elements), in
    /// `Double`; equal to `VectorKernels.squaredNorm(_:_:)` on one process.
    @inlinable
    public func outputSquaredNorm(_ y: UnsafeBufferPointer<Scalar>) -> Double {
        precondition(y.count == rows, "LinearOperator.outputSquaredNorm: \(y.count) elements, expected \(rows)")
        let p = SendableBuffer(y)
        return outputSpaceSum(scalar: { range in
            var sum = 0.0
            for i in range { let v = Double(p[i]); sum += v * v }
            return sum
        })
    }

    /// Σ xᵢ² over a vector `x` of the input space (``columns`` elements), in
    /// `Double`; equal to `VectorKernels.squaredNorm(_:_:)` on one process.
    @inlinable
    public func inputSquaredNorm(_ x: UnsafeBufferPointer<Scalar>) -> Double {
        precondition(x.count == columns, "LinearOperator.inputSquaredNorm: \(x.count) elements, expected \(columns)")
        let p = SendableBuffer(x)
        return inputSpaceSum(scalar: { range in
            var sum = 0.0
            for i in range { let v = Double(p[i]); sum += v * v }
            return sum
        })
    }

    /// `A x` for a tensor `x` of any shape with ``columns`` elements; the
    /// result has ``outputShape``. A count mismatch is a programmer error
    /// (see ``checkedApply(_:)``).
    @inlinable
    public func apply(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.count == columns, "LinearOperator.apply: operator \(shape) applied to shape \(x.shape)")
        return x.withUnsafeBufferPointer { xs in Tensor(unsafeUninitializedShape: outputShape) { y in apply(xs, into: y) } }
    }

    /// `Aᵀ y` for a tensor `y` of any shape with ``rows`` elements; the
    /// result has ``inputShape``. A count mismatch is a programmer error
    /// (see ``checkedApplyAdjoint(_:)``).
    @inlinable
    public func applyAdjoint(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(y.count == rows, "LinearOperator.applyAdjoint: operator \(shape) adjoint applied to shape \(y.shape)")
        return y.withUnsafeBufferPointer { ys in Tensor(unsafeUninitializedShape: inputShape) { x in applyAdjoint(ys, into: x) } }
    }

    /// `A x`, throwing for input that does not fit: `x` must have
    /// ``columns`` elements (any shape) and finite values. The result has
    /// ``outputShape``.
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   (expected ``inputShape``) or `ArgumentError.nonFiniteValues(argument:)`.
    @inlinable
    public func checkedApply(_ x: Tensor<Scalar>) throws(ArgumentError) -> Tensor<Scalar> {
        guard x.count == columns else { throw .shapeMismatch(argument: "x", expected: inputShape, received: x.shape) }
        let result: Tensor<Scalar>? = x.withUnsafeBufferPointer { xs in
            Tensor<Scalar>.allElementsFinite(xs) ? Tensor(unsafeUninitializedShape: outputShape) { y in apply(xs, into: y) } : nil
        }
        guard let result else { throw .nonFiniteValues(argument: "x") }
        return result
    }

    /// `Aᵀ y`, throwing for input that does not fit: `y` must have ``rows``
    /// elements (any shape) and finite values. The result has ``inputShape``.
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   (expected ``outputShape``) or `ArgumentError.nonFiniteValues(argument:)`.
    @inlinable
    public func checkedApplyAdjoint(_ y: Tensor<Scalar>) throws(ArgumentError) -> Tensor<Scalar> {
        guard y.count == rows else { throw .shapeMismatch(argument: "y", expected: outputShape, received: y.shape) }
        let result: Tensor<Scalar>? = y.withUnsafeBufferPointer { ys in
            Tensor<Scalar>.allElementsFinite(ys) ? Tensor(unsafeUninitializedShape: inputShape) { x in applyAdjoint(ys, into: x) } : nil
        }
        guard let result else { throw .nonFiniteValues(argument: "y") }
        return result
    }

    /// The adjoint `Aᵀ` as an operator (no copy).
    @inlinable public var adjoint: AdjointOperator<Self> { AdjointOperator(self) }

    /// `factor · A` as an operator.
    @inlinable public func scaled(by factor: Scalar) -> ScaledOperator<Self> { ScaledOperator(self, factor: factor) }
}

// MARK: - Dense matrices

/// A dense matrix (a 2-d `Tensor`) as a ``LinearOperator``, applied with
/// BLAS `gemv`.
public struct DenseMatrixOperator<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// The matrix, C-contiguous.
    public let matrix: Tensor<Scalar>
    /// Number of rows of ``matrix``.
    public let rows: Int
    /// Number of columns of ``matrix``.
    public let columns: Int

    /// Wraps a 2-d tensor (copied to C order if needed).
    ///
    /// - Throws: `ArgumentError.invalidArgument(name:expected:received:)`
    ///   when `matrix` is not 2-d or a side exceeds BLAS's 32-bit sizes.
    public init(_ matrix: Tensor<Scalar>) throws(ArgumentError) {
        guard matrix.rank == 2 else {
            throw .invalidArgument(name: "matrix", expected: "a 2-d tensor", received: "shape \(matrix.shape)")
        }
        guard matrix.shape[0] <= Int(Int32.max) && matrix.shape[1] <= Int(Int32.max) else {
            throw .invalidArgument(name: "matrix", expected: "sides below 2^31 (BLAS sizes)", received: "shape \(matrix.shape)")
        }
        self.matrix = matrix.contiguous()
        rows = matrix.shape[0]
        columns = matrix.shape[1]
    }

    /// `y = A x` with `?gemv`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows, "DenseMatrixOperator.apply: buffer lengths")
        gemv(transpose: false, x, y)
    }

    /// `x = Aᵀ y` with `?gemv`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        precondition(y.count == rows && x.count == columns, "DenseMatrixOperator.applyAdjoint: buffer lengths")
        gemv(transpose: true, y, x)
    }

    @usableFromInline
    func gemv(transpose: Bool, _ input: UnsafeBufferPointer<Scalar>, _ output: UnsafeMutableBufferPointer<Scalar>) {
        guard output.count > 0 else { return }
        guard input.count > 0 else { output.initialize(repeating: 0); return }
        matrix.withUnsafeBufferPointer { a in
            Scalar._blasGemv(transpose: transpose, m: Int32(rows), n: Int32(columns), alpha: 1, a: a.baseAddress!,
                            lda: Int32(Swift.max(1, columns)), x: input.baseAddress!, incx: 1, beta: 0,
                            y: output.baseAddress!, incy: 1)
        }
    }
}
