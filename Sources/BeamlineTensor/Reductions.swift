import RealModule

// Reductions along any set of axes, deterministic whatever the thread count.
//
// Summation order follows NumPy's, so that sums of contiguous data agree
// with `numpy.sum` bit for bit: pairwise summation (NumPy's
// `pairwise_sum`: 8 accumulators up to 128 elements, halving above) along the
// reduced axis with the smallest stride, and plain accumulation in index
// order across the others. When a kept axis has the smallest stride (a sum
// over axis 0 of a C-ordered matrix), whole slices are accumulated in index
// order, as NumPy's iterator does.

/// How one reduction combines elements (sum, min, max).
@usableFromInline
protocol ElementReducer: Sendable {
    associatedtype Value: TensorElement
    /// The result of reducing no elements, if the reduction has one.
    var identity: Value? { get }
    /// Reduces `count` (≥ 1) elements `base[0], base[stride], ...`.
    func reduceRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value
    /// Reduces one long run, possibly in parallel, to the same bits as
    /// `reduceRun`.
    func reduceLongRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value
    /// Combines a running result with the next partial result.
    func combine(_ accumulated: Value, _ next: Value) -> Value
}

/// Pairwise summation, as NumPy's `pairwise_sum`.
@usableFromInline
struct SumReducer<Value: ArithmeticElement>: ElementReducer {
    @inlinable init() {}
    @inlinable var identity: Value? { .zero }
    @inlinable func combine(_ accumulated: Value, _ next: Value) -> Value { accumulated + next }
    @inlinable func reduceRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
        pairwiseSum(base, count: count, stride: stride)
    }
    @inlinable func reduceLongRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
        parallelPairwiseSum(base, count: count, stride: stride)
    }
}

/// NumPy's `pairwise_sum` for `count` elements at `base` with `stride`.
@inlinable
func pairwiseSum<Value: ArithmeticElement>(_ base: UnsafePointer<Value>, count n: Int, stride: Int) -> Value {
    if n < 8 {
        var result = Value.zero
        for i in 0..<n { result += base[i &* stride] }
        return result
    }
    if n <= 128 {
        var r0 = base[0], r1 = base[stride], r2 = base[2 &* stride], r3 = base[3 &* stride]
        var r4 = base[4 &* stride], r5 = base[5 &* stride], r6 = base[6 &* stride], r7 = base[7 &* stride]
        var i = 8
        let end = n - n % 8
        while i < end {
            let p = base + i &* stride
            r0 += p[0]; r1 += p[stride]; r2 += p[2 &* stride]; r3 += p[3 &* stride]
            r4 += p[4 &* stride]; r5 += p[5 &* stride]; r6 += p[6 &* stride]; r7 += p[7 &* stride]
            i &+= 8
        }
        var result = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n { result += base[i &* stride]; i &+= 1 }
        return result
    }
    var half = n / 2
    half -= half % 8
    return pairwiseSum(base, count: half, stride: stride) + pairwiseSum(base + half &* stride, count: n - half, stride: stride)
}

/// Pairwise summation of a long run with its top levels evaluated in
/// parallel. The split points are NumPy's, so the result is the same bits as
/// ``pairwiseSum(_:count:stride:)`` whatever the thread count.
@inlinable
func parallelPairwiseSum<Value: ArithmeticElement>(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
    let leafSize = 1 << 16
    guard count > 2 * leafSize, Parallel.threadCount > 1 else { return pairwiseSum(base, count: count, stride: stride) }
    // Leaves of NumPy's recursion tree, in order.
    var leaves: [Range<Int>] = []
    func collect(_ start: Int, _ n: Int) {
        if n <= leafSize { leaves.append(start..<(start + n)); return }
        var half = n / 2
        half -= half % 8
        collect(start, half)
        collect(start + half, n - half)
    }
    collect(0, count)
    let leafRanges = leaves
    var partial = [Value](repeating: .zero, count: leaves.count)
    partial.withUnsafeMutableBufferPointer { results in
        let out = SendableMutableBuffer(results)
        let input = SendableBuffer(start: base, validIndices: stridedRunIndices(count: count, stride: stride))
        Parallel.forEachChunk(count: leafRanges.count, minimumChunk: 1) { range in
            for leaf in range {
                out[leaf] = pairwiseSum(input.pointer(at: leafRanges[leaf].lowerBound &* stride),
                                        count: leafRanges[leaf].count, stride: stride)
            }
        }
    }
    // Recombine along the same tree.
    var next = 0
    func combine(_ n: Int) -> Value {
        if n <= leafSize { defer { next += 1 }; return partial[next] }
        var half = n / 2
        half -= half % 8
        let left = combine(half)
        return left + combine(n - half)
    }
    return combine(count)
}

/// The indices, relative to the first element, that a run of `count`
/// elements `stride` apart touches (`stride` may be negative).
@inlinable
func stridedRunIndices(count: Int, stride: Int) -> Range<Int> {
    guard count > 0 else { return 0..<0 }
    let last = (count &- 1) &* stride
    return Swift.min(0, last)..<(Swift.max(0, last) &+ 1)
}

/// Which of two values an extremum keeps (a type, so kernels specialise on it).
@usableFromInline protocol ExtremumOrder: Sendable {
    /// True when `a` should replace `b`.
    static func isBetter<V: Comparable>(_ a: V, _ b: V) -> Bool
}

/// Keeps the larger value (maximum).
@usableFromInline enum LargerFirst: ExtremumOrder {
    @inlinable @inline(__always) static func isBetter<V: Comparable>(_ a: V, _ b: V) -> Bool { a > b }
}

/// Keeps the smaller value (minimum).
@usableFromInline enum SmallerFirst: ExtremumOrder {
    @inlinable @inline(__always) static func isBetter<V: Comparable>(_ a: V, _ b: V) -> Bool { a < b }
}

/// The extremum of a run under `better`, or its first NaN. The main loop is
/// branch-free (selects plus a NaN flag), so it vectorises.
@inlinable @inline(__always)
func extremum<Value: ComparableElement, Order: ExtremumOrder>(_ base: UnsafePointer<Value>, count: Int, stride: Int,
                                                              _ order: Order.Type) -> Value {
    @inline(__always) func better(_ a: Value, _ b: Value) -> Bool { Order.isBetter(a, b) }
    var result = base[0]
    var nanCount = 0
    if stride == 1 && count >= 16 {
        // Eight independent lanes break the dependency chain, so the loop vectorises.
        var lanes = (base[0], base[1], base[2], base[3], base[4], base[5], base[6], base[7])
        var nans = (0, 0, 0, 0, 0, 0, 0, 0)
        @inline(__always) func step(_ lane: inout Value, _ nan: inout Int, _ v: Value) {
            nan &+= v != v ? 1 : 0
            lane = better(v, lane) ? v : lane
        }
        var i = 8
        while i &+ 8 <= count {
            let p = base + i
            step(&lanes.0, &nans.0, p[0]); step(&lanes.1, &nans.1, p[1])
            step(&lanes.2, &nans.2, p[2]); step(&lanes.3, &nans.3, p[3])
            step(&lanes.4, &nans.4, p[4]); step(&lanes.5, &nans.5, p[5])
            step(&lanes.6, &nans.6, p[6]); step(&lanes.7, &nans.7, p[7])
            i &+= 8
        }
        result = lanes.0
        step(&result, &nanCount, lanes.1); step(&result, &nanCount, lanes.2)
        step(&result, &nanCount, lanes.3); step(&result, &nanCount, lanes.4)
        step(&result, &nanCount, lanes.5); step(&result, &nanCount, lanes.6)
        step(&result, &nanCount, lanes.7)
        nanCount &+= nans.0 &+ nans.1 &+ nans.2 &+ nans.3 &+ nans.4 &+ nans.5 &+ nans.6 &+ nans.7
        while i < count {
            step(&result, &nanCount, base[i])
            i &+= 1
        }
    } else {
        for i in 1..<Swift.max(count, 1) {
            let v = base[i &* stride]
            nanCount &+= v != v ? 1 : 0
            result = better(v, result) ? v : result
        }
    }
    if nanCount > 0 || result != result {
        for i in 0..<count where base[i &* stride] != base[i &* stride] { return base[i &* stride] }
    }
    return result
}

/// The extremum of a long run: fixed blocks in parallel, combined in order.
/// Maxima and minima are exact, so the result is the same for any split;
/// a NaN anywhere is returned as the first NaN, as in the serial scan.
@inlinable
func parallelExtremum<Value: ComparableElement, Order: ExtremumOrder>(
    _ base: UnsafePointer<Value>, count: Int, stride: Int, _ order: Order.Type
) -> Value {
    let block = 1 << 16
    guard count > 2 * block, Parallel.threadCount > 1 else {
        return extremum(base, count: count, stride: stride, Order.self)
    }
    let blocks = (count + block - 1) / block
    var partial = [Value](repeating: base[0], count: blocks)
    partial.withUnsafeMutableBufferPointer { results in
        let out = SendableMutableBuffer(results)
        let input = SendableBuffer(start: base, validIndices: stridedRunIndices(count: count, stride: stride))
        Parallel.forEachBlock(count: count, blockSize: block) { index, range in
            out[index] = extremum(input.pointer(at: range.lowerBound &* stride), count: range.count, stride: stride,
                                  Order.self)
        }
    }
    var result = partial[0]
    for value in partial.dropFirst() where value != value || Order.isBetter(value, result) {
        if result != result { break }
        result = value
    }
    return result
}

/// Maximum or minimum with NaN propagation (NumPy's `max` and `min`),
/// depending on `Order`.
@usableFromInline
struct ExtremumReducer<Value: ComparableElement, Order: ExtremumOrder>: ElementReducer {
    @inlinable init() {}
    @inlinable var identity: Value? { nil }
    @inlinable func combine(_ accumulated: Value, _ next: Value) -> Value {
        if accumulated != accumulated { return accumulated }
        if next != next { return next }
        return Order.isBetter(next, accumulated) ? next : accumulated
    }
    @inlinable func reduceRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
        extremum(base, count: count, stride: stride, Order.self)
    }
    @inlinable func reduceLongRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
        parallelExtremum(base, count: count, stride: stride, Order.self)
    }
}

/// Maximum with NaN propagation (NumPy's `max`).
@usableFromInline typealias MaxReducer<Value: ComparableElement> = ExtremumReducer<Value, LargerFirst>

/// Minimum with NaN propagation (NumPy's `min`).
@usableFromInline typealias MinReducer<Value: ComparableElement> = ExtremumReducer<Value, SmallerFirst>

extension Tensor {
    /// Sorted, de-duplicated, non-negative axes, or an error.
    @inlinable
    func normalizedAxes(_ axes: [Int]) throws(TensorError) -> [Int] {
        if axes.count == 1 { return [try normalizedAxis(axes[0])] }   // the common case, without a set and a sort
        let resolved = try axes.map { (axis) throws(TensorError) in try normalizedAxis(axis) }
        guard Set(resolved).count == resolved.count else {
            throw TensorError.invalidArgument(name: "axes", expected: "distinct axes", received: "\(axes)")
        }
        return resolved.sorted()
    }

    /// Shape after reducing `axes` (kept as length 1 when `keeping`).
    @inlinable
    func reducedShape(_ axes: [Int], keeping: Bool) -> [Int] {
        (0..<rank).compactMap { axes.contains($0) ? (keeping ? 1 : nil) : layout.length($0) }
    }

    /// The reduction engine: reduces `axes` (nil = all) with `reducer`.
    @inlinable
    func reduce<R: ElementReducer>(_ reducer: R, axes requested: [Int]?, keepingDimensions: Bool,
                                   operation: String) throws(TensorError) -> Tensor where R.Value == Element {
        if requested == nil && isContiguous && count > 0 {
            // The whole of a contiguous tensor is one run: reduced as the general
            // path below reduces it (same run, same order), without its plans.
            let run = withExtendedLifetime(storage) { reducer.reduceLongRun(storage.base + offset, count: count, stride: 1) }
            let value = reducer.identity.map { reducer.combine($0, run) } ?? run
            return Tensor(shape: keepingDimensions ? [Int](repeating: 1, count: rank) : [], repeating: value)
        }
        let axes = try requested.map { (axes) throws(TensorError) in try normalizedAxes(axes) } ?? Array(0..<rank)
        let kept = (0..<rank).filter { !axes.contains($0) }
        let outShape = reducedShape(axes, keeping: keepingDimensions)
        let keptShape = kept.map { layout.length($0) }, keptStrides = kept.map { layout.stride($0) }
        let reducedShapeOnly = axes.map { layout.length($0) }, reducedStrides = axes.map { layout.stride($0) }
        let reductionCount = reducedShapeOnly.reduce(1, *)
        let outCount = keptShape.reduce(1, *)
        if reductionCount == 0 && outCount > 0 {
            guard let identity = reducer.identity else {
                throw TensorError.invalidArgument(name: "tensor", expected: "at least one element to \(operation)",
                                                  received: "an empty reduction over shape \(shape)")
            }
            return Tensor(shape: outShape, repeating: identity)
        }
        let result = Tensor(storage: TensorStorage(uninitializedCount: outCount), shape: outShape,
                            strides: Self.contiguousStrides(for: outShape), offset: 0)
        guard outCount > 0 else { return result }
        let outStrides = Tensor.contiguousStrides(for: keptShape)
        let input = sendableElements
        let out = result.sendableMutableElements
        let reducedLoop = StridedLoop(shape: reducedShapeOnly, strides: [reducedStrides])
        let keptLoop = StridedLoop(shape: keptShape, strides: [outStrides, keptStrides])

        func smallestStride(_ s: [Int], _ n: [Int]) -> Int {
            Swift.zip(s, n).filter { $0.1 > 1 }.map { Swift.abs($0.0) }.min() ?? Int.max
        }
        let accumulateSlices = outCount > 1 && reductionCount > 1
            && smallestStride(keptStrides, keptShape) < smallestStride(reducedStrides, reducedShapeOnly)

        withExtendedLifetime(storage) {
            if accumulateSlices {
                // out[k] = combine(... combine(x[k, r0], x[k, r1]) ..., x[k, rLast]) in index order.
                var reducedOffsets = [Int]()
                reducedOffsets.reserveCapacity(reductionCount)
                reducedLoop.forEachRun(in: 0..<reductionCount) { o, n in
                    for i in 0..<n { reducedOffsets.append(o.x &+ i &* reducedLoop.innerStrides.x) }
                }
                let offsets = reducedOffsets
                // One chunk of outputs per thread: each walks long row segments.
                let perThread = (outCount + Parallel.threadCount - 1) / Parallel.threadCount
                keptLoop.forEachRunInParallel(minimumChunk: Swift.max(perThread, elementwiseChunk / reductionCount)) { o, n in
                    let po = out.pointer(at: o.x), so = keptLoop.innerStrides.x, si = keptLoop.innerStrides.y
                    let first = input.pointer(at: o.y &+ offsets[0])
                    for i in 0..<n { po[i &* so] = first[i &* si] }
                    for r in 1..<reductionCount {
                        let pi = input.pointer(at: o.y &+ offsets[r])
                        if so == 1 && si == 1 {
                            for i in 0..<n { po[i] = reducer.combine(po[i], pi[i]) }
                        } else {
                            for i in 0..<n { po[i &* so] = reducer.combine(po[i &* so], pi[i &* si]) }
                        }
                    }
                }
            } else if outCount == 1 {
                out[0] = Self.reduceAll(reducer, input.pointer(at: 0), reducedLoop, count: reductionCount)
            } else {
                keptLoop.forEachRunInParallel(minimumChunk: Swift.max(1, elementwiseChunk / reductionCount)) { o, n in
                    for i in 0..<n {
                        let base = input.pointer(at: o.y &+ i &* keptLoop.innerStrides.y)
                        out[o.x &+ i &* keptLoop.innerStrides.x] =
                            Self.reduceAll(reducer, base, reducedLoop, count: reductionCount)
                    }
                }
            }
        }
        return result
    }

    /// Reduces every element that `loop` visits from `base`, run by run,
    /// combining the runs in order (a single long run may be split across
    /// threads by ``ElementReducer/reduceLongRun(_:count:stride:)``).
    @inlinable
    static func reduceAll<R: ElementReducer>(_ reducer: R, _ base: UnsafePointer<Element>, _ loop: StridedLoop,
                                             count: Int) -> Element where R.Value == Element {
        if loop.outerShape.isEmpty {
            let run = reducer.reduceLongRun(base, count: count, stride: loop.innerStrides.x)
            return reducer.identity.map { reducer.combine($0, run) } ?? run
        }
        var result: Element? = nil
        loop.forEachRun(in: 0..<count) { o, n in
            let partial = reducer.reduceRun(base + o.x, count: n, stride: loop.innerStrides.x)
            if let accumulated = result {
                result = reducer.combine(accumulated, partial)
            } else {
                result = reducer.identity.map { reducer.combine($0, partial) } ?? partial
            }
        }
        return result!
    }
}

extension ElementReducer {
    /// Reduces one long run; by default the same as `reduceRun`.
    @inlinable
    func reduceLongRun(_ base: UnsafePointer<Value>, count: Int, stride: Int) -> Value {
        reduceRun(base, count: count, stride: stride)
    }
}
