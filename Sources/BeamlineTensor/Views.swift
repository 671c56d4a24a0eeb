extension Tensor {
    /// Resolves a possibly negative axis number, or throws.
    @inlinable
    public func normalizedAxis(_ axis: Int) throws(TensorError) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else { throw TensorError.axisOutOfRange(axis: axis, rank: rank) }
        return resolved
    }

    /// Resolves an axis number in expression code (stops on a bad axis).
    @inlinable
    func checkedAxis(_ axis: Int, _ operation: String) -> Int {
        do { return try normalizedAxis(axis) } catch {
            preconditionFailure("\(operation) on shape \(shape): \(error)")
        }
    }

    /// The tensor with its axes reversed (a view; `.T` in NumPy).
    @inlinable
    public var transposed: Tensor {
        Tensor(storage: storage, layout: layout.reversed, offset: offset)
    }

    /// The tensor with its axes reordered so that axis `i` of the result is
    /// axis `order[i]` of this one (a view; `numpy.transpose(a, order)`).
    @inlinable
    public func permuted(_ order: [Int]) -> Tensor {
        do { return try checkedPermuted(order) } catch { preconditionFailure("permuted(\(order)): \(error)") }
    }

    /// The throwing form of ``permuted(_:)``.
    @inlinable
    public func checkedPermuted(_ order: [Int]) throws(TensorError) -> Tensor {
        let axes = try order.map { (axis) throws(TensorError) in try normalizedAxis(axis) }
        guard axes.count == rank, Set(axes).count == rank else {
            throw TensorError.invalidArgument(name: "order", expected: "a permutation of 0..<\(rank)",
                                              received: "\(order)")
        }
        return Tensor(storage: storage, shape: axes.map { layout.length($0) }, strides: axes.map { layout.stride($0) },
                      offset: offset)
    }

    /// Swaps two axes (a view; `numpy.swapaxes`).
    @inlinable
    public func swappingAxes(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(checkedAxis(a, "swappingAxes"), checkedAxis(b, "swappingAxes"))
        return permuted(order)
    }

    /// Moves axis `source` to position `destination` (a view; `numpy.moveaxis`).
    @inlinable
    public func movingAxis(_ source: Int, to destination: Int) -> Tensor {
        var order = Array(0..<rank)
        let from = checkedAxis(source, "movingAxis"), to = checkedAxis(destination, "movingAxis")
        order.remove(at: from)
        order.insert(from, at: to)
        return permuted(order)
    }

    /// The same elements with another shape, in row-major order. One length
    /// may be -1 and is inferred. A view when the layout allows it (always
    /// for contiguous tensors), a copy otherwise.
    @inlinable
    public func reshaped(_ newShape: [Int]) -> Tensor {
        do { return try checkedReshaped(newShape) } catch {
            preconditionFailure("reshaped(\(newShape)) of shape \(shape): \(error)")
        }
    }

    /// The throwing form of ``reshaped(_:)``.
    @inlinable
    public func checkedReshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidArgument(name: "shape", expected: "non-negative lengths and at most one -1",
                                              received: "\(newShape)")
        }
        if let u = unknown.first {
            let known = target.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError.elementCountMismatch(shape: newShape, count: count)
            }
            target[u] = count / known
        }
        guard target.reduce(1, *) == count else { throw TensorError.elementCountMismatch(shape: newShape, count: count) }
        if isContiguous {
            return Tensor(storage: storage, layout: TensorLayout(contiguous: target), offset: offset)
        }
        if let viewStrides = Self.reshapedStrides(shape: shape, strides: strides, newShape: target) {
            return Tensor(storage: storage, shape: target, strides: viewStrides, offset: offset)
        }
        let copy = copied()
        return Tensor(storage: copy.storage, layout: TensorLayout(contiguous: target), offset: 0)
    }

    /// Strides for a view of the new shape when the old layout allows one
    /// (NumPy's `_attempt_nocopy_reshape`), else nil.
    @inlinable
    static func reshapedStrides(shape: [Int], strides: [Int], newShape: [Int]) -> [Int]? {
        let old = Swift.zip(shape, strides).filter { $0.0 != 1 }
        var result = [Int](repeating: 0, count: newShape.count)
        var oi = 0, ni = 0
        let oldShape = old.map { $0.0 }, oldStrides = old.map { $0.1 }
        while ni < newShape.count && oi < oldShape.count {
            var np = newShape[ni], op = oldShape[oi]
            var nj = ni + 1, oj = oi + 1
            while np != op {
                if np < op { np *= newShape[nj]; nj += 1 } else { op *= oldShape[oj]; oj += 1 }
            }
            for k in oi..<(oj - 1) where oldStrides[k] != oldShape[k + 1] * oldStrides[k + 1] { return nil }
            result[nj - 1] = oldStrides[oj - 1]
            for k in stride(from: nj - 1, to: ni, by: -1) { result[k - 1] = result[k] * newShape[k] }
            ni = nj
            oi = oj
        }
        // Trailing length-1 axes.
        for k in ni..<newShape.count { result[k] = 1 }
        return result
    }

    /// The elements as a one-dimensional tensor (a view when contiguous).
    @inlinable
    public var flattened: Tensor { reshaped([count]) }

    /// The tensor without its axes of length 1, or without just `axis`
    /// (which must have length 1). A view.
    @inlinable
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = checkedAxis(axis, "squeezed")
            precondition(layout.length(a) == 1, "squeezed(axis: \(axis)): axis has length \(layout.length(a)), not 1 (shape \(shape))")
            var s = shape, t = strides
            s.remove(at: a)
            t.remove(at: a)
            return Tensor(storage: storage, shape: s, strides: t, offset: offset)
        }
        let kept = (0..<rank).filter { layout.length($0) != 1 }
        return Tensor(storage: storage, shape: kept.map { layout.length($0) }, strides: kept.map { layout.stride($0) }, offset: offset)
    }

    /// The tensor with a new axis of length 1 at position `axis`
    /// (`-1` appends; `numpy.expand_dims`). A view.
    @inlinable
    public func expanded(axis: Int) -> Tensor {
        let position = axis < 0 ? axis + rank + 1 : axis
        precondition(position >= 0 && position <= rank,
                     "expanded(axis: \(axis)): axis out of range for a tensor of rank \(rank)")
        var s = shape, t = strides
        s.insert(1, at: position)
        t.insert(0, at: position)
        return Tensor(storage: storage, shape: s, strides: t, offset: offset)
    }

    /// A read-only-style view of this tensor broadcast to `target`
    /// (`numpy.broadcast_to`); stretched axes have stride 0. Writing to the
    /// result copies it first, so the source is never changed.
    @inlinable
    public func broadcast(to target: [Int]) -> Tensor {
        do { return try checkedBroadcast(to: target) } catch { preconditionFailure("\(error)") }
    }

    /// The throwing form of ``broadcast(to:)``.
    @inlinable
    public func checkedBroadcast(to target: [Int]) throws(TensorError) -> Tensor {
        guard let s = broadcastStrides(to: target) else {
            throw TensorError.notBroadcastable(operation: "broadcast(to:)", lhs: shape, rhs: target)
        }
        return Tensor(storage: storage, shape: target, strides: s, offset: offset)
    }

    /// The tensor reversed along `axis` (a view with a negative stride;
    /// `numpy.flip`).
    @inlinable
    public func flipped(axis: Int) -> Tensor {
        let a = checkedAxis(axis, "flipped")
        var flippedLayout = layout
        let newOffset = layout.length(a) > 0 ? offset + (layout.length(a) - 1) * layout.stride(a) : offset
        flippedLayout.setStride(a, -layout.stride(a))
        return Tensor(storage: storage, layout: flippedLayout, offset: newOffset)
    }

    /// Joins tensors along an existing axis (`numpy.concatenate`); throws
    /// when the other axes differ.
    @inlinable
    public static func concatenated(_ parts: [Tensor], axis: Int = 0) throws(TensorError) -> Tensor {
        guard let first = parts.first else {
            throw TensorError.invalidArgument(name: "parts", expected: "at least one tensor", received: "none")
        }
        let a = try first.normalizedAxis(axis)
        var total = 0
        for part in parts {
            var expected = first.shape, received = part.shape
            guard received.count == expected.count else {
                throw TensorError.shapeMismatch(argument: "concatenated", expected: first.shape, received: part.shape)
            }
            expected[a] = 0
            received[a] = 0
            guard expected == received else {
                throw TensorError.shapeMismatch(argument: "concatenated", expected: first.shape, received: part.shape)
            }
            total += part.layout.length(a)
        }
        var shape = first.shape
        shape[a] = total
        let result = Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), shape: shape,
                            strides: contiguousStrides(for: shape), offset: 0)
        var start = 0
        for part in parts {
            var indices = [TensorIndex](repeating: .all, count: shape.count)
            indices[a] = .range(start..<(start + part.layout.length(a)))
            var target = try result.resolvedView(indices)
            withExtendedLifetime(result) { target.assignElements(from: part) }
            start += part.layout.length(a)
        }
        return result
    }

    /// Joins equally shaped tensors along a new axis (`numpy.stack`).
    @inlinable
    public static func stacked(_ parts: [Tensor], axis: Int = 0) throws(TensorError) -> Tensor {
        guard let first = parts.first else {
            throw TensorError.invalidArgument(name: "parts", expected: "at least one tensor", received: "none")
        }
        let position = axis < 0 ? axis + first.rank + 1 : axis
        guard position >= 0 && position <= first.rank else {
            throw TensorError.axisOutOfRange(axis: axis, rank: first.rank + 1)
        }
        for part in parts where part.shape != first.shape {
            throw TensorError.shapeMismatch(argument: "stacked", expected: first.shape, received: part.shape)
        }
        return try concatenated(parts.map { $0.expanded(axis: position) }, axis: position)
    }
}
