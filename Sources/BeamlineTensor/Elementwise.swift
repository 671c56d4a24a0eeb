// The elementwise engine: every map over one, two or three tensors (with
// NumPy broadcasting) goes through these kernels. The per-element work is a
// value of a type conforming to ``UnaryElementOperation`` or
// ``BinaryElementOperation``: the kernels are specialised on that type, so
// the operation inlines into the loop (a closure captured by the parallel
// loop would instead cost an indirect call per element).

/// A function of one element, applied by `map(_:)-(UnaryElementOperation)`.
public protocol UnaryElementOperation: Sendable {
    /// Element type read.
    associatedtype Input: TensorElement
    /// Element type written.
    associatedtype Output: TensorElement
    /// The function.
    func callAsFunction(_ x: Input) -> Output
}

/// A function of two elements, applied with broadcasting by `zip(_:_:_:)-(_,_,BinaryElementOperation)`.
public protocol BinaryElementOperation: Sendable {
    /// Element type of the left operand.
    associatedtype Left: TensorElement
    /// Element type of the right operand.
    associatedtype Right: TensorElement
    /// Element type written.
    associatedtype Output: TensorElement
    /// The function.
    func callAsFunction(_ a: Left, _ b: Right) -> Output
}

/// Wraps a closure as a ``UnaryElementOperation`` (one indirect call per element).
@frozen public struct ClosureUnaryOperation<Input: TensorElement, Output: TensorElement>: UnaryElementOperation {
    @usableFromInline let body: @Sendable (Input) -> Output
    /// Wraps `body`.
    @inlinable public init(_ body: @escaping @Sendable (Input) -> Output) { self.body = body }
    /// Calls the closure.
    @inlinable public func callAsFunction(_ x: Input) -> Output { body(x) }
}

/// Wraps a closure as a ``BinaryElementOperation`` (one indirect call per element).
@frozen public struct ClosureBinaryOperation<Left: TensorElement, Right: TensorElement, Output: TensorElement>:
    BinaryElementOperation {
    @usableFromInline let body: @Sendable (Left, Right) -> Output
    /// Wraps `body`.
    @inlinable public init(_ body: @escaping @Sendable (Left, Right) -> Output) { self.body = body }
    /// Calls the closure.
    @inlinable public func callAsFunction(_ a: Left, _ b: Right) -> Output { body(a, b) }
}

extension Tensor {
    /// A new tensor holding `transform` applied to every element.
    ///
    /// Runs in parallel over chunks for large tensors, so `transform` is
    /// `@Sendable` (it cannot change captured state, which would race); it
    /// must not depend on the order of calls. To map with a closure that
    /// is not `@Sendable`, map ``elements`` (an `Array`) serially.
    @inlinable
    public func map<Result: TensorElement>(_ transform: @Sendable (Element) -> Result) -> Tensor<Result> {
        withoutActuallyEscaping(transform) { map(ClosureUnaryOperation($0)) }
    }

    /// A new tensor holding `operation` applied to every element (the
    /// kernel is specialised on the operation's type).
    @inlinable
    public func map<Operation: UnaryElementOperation>(_ operation: Operation) -> Tensor<Operation.Output>
    where Operation.Input == Element {
        var result = Tensor<Operation.Output>(storage: TensorStorage(uninitializedCount: count),
                                              layout: TensorLayout(contiguousLike: layout), offset: 0)
        result.writeMap(self, operation)
        return result
    }

    /// Overwrites every element with `transform(source element)`, `source`
    /// broadcast to this shape. The storage must already be writable.
    @inlinable
    mutating func writeMap<Operation: UnaryElementOperation>(_ source: Tensor<Operation.Input>,
                                                             _ transform: Operation) where Operation.Output == Element {
        if isContiguous && source.isContiguous && source.layout.hasSameShape(as: layout) {
            // One run over contiguous memory: the same chunks and the same
            // per-element work as the strided loop, without planning it.
            let out = sendableMutableElements, input = source.sendableElements
            withExtendedLifetime(source.storage) {
                Parallel.forEachChunk(count: count, minimumChunk: elementwiseChunk) { range in
                    let po = out.pointer(at: range.lowerBound, count: range.count)
                    let pi = input.pointer(at: range.lowerBound, count: range.count)
                    for i in 0..<range.count { po[i] = transform(pi[i]) }
                }
            }
            return
        }
        let shape = self.shape
        guard let sourceStrides = source.broadcastStrides(to: shape) else {
            preconditionFailure("Tensor: shape \(source.shape) does not broadcast to \(shape)")
        }
        let loop = StridedLoop(shape: shape, strides: [strides, sourceStrides])
        let out = sendableMutableElements
        let input = source.sendableElements
        withExtendedLifetime(source.storage) {
            loop.forEachRunInParallel { o, n in
                let po = out.pointer(at: o.x), pi = input.pointer(at: o.y)
                let so = loop.innerStrides.x, si = loop.innerStrides.y
                if so == 1 && si == 1 {
                    for i in 0..<n { po[i] = transform(pi[i]) }
                } else {
                    for i in 0..<n { po[i &* so] = transform(pi[i &* si]) }
                }
            }
        }
    }

    /// Overwrites every element with `combine(a element, b element)`, with
    /// `a` and `b` broadcast to this shape. The storage must be writable.
    @inlinable
    mutating func writeZip<Operation: BinaryElementOperation>(_ a: Tensor<Operation.Left>, _ b: Tensor<Operation.Right>,
                                                              _ combine: Operation) where Operation.Output == Element {
        if isContiguous && a.isContiguous && a.layout.hasSameShape(as: layout) {
            // Contiguous operands of one shape, or a contiguous one and a
            // scalar: one run, the same chunks and per-element work as the
            // strided loop, without planning it.
            let out = sendableMutableElements, pa = a.sendableElements, pb = b.sendableElements
            if b.isContiguous && b.layout.hasSameShape(as: layout) {
                withExtendedLifetime((a.storage, b.storage)) {
                    Parallel.forEachChunk(count: count, minimumChunk: elementwiseChunk) { range in
                        let po = out.pointer(at: range.lowerBound, count: range.count)
                        let xa = pa.pointer(at: range.lowerBound, count: range.count)
                        let xb = pb.pointer(at: range.lowerBound, count: range.count)
                        for i in 0..<range.count { po[i] = combine(xa[i], xb[i]) }
                    }
                }
                return
            }
            if b.rank == 0 {
                withExtendedLifetime((a.storage, b.storage)) {
                    Parallel.forEachChunk(count: count, minimumChunk: elementwiseChunk) { range in
                        let po = out.pointer(at: range.lowerBound, count: range.count)
                        let xa = pa.pointer(at: range.lowerBound, count: range.count)
                        let y = pb[0]
                        for i in 0..<range.count { po[i] = combine(xa[i], y) }
                    }
                }
                return
            }
        }
        let shape = self.shape
        guard let sa = a.broadcastStrides(to: shape), let sb = b.broadcastStrides(to: shape) else {
            preconditionFailure("Tensor: shapes \(a.shape) and \(b.shape) do not broadcast to \(shape)")
        }
        let loop = StridedLoop(shape: shape, strides: [strides, sa, sb])
        let out = sendableMutableElements
        let pa = a.sendableElements, pb = b.sendableElements
        withExtendedLifetime((a.storage, b.storage)) {
            loop.forEachRunInParallel { o, n in
                let po = out.pointer(at: o.x)
                let xa = pa.pointer(at: o.y), xb = pb.pointer(at: o.z)
                let inc = loop.innerStrides
                if inc == SIMD4(1, 1, 1, 0) {
                    for i in 0..<n { po[i] = combine(xa[i], xb[i]) }
                } else if inc == SIMD4(1, 1, 0, 0) {
                    let y = xb[0]
                    for i in 0..<n { po[i] = combine(xa[i], y) }
                } else if inc == SIMD4(1, 0, 1, 0) {
                    let x = xa[0]
                    for i in 0..<n { po[i] = combine(x, xb[i]) }
                } else {
                    for i in 0..<n { po[i &* inc.x] = combine(xa[i &* inc.y], xb[i &* inc.z]) }
                }
            }
        }
    }

    /// A new tensor of the broadcast shape holding `combine` of `a` and `b`.
    /// Stops with both shapes in the message when they do not broadcast.
    @inlinable
    public static func zip<A, B>(_ a: Tensor<A>, _ b: Tensor<B>, _ combine: @Sendable (A, B) -> Element) -> Tensor {
        withoutActuallyEscaping(combine) { zip(a, b, ClosureBinaryOperation($0)) }
    }

    /// A new tensor of the broadcast shape holding `operation` of `a` and
    /// `b` (the kernel is specialised on the operation's type).
    @inlinable
    public static func zip<Operation: BinaryElementOperation>(
        _ a: Tensor<Operation.Left>, _ b: Tensor<Operation.Right>, _ combine: Operation
    ) -> Tensor where Operation.Output == Element {
        if a.layout.hasSameShape(as: b.layout) || b.rank == 0 {
            var result = Tensor(storage: TensorStorage(uninitializedCount: a.count),
                                layout: TensorLayout(contiguousLike: a.layout), offset: 0)
            result.writeZip(a, b, combine)
            return result
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("Tensor: shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        var result = Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape,
                            strides: contiguousStrides(for: shape), offset: 0)
        result.writeZip(a, b, combine)
        return result
    }

    /// The throwing form of `zip(_:_:_:)`.
    @inlinable
    public static func checkedZip<A, B>(_ a: Tensor<A>, _ b: Tensor<B>, operation: String = "zip",
                                        _ combine: @Sendable (A, B) -> Element) throws(TensorError) -> Tensor {
        guard broadcastShape(a.shape, b.shape) != nil else {
            throw TensorError.notBroadcastable(operation: operation, lhs: a.shape, rhs: b.shape)
        }
        return zip(a, b, combine)
    }

    /// Applies `combine(element, other element)` in place, with `other`
    /// broadcast to this tensor's shape (which must not change).
    @inlinable
    public mutating func update<Other>(with other: Tensor<Other>, _ combine: @Sendable (Element, Other) -> Element) {
        withoutActuallyEscaping(combine) { update(with: other, ClosureBinaryOperation($0)) }
    }

    /// Applies `operation(element, other element)` in place, with `other`
    /// broadcast to this tensor's shape.
    @inlinable
    public mutating func update<Operation: BinaryElementOperation>(with other: Tensor<Operation.Right>,
                                                                   _ combine: Operation)
    where Operation.Left == Element, Operation.Output == Element {
        guard other.rank == 0 || other.layout.hasSameShape(as: layout) || other.broadcastStrides(to: shape) != nil else {
            preconditionFailure("Tensor: in-place operand of shape \(other.shape) does not broadcast to \(shape)")
        }
        makeUniqueForWriting()
        let current = self
        writeZip(current, other, combine)
    }

    /// A new tensor of the broadcast shape of three operands, holding
    /// `combine(a, b, c)` elementwise.
    @inlinable
    public static func zip<A, B, C>(_ a: Tensor<A>, _ b: Tensor<B>, _ c: Tensor<C>,
                                    _ combine: @Sendable (A, B, C) -> Element) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(ab, c.shape) else {
            preconditionFailure("Tensor: shapes \(a.shape), \(b.shape) and \(c.shape) cannot be broadcast together")
        }
        let result = Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape,
                            strides: contiguousStrides(for: shape), offset: 0)
        let loop = StridedLoop(shape: shape, strides: [result.strides, a.broadcastStrides(to: shape)!,
                                                       b.broadcastStrides(to: shape)!, c.broadcastStrides(to: shape)!])
        let out = result.sendableMutableElements
        let pa = a.sendableElements, pb = b.sendableElements, pc = c.sendableElements
        withExtendedLifetime((a.storage, b.storage, c.storage)) {
            loop.forEachRunInParallel { o, n in
                let inc = loop.innerStrides
                for i in 0..<n {
                    out[o.x &+ i &* inc.x] = combine(pa[o.y &+ i &* inc.y], pb[o.z &+ i &* inc.z],
                                                     pc[o.w &+ i &* inc.w])
                }
            }
        }
        return result
    }
}

// MARK: - Arithmetic operators

extension Tensor where Element: ArithmeticElement {
    /// Elementwise sum with broadcasting.
    @inlinable public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, AddOperation()) }
    /// Elementwise difference with broadcasting.
    @inlinable public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, SubtractOperation()) }
    /// Elementwise product with broadcasting.
    @inlinable public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, MultiplyOperation()) }
    /// Elementwise quotient with broadcasting (truncating for integers).
    @inlinable public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, DivideOperation()) }

    /// Adds a scalar to every element.
    @inlinable public static func + (lhs: Tensor, rhs: Element) -> Tensor { zip(lhs, Tensor(scalar: rhs), AddOperation()) }
    /// Subtracts a scalar from every element.
    @inlinable public static func - (lhs: Tensor, rhs: Element) -> Tensor { zip(lhs, Tensor(scalar: rhs), SubtractOperation()) }
    /// Multiplies every element by a scalar.
    @inlinable public static func * (lhs: Tensor, rhs: Element) -> Tensor { zip(lhs, Tensor(scalar: rhs), MultiplyOperation()) }
    /// Divides every element by a scalar.
    @inlinable public static func / (lhs: Tensor, rhs: Element) -> Tensor { zip(lhs, Tensor(scalar: rhs), DivideOperation()) }
    /// Adds every element to a scalar.
    @inlinable public static func + (lhs: Element, rhs: Tensor) -> Tensor { zip(Tensor(scalar: lhs), rhs, AddOperation()) }
    /// Subtracts every element from a scalar.
    @inlinable public static func - (lhs: Element, rhs: Tensor) -> Tensor { zip(Tensor(scalar: lhs), rhs, SubtractOperation()) }
    /// Multiplies a scalar by every element.
    @inlinable public static func * (lhs: Element, rhs: Tensor) -> Tensor { zip(Tensor(scalar: lhs), rhs, MultiplyOperation()) }
    /// Divides a scalar by every element.
    @inlinable public static func / (lhs: Element, rhs: Tensor) -> Tensor { zip(Tensor(scalar: lhs), rhs, DivideOperation()) }
    /// Negates every element.
    @inlinable public static prefix func - (operand: Tensor) -> Tensor { operand.map { .zero - $0 } }

    /// In-place sum; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, AddOperation()) }
    /// In-place difference; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, SubtractOperation()) }
    /// In-place product; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, MultiplyOperation()) }
    /// In-place quotient; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, DivideOperation()) }
    /// Adds a scalar in place.
    @inlinable public static func += (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), AddOperation()) }
    /// Subtracts a scalar in place.
    @inlinable public static func -= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), SubtractOperation()) }
    /// Multiplies by a scalar in place.
    @inlinable public static func *= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), MultiplyOperation()) }
    /// Divides by a scalar in place.
    @inlinable public static func /= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), DivideOperation()) }

    /// Checked elementwise sum: throws when the shapes do not broadcast.
    @inlinable public func adding(_ other: Tensor) throws(TensorError) -> Tensor { try .checkedZip(self, other, operation: "add") { $0 + $1 } }
    /// Checked elementwise difference.
    @inlinable public func subtracting(_ other: Tensor) throws(TensorError) -> Tensor {
        try .checkedZip(self, other, operation: "subtract") { $0 - $1 }
    }
    /// Checked elementwise product.
    @inlinable public func multiplying(by other: Tensor) throws(TensorError) -> Tensor {
        try .checkedZip(self, other, operation: "multiply") { $0 * $1 }
    }
    /// Checked elementwise quotient.
    @inlinable public func dividing(by other: Tensor) throws(TensorError) -> Tensor {
        try .checkedZip(self, other, operation: "divide") { $0 / $1 }
    }
}

// MARK: - Arithmetic operations

/// `a + b`.
@frozen public struct AddOperation<Element: ArithmeticElement>: BinaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// `a + b`.
    @inlinable @inline(__always) public func callAsFunction(_ a: Element, _ b: Element) -> Element { a + b }
}

/// `a - b`.
@frozen public struct SubtractOperation<Element: ArithmeticElement>: BinaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// `a - b`.
    @inlinable @inline(__always) public func callAsFunction(_ a: Element, _ b: Element) -> Element { a - b }
}

/// `a * b`.
@frozen public struct MultiplyOperation<Element: ArithmeticElement>: BinaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// `a * b`.
    @inlinable @inline(__always) public func callAsFunction(_ a: Element, _ b: Element) -> Element { a * b }
}

/// `a / b`.
@frozen public struct DivideOperation<Element: ArithmeticElement>: BinaryElementOperation {
    /// Creates the operation.
    @inlinable public init() {}
    /// `a / b`.
    @inlinable @inline(__always) public func callAsFunction(_ a: Element, _ b: Element) -> Element { a / b }
}
