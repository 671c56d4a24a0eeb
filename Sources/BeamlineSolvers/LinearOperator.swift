import BeamlineSparse
import BeamlineTensor

/// A linear map `A` from vectors of ``columns`` elements to vectors of
/// ``rows`` elements, given by its forward product `y = A x` and its adjoint
/// `x = Aᵀ y`, written into buffers the caller owns (so that iterations do
/// not allocate).
///
/// Every solver in BeamlineSolvers takes `some LinearOperator`, so a
/// ``CSRMatrix``, a dense matrix (``DenseMatrixOperator``), a projector, and
/// the combinators (``AdjointOperator``, ``ScaledOperator``,
/// ``SumOperator``, ``ProductOperator``, ``VerticalStackOperator``,
/// ``DiagonalOperator``) all work with every solver. The design follows
/// `scipy.sparse.linalg.LinearOperator` (`matvec` / `rmatvec`).
///
/// Contract: ``apply(_:into:)`` overwrites all of `y` (it does not
/// accumulate), the buffers have exactly the announced lengths and do not
/// overlap, and ``applyAdjoint(_:into:)`` is the exact adjoint:
/// ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ up to rounding.
public protocol LinearOperator {
    /// The element type, `Float` or `Double`.
    associatedtype Scalar: SparseElement
    /// Length of the output of ``apply(_:into:)`` (rows of the matrix).
    var rows: Int { get }
    /// Length of the input of ``apply(_:into:)`` (columns of the matrix).
    var columns: Int { get }
    /// `y = A x`, with `x.count == columns` and `y.count == rows`.
    func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>)
    /// `x = Aᵀ y`, with `y.count == rows` and `x.count == columns`.
    func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>)
}

extension LinearOperator {
    /// `[rows, columns]`.
    @inlinable public var shape: [Int] { [rows, columns] }

    /// `A x` for a tensor `x` of ``columns`` elements (a mismatch is a
    /// programmer error; see ``checkedApply(_:)``).
    @inlinable
    public func apply(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.count == columns, "LinearOperator.apply: operator \(shape) applied to shape \(x.shape)")
        return x.withUnsafeBufferPointer { xs in Tensor(unsafeUninitializedShape: [rows]) { y in apply(xs, into: y) } }
    }

    /// `Aᵀ y` for a tensor `y` of ``rows`` elements (a mismatch is a
    /// programmer error; see ``checkedApplyAdjoint(_:)``).
    @inlinable
    public func applyAdjoint(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(y.count == rows, "LinearOperator.applyAdjoint: operator \(shape) adjoint applied to shape \(y.shape)")
        return y.withUnsafeBufferPointer { ys in Tensor(unsafeUninitializedShape: [columns]) { x in applyAdjoint(ys, into: x) } }
    }

    /// `A x`, throwing ``SolverError/shapeMismatch(argument:expected:received:)``
    /// when `x` is not a vector of ``columns`` elements.
    @inlinable
    public func checkedApply(_ x: Tensor<Scalar>) throws(SolverError) -> Tensor<Scalar> {
        guard x.rank == 1 && x.count == columns else {
            throw .shapeMismatch(argument: "x", expected: [columns], received: x.shape)
        }
        return apply(x)
    }

    /// `Aᵀ y`, throwing ``SolverError/shapeMismatch(argument:expected:received:)``
    /// when `y` is not a vector of ``rows`` elements.
    @inlinable
    public func checkedApplyAdjoint(_ y: Tensor<Scalar>) throws(SolverError) -> Tensor<Scalar> {
        guard y.rank == 1 && y.count == rows else {
            throw .shapeMismatch(argument: "y", expected: [rows], received: y.shape)
        }
        return applyAdjoint(y)
    }

    /// The adjoint `Aᵀ` as an operator (no copy).
    @inlinable public var adjoint: AdjointOperator<Self> { AdjointOperator(self) }

    /// `factor · A` as an operator.
    @inlinable public func scaled(by factor: Scalar) -> ScaledOperator<Self> { ScaledOperator(self, factor: factor) }
}

// MARK: - CSR and dense matrices

extension CSRMatrix: LinearOperator {
    /// `y = A x` (``CSRMatrix/multiply(_:into:alpha:beta:)``).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Element>, into y: UnsafeMutableBufferPointer<Element>) {
        multiply(x, into: y)
    }

    /// `x = Aᵀ y` (``CSRMatrix/multiplyTransposed(_:into:alpha:beta:)``,
    /// with the cached transpose).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Element>, into x: UnsafeMutableBufferPointer<Element>) {
        multiplyTransposed(y, into: x)
    }
}

/// A dense matrix (a 2-d ``Tensor``) as a ``LinearOperator``, applied with
/// BLAS `gemv`.
public struct DenseMatrixOperator<Scalar: SparseElement>: LinearOperator, Sendable {
    /// The matrix, C-contiguous.
    public let matrix: Tensor<Scalar>
    /// Number of rows of ``matrix``.
    public let rows: Int
    /// Number of columns of ``matrix``.
    public let columns: Int

    /// Wraps a 2-d tensor (copied to C order if needed).
    ///
    /// - Throws: ``SolverError/invalidArgument(name:expected:received:)``
    ///   when `matrix` is not 2-d or a side exceeds BLAS's 32-bit sizes.
    public init(_ matrix: Tensor<Scalar>) throws(SolverError) {
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

// MARK: - Combinators

/// The adjoint `Aᵀ` of an operator (its forward product is the base's
/// adjoint and vice versa).
public struct AdjointOperator<Base: LinearOperator>: LinearOperator {
    /// The operator whose adjoint this is.
    public let base: Base
    /// Wraps `base`.
    @inlinable public init(_ base: Base) { self.base = base }
    /// The base's ``LinearOperator/columns``.
    @inlinable public var rows: Int { base.columns }
    /// The base's ``LinearOperator/rows``.
    @inlinable public var columns: Int { base.rows }
    /// `y = Aᵀ x`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Base.Scalar>, into y: UnsafeMutableBufferPointer<Base.Scalar>) {
        base.applyAdjoint(x, into: y)
    }
    /// `x = A y`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Base.Scalar>, into x: UnsafeMutableBufferPointer<Base.Scalar>) {
        base.apply(y, into: x)
    }
}

/// `factor · A`.
public struct ScaledOperator<Base: LinearOperator>: LinearOperator {
    /// The scaled operator.
    public let base: Base
    /// The factor.
    public let factor: Base.Scalar
    /// `factor · base`.
    @inlinable public init(_ base: Base, factor: Base.Scalar) { self.base = base; self.factor = factor }
    /// The base's rows.
    @inlinable public var rows: Int { base.rows }
    /// The base's columns.
    @inlinable public var columns: Int { base.columns }
    /// `y = factor · A x`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Base.Scalar>, into y: UnsafeMutableBufferPointer<Base.Scalar>) {
        base.apply(x, into: y)
        if let p = y.baseAddress { VectorKernels.scale(p, y.count, by: factor) }
    }
    /// `x = factor · Aᵀ y`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Base.Scalar>, into x: UnsafeMutableBufferPointer<Base.Scalar>) {
        base.applyAdjoint(y, into: x)
        if let p = x.baseAddress { VectorKernels.scale(p, x.count, by: factor) }
    }
}

/// `A + B` for two operators of equal shape.
public struct SumOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The first term.
    public let first: A
    /// The second term.
    public let second: B
    /// `first + second`.
    ///
    /// - Throws: ``SolverError/shapeMismatch(argument:expected:received:)``
    ///   when the shapes differ.
    public init(_ first: A, _ second: B) throws(SolverError) {
        guard first.rows == second.rows && first.columns == second.columns else {
            throw .shapeMismatch(argument: "second term of SumOperator", expected: first.shape, received: second.shape)
        }
        self.first = first
        self.second = second
    }
    /// The common rows.
    @inlinable public var rows: Int { first.rows }
    /// The common columns.
    @inlinable public var columns: Int { first.columns }
    /// `y = A x + B x` (one scratch vector per call).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        first.apply(x, into: y)
        var scratch: [A.Scalar] = zeroArray(rows)
        scratch.withUnsafeMutableBufferPointer { t in
            second.apply(x, into: t)
            let (yp, tp) = (SendableMutableBuffer(y), SendableBuffer(t))
            if y.baseAddress != nil, t.baseAddress != nil { VectorKernels.forEach(y.count) { range in for i in range { yp[i] += tp[i] } } }
        }
    }
    /// `x = Aᵀ y + Bᵀ y`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        first.applyAdjoint(y, into: x)
        var scratch: [A.Scalar] = zeroArray(columns)
        scratch.withUnsafeMutableBufferPointer { t in
            second.applyAdjoint(y, into: t)
            let (xp, tp) = (SendableMutableBuffer(x), SendableBuffer(t))
            if x.baseAddress != nil, t.baseAddress != nil { VectorKernels.forEach(x.count) { range in for i in range { xp[i] += tp[i] } } }
        }
    }
}

/// The product `A B` (apply `B`, then `A`).
public struct ProductOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The operator applied second.
    public let outer: A
    /// The operator applied first.
    public let inner: B
    /// `outer · inner`.
    ///
    /// - Throws: ``SolverError/shapeMismatch(argument:expected:received:)``
    ///   when `outer.columns != inner.rows`.
    public init(_ outer: A, _ inner: B) throws(SolverError) {
        guard outer.columns == inner.rows else {
            throw .shapeMismatch(argument: "inner operator of ProductOperator", expected: [outer.columns, inner.columns],
                                 received: inner.shape)
        }
        self.outer = outer
        self.inner = inner
    }
    /// The outer operator's rows.
    @inlinable public var rows: Int { outer.rows }
    /// The inner operator's columns.
    @inlinable public var columns: Int { inner.columns }
    /// `y = A (B x)` (one scratch vector per call).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        var scratch: [A.Scalar] = zeroArray(inner.rows)
        scratch.withUnsafeMutableBufferPointer { t in
            inner.apply(x, into: t)
            outer.apply(UnsafeBufferPointer(t), into: y)
        }
    }
    /// `x = Bᵀ (Aᵀ y)`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        var scratch: [A.Scalar] = zeroArray(inner.rows)
        scratch.withUnsafeMutableBufferPointer { t in
            outer.applyAdjoint(y, into: t)
            inner.applyAdjoint(UnsafeBufferPointer(t), into: x)
        }
    }
}

/// The vertical stack `[A; B]` of two operators with the same columns (for
/// example a data term over a regulariser).
public struct VerticalStackOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The upper block.
    public let top: A
    /// The lower block.
    public let bottom: B
    /// `[top; bottom]`.
    ///
    /// - Throws: ``SolverError/shapeMismatch(argument:expected:received:)``
    ///   when the column counts differ.
    public init(_ top: A, _ bottom: B) throws(SolverError) {
        guard top.columns == bottom.columns else {
            throw .shapeMismatch(argument: "bottom operator of VerticalStackOperator", expected: [bottom.rows, top.columns],
                                 received: bottom.shape)
        }
        self.top = top
        self.bottom = bottom
    }
    /// `top.rows + bottom.rows`.
    @inlinable public var rows: Int { top.rows + bottom.rows }
    /// The common columns.
    @inlinable public var columns: Int { top.columns }
    /// `y = [A x; B x]`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        top.apply(x, into: UnsafeMutableBufferPointer(rebasing: y[0..<top.rows]))
        bottom.apply(x, into: UnsafeMutableBufferPointer(rebasing: y[top.rows...]))
    }
    /// `x = Aᵀ y₁ + Bᵀ y₂`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        top.applyAdjoint(UnsafeBufferPointer(rebasing: y[0..<top.rows]), into: x)
        var scratch: [A.Scalar] = zeroArray(columns)
        scratch.withUnsafeMutableBufferPointer { t in
            bottom.applyAdjoint(UnsafeBufferPointer(rebasing: y[top.rows...]), into: t)
            let (xp, tp) = (SendableMutableBuffer(x), SendableBuffer(t))
            if x.baseAddress != nil, t.baseAddress != nil { VectorKernels.forEach(x.count) { range in for i in range { xp[i] += tp[i] } } }
        }
    }
}

/// The diagonal matrix `diag(d)` as an operator.
public struct DiagonalOperator<Scalar: SparseElement>: LinearOperator, Sendable {
    /// The diagonal.
    public let diagonal: [Scalar]
    /// A diagonal operator from a vector.
    ///
    /// - Throws: ``SolverError/nonFiniteValues(argument:)`` for NaN or
    ///   infinity.
    public init(_ diagonal: Tensor<Scalar>) throws(SolverError) {
        self.diagonal = try checkedVector(diagonal.reshaped([diagonal.count]), count: diagonal.count, name: "diagonal")
    }
    /// The diagonal's length.
    @inlinable public var rows: Int { diagonal.count }
    /// The diagonal's length.
    @inlinable public var columns: Int { diagonal.count }
    /// `y = d ⊙ x`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        diagonal.withUnsafeBufferPointer { d in
            guard d.baseAddress != nil, x.baseAddress != nil, y.baseAddress != nil else { return }
            let (dp, xp, yp) = (SendableBuffer(d), SendableBuffer(x), SendableMutableBuffer(y))
            VectorKernels.forEach(d.count) { range in for i in range { yp[i] = dp[i] * xp[i] } }
        }
    }
    /// `x = d ⊙ y` (a real diagonal is self-adjoint).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        apply(y, into: x)
    }
}
