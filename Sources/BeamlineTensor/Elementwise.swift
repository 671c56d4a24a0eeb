// The elementwise engine: every map over one, two or three tensors (with
// NumPy broadcasting) goes through these three kernels.

extension Tensor {
    /// A new tensor holding `transform` applied to every element.
    ///
    /// Runs in parallel over chunks for large tensors; `transform` must not
    /// depend on the order of calls.
    @inlinable
    public func map<Result: TensorElement>(_ transform: (Element) -> Result) -> Tensor<Result> {
        var result = Tensor<Result>(storage: TensorStorage(uninitializedCount: count), shape: shape,
                                    strides: Tensor<Result>.contiguousStrides(for: shape), offset: 0)
        result.writeMap(self, transform)
        return result
    }

    /// Overwrites every element with `transform(source element)`, `source`
    /// broadcast to this shape. The storage must already be writable.
    @inlinable
    mutating func writeMap<Source>(_ source: Tensor<Source>, _ transform: (Source) -> Element) {
        guard let sourceStrides = source.broadcastStrides(to: shape) else {
            preconditionFailure("Tensor: shape \(source.shape) does not broadcast to \(shape)")
        }
        let loop = StridedLoop(shape: shape, strides: [strides, sourceStrides])
        let out = SendablePointer(storage.base + offset)
        let input = SendablePointer(source.storage.base + source.offset)
        withExtendedLifetime(source.storage) {
            loop.forEachRunInParallel { o, n in
                let po = out.base + o.x, pi = UnsafePointer(input.base + o.y)
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
    mutating func writeZip<A, B>(_ a: Tensor<A>, _ b: Tensor<B>, _ combine: (A, B) -> Element) {
        guard let sa = a.broadcastStrides(to: shape), let sb = b.broadcastStrides(to: shape) else {
            preconditionFailure("Tensor: shapes \(a.shape) and \(b.shape) do not broadcast to \(shape)")
        }
        let loop = StridedLoop(shape: shape, strides: [strides, sa, sb])
        let out = SendablePointer(storage.base + offset)
        let pa = SendablePointer(a.storage.base + a.offset), pb = SendablePointer(b.storage.base + b.offset)
        withExtendedLifetime((a.storage, b.storage)) {
            loop.forEachRunInParallel { o, n in
                let po = out.base + o.x
                let xa = UnsafePointer(pa.base + o.y), xb = UnsafePointer(pb.base + o.z)
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
    public static func zip<A, B>(_ a: Tensor<A>, _ b: Tensor<B>, _ combine: (A, B) -> Element) -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("Tensor: shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        var result = Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape,
                            strides: contiguousStrides(for: shape), offset: 0)
        result.writeZip(a, b, combine)
        return result
    }

    /// The throwing form of ``zip(_:_:_:)``.
    @inlinable
    public static func checkedZip<A, B>(_ a: Tensor<A>, _ b: Tensor<B>, operation: String = "zip",
                                        _ combine: (A, B) -> Element) throws -> Tensor {
        guard broadcastShape(a.shape, b.shape) != nil else {
            throw TensorError.notBroadcastable(operation: operation, lhs: a.shape, rhs: b.shape)
        }
        return zip(a, b, combine)
    }

    /// Applies `combine(element, other element)` in place, with `other`
    /// broadcast to this tensor's shape (which must not change).
    @inlinable
    public mutating func update<Other>(with other: Tensor<Other>, _ combine: (Element, Other) -> Element) {
        guard other.broadcastStrides(to: shape) != nil else {
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
                                    _ combine: (A, B, C) -> Element) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(ab, c.shape) else {
            preconditionFailure("Tensor: shapes \(a.shape), \(b.shape) and \(c.shape) cannot be broadcast together")
        }
        let result = Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape,
                            strides: contiguousStrides(for: shape), offset: 0)
        let loop = StridedLoop(shape: shape, strides: [result.strides, a.broadcastStrides(to: shape)!,
                                                       b.broadcastStrides(to: shape)!, c.broadcastStrides(to: shape)!])
        let out = SendablePointer(result.storage.base)
        let pa = SendablePointer(a.storage.base + a.offset), pb = SendablePointer(b.storage.base + b.offset)
        let pc = SendablePointer(c.storage.base + c.offset)
        withExtendedLifetime((a.storage, b.storage, c.storage)) {
            loop.forEachRunInParallel { o, n in
                let inc = loop.innerStrides
                for i in 0..<n {
                    out.base[o.x &+ i &* inc.x] = combine(pa.base[o.y &+ i &* inc.y], pb.base[o.z &+ i &* inc.z],
                                                          pc.base[o.w &+ i &* inc.w])
                }
            }
        }
        return result
    }
}

// MARK: - Arithmetic operators

extension Tensor where Element: ArithmeticElement {
    /// Elementwise sum with broadcasting.
    @inlinable public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, +) }
    /// Elementwise difference with broadcasting.
    @inlinable public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, -) }
    /// Elementwise product with broadcasting.
    @inlinable public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, *) }
    /// Elementwise quotient with broadcasting (truncating for integers).
    @inlinable public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { zip(lhs, rhs, /) }

    /// Adds a scalar to every element.
    @inlinable public static func + (lhs: Tensor, rhs: Element) -> Tensor { lhs.map { $0 + rhs } }
    /// Subtracts a scalar from every element.
    @inlinable public static func - (lhs: Tensor, rhs: Element) -> Tensor { lhs.map { $0 - rhs } }
    /// Multiplies every element by a scalar.
    @inlinable public static func * (lhs: Tensor, rhs: Element) -> Tensor { lhs.map { $0 * rhs } }
    /// Divides every element by a scalar.
    @inlinable public static func / (lhs: Tensor, rhs: Element) -> Tensor { lhs.map { $0 / rhs } }
    /// Adds every element to a scalar.
    @inlinable public static func + (lhs: Element, rhs: Tensor) -> Tensor { rhs.map { lhs + $0 } }
    /// Subtracts every element from a scalar.
    @inlinable public static func - (lhs: Element, rhs: Tensor) -> Tensor { rhs.map { lhs - $0 } }
    /// Multiplies a scalar by every element.
    @inlinable public static func * (lhs: Element, rhs: Tensor) -> Tensor { rhs.map { lhs * $0 } }
    /// Divides a scalar by every element.
    @inlinable public static func / (lhs: Element, rhs: Tensor) -> Tensor { rhs.map { lhs / $0 } }
    /// Negates every element.
    @inlinable public static prefix func - (operand: Tensor) -> Tensor { operand.map { .zero - $0 } }

    /// In-place sum; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, +) }
    /// In-place difference; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, -) }
    /// In-place product; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, *) }
    /// In-place quotient; `rhs` must broadcast to `lhs`'s shape.
    @inlinable public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.update(with: rhs, /) }
    /// Adds a scalar in place.
    @inlinable public static func += (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), +) }
    /// Subtracts a scalar in place.
    @inlinable public static func -= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), -) }
    /// Multiplies by a scalar in place.
    @inlinable public static func *= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), *) }
    /// Divides by a scalar in place.
    @inlinable public static func /= (lhs: inout Tensor, rhs: Element) { lhs.update(with: Tensor(scalar: rhs), /) }

    /// Checked elementwise sum: throws when the shapes do not broadcast.
    @inlinable public func adding(_ other: Tensor) throws -> Tensor { try .checkedZip(self, other, operation: "add", +) }
    /// Checked elementwise difference.
    @inlinable public func subtracting(_ other: Tensor) throws -> Tensor {
        try .checkedZip(self, other, operation: "subtract", -)
    }
    /// Checked elementwise product.
    @inlinable public func multiplying(by other: Tensor) throws -> Tensor {
        try .checkedZip(self, other, operation: "multiply", *)
    }
    /// Checked elementwise quotient.
    @inlinable public func dividing(by other: Tensor) throws -> Tensor {
        try .checkedZip(self, other, operation: "divide", /)
    }
}
