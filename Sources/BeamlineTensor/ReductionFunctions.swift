import RealModule

extension Tensor {
    /// Runs a reduction in expression code: a bad axis or an empty
    /// reduction without identity stops with the message.
    @inlinable
    func reduceOrStop<R: ElementReducer>(_ reducer: R, axes: [Int]?, keeping: Bool, _ operation: String) -> Tensor
    where R.Value == Element {
        do { return try reduce(reducer, axes: axes, keepingDimensions: keeping, operation: operation) } catch {
            preconditionFailure("\(operation) on shape \(shape): \(error)")
        }
    }
}

extension Tensor where Element: ArithmeticElement {
    /// Sum of all elements (`numpy.sum`; pairwise, bit-identical to NumPy on
    /// contiguous data; 0 for an empty tensor).
    @inlinable
    public func sum() -> Element { reduceOrStop(SumReducer(), axes: nil, keeping: false, "sum").scalar }

    /// Sums along `axis` (`numpy.sum(a, axis)`).
    @inlinable
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduceOrStop(SumReducer(), axes: [axis], keeping: keepingDimensions, "sum")
    }

    /// Sums along several axes (`numpy.sum(a, axis=(...))`).
    @inlinable
    public func sum(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        reduceOrStop(SumReducer(), axes: axes, keeping: keepingDimensions, "sum")
    }

    /// The throwing form of the sums: nil `axes` sums everything.
    @inlinable
    public func checkedSum(axes: [Int]? = nil, keepingDimensions: Bool = false) throws(TensorError) -> Tensor {
        try reduce(SumReducer(), axes: axes, keepingDimensions: keepingDimensions, operation: "sum")
    }
}

extension Tensor where Element: ComparableElement {
    /// Largest element (`numpy.max`; NaN if any element is NaN). Stops on an
    /// empty tensor, like NumPy; ``checkedMax(axes:keepingDimensions:)`` throws instead.
    @inlinable
    public func max() -> Element { reduceOrStop(MaxReducer(), axes: nil, keeping: false, "max").scalar }

    /// Largest elements along `axis`.
    @inlinable
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduceOrStop(MaxReducer(), axes: [axis], keeping: keepingDimensions, "max")
    }

    /// Smallest element (`numpy.min`; NaN if any element is NaN).
    @inlinable
    public func min() -> Element { reduceOrStop(MinReducer(), axes: nil, keeping: false, "min").scalar }

    /// Smallest elements along `axis`.
    @inlinable
    public func min(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduceOrStop(MinReducer(), axes: [axis], keeping: keepingDimensions, "min")
    }

    /// The throwing form of ``max()`` and ``max(axis:keepingDimensions:)``.
    @inlinable
    public func checkedMax(axes: [Int]? = nil, keepingDimensions: Bool = false) throws(TensorError) -> Tensor {
        try reduce(MaxReducer(), axes: axes, keepingDimensions: keepingDimensions, operation: "max")
    }

    /// The throwing form of ``min()`` and ``min(axis:keepingDimensions:)``.
    @inlinable
    public func checkedMin(axes: [Int]? = nil, keepingDimensions: Bool = false) throws(TensorError) -> Tensor {
        try reduce(MinReducer(), axes: axes, keepingDimensions: keepingDimensions, operation: "min")
    }

    /// Row-major position of the first largest element (`numpy.argmax`;
    /// the first NaN wins). Stops on an empty tensor.
    @inlinable
    public func argmax() -> Int {
        do { return try checkedArgExtremum(axis: nil, largest: true).scalar.asInt } catch {
            preconditionFailure("argmax on shape \(shape): \(error)")
        }
    }

    /// Row-major position of the first smallest element (`numpy.argmin`).
    @inlinable
    public func argmin() -> Int {
        do { return try checkedArgExtremum(axis: nil, largest: false).scalar.asInt } catch {
            preconditionFailure("argmin on shape \(shape): \(error)")
        }
    }

    /// Positions of the first largest elements along `axis`.
    @inlinable
    public func argmax(axis: Int) -> Tensor<Int64> {
        do { return try checkedArgExtremum(axis: axis, largest: true) } catch {
            preconditionFailure("argmax on shape \(shape): \(error)")
        }
    }

    /// Positions of the first smallest elements along `axis`.
    @inlinable
    public func argmin(axis: Int) -> Tensor<Int64> {
        do { return try checkedArgExtremum(axis: axis, largest: false) } catch {
            preconditionFailure("argmin on shape \(shape): \(error)")
        }
    }

    /// The throwing form of the arg-extremum functions: positions (along
    /// `axis`, or row-major over everything when nil) of the first largest
    /// or smallest element; NaN counts as extreme, as in NumPy.
    @inlinable
    public func checkedArgExtremum(axis: Int?, largest: Bool) throws(TensorError) -> Tensor<Int64> {
        let line: Tensor
        let outShape: [Int]
        if let axis {
            let a = try normalizedAxis(axis)
            line = movingAxis(a, to: rank - 1)
            outShape = Array(line.shape.dropLast())
        } else {
            line = contiguous().reshaped([1, count])
            outShape = []
        }
        let n = line.shape.last ?? 1
        guard n > 0 else {
            throw TensorError.invalidArgument(name: "tensor", expected: "at least one element along the axis",
                                              received: "shape \(shape)")
        }
        let keptShape = Array(line.shape.dropLast()), keptStrides = Array(line.strides.dropLast())
        let step = line.strides.last ?? 1
        let result = Tensor<Int64>(shape: outShape, repeating: 0)
        let loop = StridedLoop(shape: keptShape, strides: [Tensor<Int64>.contiguousStrides(for: keptShape), keptStrides])
        let out = result.sendableMutableElements
        let input = line.sendableElements
        withExtendedLifetime(line.storage) {
            loop.forEachRunInParallel(minimumChunk: Swift.max(1, elementwiseChunk / n)) { o, count in
                for i in 0..<count {
                    let p = input.pointer(at: o.y &+ i &* loop.innerStrides.y)
                    var best = p[0], position = 0
                    if best == best {
                        for j in 1..<n {
                            let v = p[j &* step]
                            if v != v { position = j; break }
                            if largest ? v > best : v < best { best = v; position = j }
                        }
                    }
                    out[o.x &+ i &* loop.innerStrides.x] = Int64(position)
                }
            }
        }
        return result
    }
}

extension Int64 {
    @usableFromInline var asInt: Int { Int(self) }
}

extension Tensor where Element: FloatingElement {
    /// Mean of all elements (`numpy.mean`: the pairwise sum divided by the
    /// count; NaN for an empty tensor, as NumPy returns with a warning).
    @inlinable
    public func mean() -> Element {
        sum() / Element(_castingInt64: Int64(count))
    }

    /// Means along `axis`.
    @inlinable
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(axes: [axis], keepingDimensions: keepingDimensions)
    }

    /// Means along several axes.
    @inlinable
    public func mean(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let sums = sum(axes: axes, keepingDimensions: keepingDimensions)
        let n = axes.reduce(1) { $0 * layout.length(checkedAxis($1, "mean")) }
        return sums / Element(_castingInt64: Int64(n))
    }

    /// Variance of all elements (`numpy.var`): mean of `|x - mean|²` with
    /// `count - ddof` in the denominator.
    @inlinable
    public func variance(ddof: Int = 0) -> Element.RealComponent {
        variance(axes: Array(0..<rank), ddof: ddof).scalar
    }

    /// Variances along `axes` (`numpy.var(a, axis, ddof=ddof)`), computed as
    /// NumPy does: subtract the mean, sum `|d|²`, divide by `n - ddof`.
    @inlinable
    public func variance(axes: [Int], ddof: Int = 0, keepingDimensions: Bool = false) -> Tensor<Element.RealComponent> {
        let centred = self - mean(axes: axes, keepingDimensions: true)
        let squares = centred.map { d -> Element.RealComponent in
            d.realComponent * d.realComponent + d.imaginaryComponent * d.imaginaryComponent
        }
        let n = axes.reduce(1) { $0 * layout.length(checkedAxis($1, "variance")) }
        return squares.sum(axes: axes, keepingDimensions: keepingDimensions)
            / Element.RealComponent(Swift.max(n - ddof, 0))
    }

    /// Variances along `axis`.
    @inlinable
    public func variance(axis: Int, ddof: Int = 0, keepingDimensions: Bool = false) -> Tensor<Element.RealComponent> {
        variance(axes: [axis], ddof: ddof, keepingDimensions: keepingDimensions)
    }

    /// Standard deviation of all elements (`numpy.std`).
    @inlinable
    public func standardDeviation(ddof: Int = 0) -> Element.RealComponent {
        variance(ddof: ddof).squareRoot()
    }

    /// Standard deviations along `axis`.
    @inlinable
    public func standardDeviation(axis: Int, ddof: Int = 0, keepingDimensions: Bool = false)
        -> Tensor<Element.RealComponent> {
        sqrt(variance(axes: [axis], ddof: ddof, keepingDimensions: keepingDimensions))
    }

    /// Euclidean (Frobenius) norm of all elements (`numpy.linalg.norm(a)`).
    @inlinable
    public func norm() -> Element.RealComponent {
        norm(order: .two)
    }

    /// The vector norm of all elements taken as one vector: `.one` is the
    /// sum of moduli, `.two` the Euclidean norm, `.infinity` the largest
    /// modulus (`numpy.linalg.norm(a.ravel(), ord)`).
    @inlinable
    public func norm(order: VectorNormOrder) -> Element.RealComponent {
        switch order {
        case .one: return abs(self).sum()
        case .two: return squaredModuli().sum().squareRoot()
        case .infinity: return count == 0 ? 0 : abs(self).max()
        }
    }

    /// Euclidean norms along `axis` (`numpy.linalg.norm(a, axis=axis)`).
    @inlinable
    public func norm(axis: Int, keepingDimensions: Bool = false) -> Tensor<Element.RealComponent> {
        sqrt(squaredModuli().sum(axis: axis, keepingDimensions: keepingDimensions))
    }

    /// `|x|²` elementwise, as a real tensor.
    @inlinable
    func squaredModuli() -> Tensor<Element.RealComponent> {
        map { $0.realComponent * $0.realComponent + $0.imaginaryComponent * $0.imaginaryComponent }
    }
}

/// Orders for ``Tensor/norm(order:)``.
public enum VectorNormOrder: Sendable {
    /// Sum of moduli.
    case one
    /// Euclidean norm.
    case two
    /// Largest modulus.
    case infinity
}

/// The inner product `Σ aᵢ bᵢ` of two vectors of equal length, without
/// conjugation (`numpy.dot` for 1-d operands), summed pairwise.
@inlinable
public func dot<E: ArithmeticElement>(_ a: Tensor<E>, _ b: Tensor<E>) -> E {
    precondition(a.rank == 1 && b.rank == 1 && a.count == b.count,
                 "dot: expected two vectors of equal length, received shapes \(a.shape) and \(b.shape)")
    return (a * b).sum()
}

/// The throwing form of ``dot(_:_:)``.
@inlinable
public func checkedDot<E: ArithmeticElement>(_ a: Tensor<E>, _ b: Tensor<E>) throws(TensorError) -> E {
    guard a.rank == 1, b.rank == 1, a.count == b.count else {
        throw TensorError.shapeMismatch(argument: "dot", expected: a.shape, received: b.shape)
    }
    return (a * b).sum()
}

/// `Σ conj(aᵢ) bᵢ` over all elements (`numpy.vdot`).
@inlinable
public func vdot<E: FloatingElement>(_ a: Tensor<E>, _ b: Tensor<E>) -> E {
    precondition(a.count == b.count, "vdot: element counts differ, shapes \(a.shape) and \(b.shape)")
    return (a.conjugate.flattened * b.flattened).sum()
}
