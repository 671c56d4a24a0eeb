import BeamlineTensor

// The combinators that need an intermediate vector (sum, product, stack)
// hold an ``OperatorWorkspace`` made once at init, so applying them
// allocates nothing (see ``OperatorWorkspace`` for concurrent use).

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
    /// The base's ``LinearOperator/outputShape``.
    @inlinable public var inputShape: [Int] { base.outputShape }
    /// The base's ``LinearOperator/inputShape``.
    @inlinable public var outputShape: [Int] { base.inputShape }
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
    /// The base's input-space sums (the adjoint's output space is the
    /// base's input space).
    @inlinable
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        base.inputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
    /// The base's output-space sums.
    @inlinable
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        base.outputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
}

extension AdjointOperator: Sendable where Base: Sendable {}

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
    /// The base's input shape.
    @inlinable public var inputShape: [Int] { base.inputShape }
    /// The base's output shape.
    @inlinable public var outputShape: [Int] { base.outputShape }
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
    /// The base's output-space sums.
    @inlinable
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        base.outputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
    /// The base's input-space sums.
    @inlinable
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        base.inputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
}

extension ScaledOperator: Sendable where Base: Sendable {}

/// `A + B` for two operators of equal shape.
public struct SumOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The first term.
    public let first: A
    /// The second term.
    public let second: B
    /// Scratch for the second term's product (max(rows, columns) elements).
    @usableFromInline let workspace: OperatorWorkspace<A.Scalar>
    /// `first + second`.
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   when the shapes differ.
    public init(_ first: A, _ second: B) throws(ArgumentError) {
        guard first.rows == second.rows && first.columns == second.columns else {
            throw .shapeMismatch(argument: "second term of SumOperator", expected: first.shape, received: second.shape)
        }
        self.first = first
        self.second = second
        workspace = OperatorWorkspace(count: Swift.max(first.rows, first.columns))
    }
    /// The common rows.
    @inlinable public var rows: Int { first.rows }
    /// The common columns.
    @inlinable public var columns: Int { first.columns }
    /// The first term's input shape.
    @inlinable public var inputShape: [Int] { first.inputShape }
    /// The first term's output shape.
    @inlinable public var outputShape: [Int] { first.outputShape }
    /// `y = A x + B x` (no allocation: the workspace holds `B x`).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        first.apply(x, into: y)
        workspace.withScratch { scratch in
            let t = UnsafeMutableBufferPointer(rebasing: scratch[0..<y.count])
            second.apply(x, into: t)
            if let yp = y.baseAddress, let tp = t.baseAddress { VectorKernels.add(tp, to: yp, y.count) }
        }
    }
    /// `x = Aᵀ y + Bᵀ y` (no allocation).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        first.applyAdjoint(y, into: x)
        workspace.withScratch { scratch in
            let t = UnsafeMutableBufferPointer(rebasing: scratch[0..<x.count])
            second.applyAdjoint(y, into: t)
            if let xp = x.baseAddress, let tp = t.baseAddress { VectorKernels.add(tp, to: xp, x.count) }
        }
    }
    /// The first operand's output-space sums (both operands share the spaces).
    @inlinable
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        first.outputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
    /// The first operand's input-space sums.
    @inlinable
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        first.inputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
}

extension SumOperator: Sendable where A: Sendable, B: Sendable {}

/// The product `A B` (apply `B`, then `A`).
public struct ProductOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The operator applied second.
    public let outer: A
    /// The operator applied first.
    public let inner: B
    /// Scratch for the intermediate vector (`inner.rows` elements).
    @usableFromInline let workspace: OperatorWorkspace<A.Scalar>
    /// `outer · inner`.
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   when `outer.columns != inner.rows`.
    public init(_ outer: A, _ inner: B) throws(ArgumentError) {
        guard outer.columns == inner.rows else {
            throw .shapeMismatch(argument: "inner operator of ProductOperator", expected: [outer.columns, inner.columns],
                                 received: inner.shape)
        }
        self.outer = outer
        self.inner = inner
        workspace = OperatorWorkspace(count: inner.rows)
    }
    /// The outer operator's rows.
    @inlinable public var rows: Int { outer.rows }
    /// The inner operator's columns.
    @inlinable public var columns: Int { inner.columns }
    /// The inner operator's input shape.
    @inlinable public var inputShape: [Int] { inner.inputShape }
    /// The outer operator's output shape.
    @inlinable public var outputShape: [Int] { outer.outputShape }
    /// `y = A (B x)` (no allocation: the workspace holds `B x`).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        workspace.withScratch { t in
            inner.apply(x, into: t)
            outer.apply(UnsafeBufferPointer(t), into: y)
        }
    }
    /// `x = Bᵀ (Aᵀ y)` (no allocation).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        workspace.withScratch { t in
            outer.applyAdjoint(y, into: t)
            inner.applyAdjoint(UnsafeBufferPointer(t), into: x)
        }
    }
    /// The outer operator's output-space sums.
    @inlinable
    public func outputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                               _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        outer.outputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
    /// The inner operator's input-space sums.
    @inlinable
    public func inputSpaceSum(blockSize: Int, partials: UnsafeMutableBufferPointer<SIMD2<Double>>?,
                              _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        inner.inputSpaceSum(blockSize: blockSize, partials: partials, body)
    }
}

extension ProductOperator: Sendable where A: Sendable, B: Sendable {}

/// The vertical stack `[A; B]` of two operators with the same columns (for
/// example a data term over a Tikhonov regulariser).
public struct VerticalStackOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    /// The upper block.
    public let top: A
    /// The lower block.
    public let bottom: B
    /// Scratch for the lower block's adjoint (`columns` elements).
    @usableFromInline let workspace: OperatorWorkspace<A.Scalar>
    /// `[top; bottom]`.
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   when the column counts differ.
    public init(_ top: A, _ bottom: B) throws(ArgumentError) {
        guard top.columns == bottom.columns else {
            throw .shapeMismatch(argument: "bottom operator of VerticalStackOperator", expected: [bottom.rows, top.columns],
                                 received: bottom.shape)
        }
        self.top = top
        self.bottom = bottom
        workspace = OperatorWorkspace(count: top.columns)
    }
    /// `top.rows + bottom.rows`.
    @inlinable public var rows: Int { top.rows + bottom.rows }
    /// The common columns.
    @inlinable public var columns: Int { top.columns }
    /// The upper block's input shape.
    @inlinable public var inputShape: [Int] { top.inputShape }
    /// `y = [A x; B x]`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<A.Scalar>, into y: UnsafeMutableBufferPointer<A.Scalar>) {
        top.apply(x, into: UnsafeMutableBufferPointer(rebasing: y[0..<top.rows]))
        bottom.apply(x, into: UnsafeMutableBufferPointer(rebasing: y[top.rows...]))
    }
    /// `x = Aᵀ y₁ + Bᵀ y₂` (no allocation: the workspace holds `Bᵀ y₂`).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<A.Scalar>, into x: UnsafeMutableBufferPointer<A.Scalar>) {
        top.applyAdjoint(UnsafeBufferPointer(rebasing: y[0..<top.rows]), into: x)
        workspace.withScratch { t in
            bottom.applyAdjoint(UnsafeBufferPointer(rebasing: y[top.rows...]), into: t)
            if let xp = x.baseAddress, let tp = t.baseAddress { VectorKernels.add(tp, to: xp, x.count) }
        }
    }
}

extension VerticalStackOperator: Sendable where A: Sendable, B: Sendable {}

/// The diagonal matrix `diag(d)` as an operator.
public struct DiagonalOperator<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// The diagonal.
    public let diagonal: [Scalar]
    /// A diagonal operator from a vector (any tensor with one non-unit
    /// axis at most).
    ///
    /// - Throws: `ArgumentError.shapeMismatch(argument:expected:received:)`
    ///   for a tensor with more than one non-unit axis,
    ///   `ArgumentError.nonFiniteValues(argument:)` for NaN or infinity.
    public init(_ diagonal: Tensor<Scalar>) throws(ArgumentError) {
        guard diagonal.shape.filter({ $0 != 1 }).count <= 1 else {
            throw .shapeMismatch(argument: "diagonal", expected: [diagonal.count], received: diagonal.shape)
        }
        let values = diagonal.elements
        for value in values where !value.isFinite { throw .nonFiniteValues(argument: "diagonal") }
        self.diagonal = values
    }
    /// The diagonal's length.
    @inlinable public var rows: Int { diagonal.count }
    /// The diagonal's length.
    @inlinable public var columns: Int { diagonal.count }
    /// `y = d ⊙ x`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        diagonal.withUnsafeBufferPointer { d in
            guard d.count > 0 else { return }
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
