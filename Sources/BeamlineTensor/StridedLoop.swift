/// The iteration plan behind every elementwise kernel: up to four operands
/// (lanes x, y, z, w of a `SIMD4<Int>`) walked over one shape with their own
/// strides.
///
/// Axes of length 1 are dropped and neighbouring axes that are contiguous for
/// every operand are merged, so a contiguous tensor becomes one long line.
/// A kernel receives the storage offsets of a run of elements along the
/// innermost axis and steps each operand by ``innerStrides``.
@usableFromInline
struct StridedLoop: Sendable {
    /// Lengths of the outer axes (all but the innermost).
    @usableFromInline var outerShape: [Int]
    /// Per outer axis, the stride of each operand.
    @usableFromInline var outerStrides: [SIMD4<Int>]
    /// Length of the innermost axis.
    @usableFromInline var innerCount: Int
    /// Stride of each operand along the innermost axis.
    @usableFromInline var innerStrides: SIMD4<Int>
    /// Total number of elements.
    @usableFromInline var count: Int

    /// Plans a walk over `shape`; `strides[k]` are operand k's strides
    /// (missing operands get zeros).
    @inlinable
    init(shape: [Int], strides: [[Int]]) {
        precondition(strides.count <= 4 && strides.allSatisfy { $0.count == shape.count })
        // Axes of length 1 are dropped; axis i merges into the run before it when
        // stride_prev == stride_i * n_i for every operand (one pass, one array).
        var merged: [(Int, SIMD4<Int>)] = []
        merged.reserveCapacity(shape.count)
        for axis in 0..<shape.count where shape[axis] != 1 {
            var lane = SIMD4<Int>(repeating: 0)
            for k in 0..<strides.count { lane[k] = strides[k][axis] }
            let length = shape[axis]
            if let last = merged.last, last.1 == lane &* length {
                merged[merged.count - 1] = (last.0 &* length, lane)
            } else {
                merged.append((length, lane))
            }
        }
        count = shape.reduce(1, &*)
        if let inner = merged.last {
            innerCount = inner.0
            innerStrides = inner.1
            outerShape = merged.dropLast().map { $0.0 }
            outerStrides = merged.dropLast().map { $0.1 }
        } else {
            innerCount = count == 0 ? 0 : 1
            innerStrides = .zero
            outerShape = []
            outerStrides = []
        }
    }

    /// Calls `body(offsets, n)` for the runs of elements with flat
    /// (row-major) positions in `range`; `offsets` are the operands' storage
    /// offsets (relative to their element 0) of the run's first element.
    @inlinable
    func forEachRun(in range: Range<Int>, _ body: (SIMD4<Int>, Int) -> Void) {
        guard !range.isEmpty, innerCount > 0 else { return }
        var line = range.lowerBound / innerCount
        var within = range.lowerBound % innerCount
        var remaining = range.count
        // Odometer over the outer axes, starting at `line`.
        var counters = [Int](repeating: 0, count: outerShape.count)
        var offsets = SIMD4<Int>.zero
        var rest = line
        for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
            counters[axis] = rest % outerShape[axis]
            rest /= outerShape[axis]
            offsets &+= outerStrides[axis] &* counters[axis]
        }
        while remaining > 0 {
            let n = Swift.min(innerCount - within, remaining)
            body(offsets &+ innerStrides &* within, n)
            remaining -= n
            within = 0
            line += 1
            if remaining == 0 { break }
            var axis = outerShape.count - 1
            while axis >= 0 {
                counters[axis] += 1
                offsets &+= outerStrides[axis]
                if counters[axis] < outerShape[axis] { break }
                offsets &-= outerStrides[axis] &* counters[axis]
                counters[axis] = 0
                axis -= 1
            }
        }
    }

    /// Runs ``forEachRun(in:_:)`` over all elements, split across threads
    /// when there are more than `minimumChunk` of them.
    @inlinable
    func forEachRunInParallel(minimumChunk: Int = elementwiseChunk, _ body: @Sendable (SIMD4<Int>, Int) -> Void) {
        Parallel.forEachChunk(count: count, minimumChunk: minimumChunk) { range in
            forEachRun(in: range, body)
        }
    }
}

/// Elements per chunk below which elementwise work stays on one thread.
@usableFromInline let elementwiseChunk = 1 << 15

// MARK: - Broadcasting

/// The shape that NumPy's broadcasting rules give for `lhs` and `rhs`, or
/// nil when they are incompatible.
@inlinable
public func broadcastShape(_ lhs: [Int], _ rhs: [Int]) -> [Int]? {
    let rank = Swift.max(lhs.count, rhs.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let a = i < rank - lhs.count ? 1 : lhs[i - (rank - lhs.count)]
        let b = i < rank - rhs.count ? 1 : rhs[i - (rank - rhs.count)]
        if a == b || b == 1 { result[i] = a } else if a == 1 { result[i] = b } else { return nil }
    }
    return result
}

extension Tensor {
    /// Strides that view this tensor as `target` under broadcasting (zero on
    /// new and stretched axes), or nil when the shapes are incompatible.
    @inlinable
    func broadcastStrides(to target: [Int]) -> [Int]? {
        guard target.count >= rank else { return nil }
        var result = [Int](repeating: 0, count: target.count)
        let lead = target.count - rank
        for axis in 0..<rank {
            if layout.length(axis) == target[lead + axis] {
                result[lead + axis] = layout.length(axis) == 1 ? 0 : layout.stride(axis)
            } else if layout.length(axis) == 1 {
                result[lead + axis] = 0
            } else {
                return nil
            }
        }
        return result
    }

    /// Copies `source` (broadcast to this tensor's shape) into this tensor's
    /// elements, converting nothing. The storage must already be unique.
    @inlinable
    mutating func assignElements(from source: Tensor) {
        if isContiguous && source.isContiguous && source.layout.hasSameShape(as: layout) {
            // One contiguous run: the same chunks as the strided loop, unplanned.
            let destination = sendableMutableElements, origin = source.sendableElements
            withExtendedLifetime(source.storage) {
                Parallel.forEachChunk(count: count, minimumChunk: elementwiseChunk) { range in
                    destination.pointer(at: range.lowerBound, count: range.count)
                        .update(from: origin.pointer(at: range.lowerBound, count: range.count), count: range.count)
                }
            }
            return
        }
        let shape = self.shape
        guard let sourceStrides = source.broadcastStrides(to: shape) else {
            preconditionFailure("Tensor: cannot assign a tensor of shape \(source.shape) to one of shape \(shape)")
        }
        let loop = StridedLoop(shape: shape, strides: [strides, sourceStrides])
        let destination = sendableMutableElements
        let origin = source.sendableElements
        withExtendedLifetime(source.storage) {
            loop.forEachRunInParallel { offsets, n in
                let out = destination.pointer(at: offsets.x), input = origin.pointer(at: offsets.y)
                let so = loop.innerStrides.x, si = loop.innerStrides.y
                if so == 1 && si == 1 {
                    out.update(from: input, count: n)
                } else {
                    for i in 0..<n { out[i &* so] = input[i &* si] }
                }
            }
        }
    }
}
