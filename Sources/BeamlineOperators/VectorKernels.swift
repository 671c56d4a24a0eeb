import BeamlineTensor

/// Deterministic parallel vector kernels on raw buffers, shared by the
/// operators and the solvers.
///
/// Reductions are summed per fixed block of ``blockSize`` elements (in
/// `Double`) and the blocks combined in block order, so their results do not
/// depend on `Parallel.threadCount`. Elementwise kernels write disjoint
/// chunks, so they are deterministic as well.
public enum VectorKernels {
    /// Elements per reduction block (fixed, independent of the thread count).
    @inlinable public static var blockSize: Int { 16384 }

    /// Σ `body(range)` over fixed blocks of `0..<count`, combined in block
    /// order (the blocks may run in parallel).
    @inlinable
    public static func blockedSum(count: Int, _ body: @Sendable (Range<Int>) -> Double) -> Double {
        if count <= blockSize { return count > 0 ? body(0..<count) : 0 }
        let blocks = (count + blockSize - 1) / blockSize
        var partials = [Double](repeating: 0, count: blocks)
        partials.withUnsafeMutableBufferPointer { out in
            let base = SendableMutableBuffer(out)
            Parallel.forEachBlock(count: count, blockSize: blockSize) { block, range in base[block] = body(range) }
        }
        var total = 0.0
        for value in partials { total += value }
        return total
    }

    /// Two sums at once: Σ `body(range)` over fixed blocks of `blockSize`
    /// indices of `0..<count`, combined lane by lane in block order (the
    /// blocks may run in parallel). Lane `x` of
    /// `blockedSum2(count: n, blockSize: blockSize) { SIMD2(f($0), 0) }` has
    /// the bits of ``blockedSum(count:_:)`` when `blockSize` is
    /// ``blockSize``. `partials` (at least one element per block) holds the
    /// block sums when given, so that the call allocates nothing; otherwise
    /// an array is allocated. The default reduction of `LinearOperator`.
    @inlinable
    public static func blockedSum2(count: Int, blockSize: Int, partials scratch: UnsafeMutableBufferPointer<SIMD2<Double>>? = nil,
                                   _ body: @Sendable (Range<Int>) -> SIMD2<Double>) -> SIMD2<Double> {
        precondition(blockSize > 0, "VectorKernels.blockedSum2: blockSize \(blockSize) must be > 0")
        if count <= blockSize { return count > 0 ? body(0..<count) : .zero }
        let blocks = (count - 1) / blockSize + 1
        func sum(_ out: UnsafeMutableBufferPointer<SIMD2<Double>>) -> SIMD2<Double> {
            let base = SendableMutableBuffer(out)
            Parallel.forEachBlock(count: count, blockSize: blockSize) { block, range in base[block] = body(range) }
            var total = SIMD2<Double>.zero
            for b in 0..<blocks { total += out[b] }
            return total
        }
        if let scratch, scratch.count >= blocks { return sum(scratch) }
        var partials = [SIMD2<Double>](repeating: .zero, count: blocks)
        return partials.withUnsafeMutableBufferPointer { sum($0) }
    }

    /// Σ xᵢ², summed in `Double`.
    @inlinable
    public static func squaredNorm<S: RealElement>(_ x: UnsafePointer<S>, _ count: Int) -> Double {
        let x = SendableBuffer(start: x, validIndices: 0..<count)
        return blockedSum(count: count) { range in
            var sum = 0.0
            for i in range { let v = Double(x[i]); sum += v * v }
            return sum
        }
    }

    /// ‖x‖₂.
    @inlinable
    public static func norm<S: RealElement>(_ x: UnsafePointer<S>, _ count: Int) -> Double {
        squaredNorm(x, count).squareRoot()
    }

    /// Σ xᵢ yᵢ, summed in `Double`.
    @inlinable
    public static func dot<S: RealElement>(_ x: UnsafePointer<S>, _ y: UnsafePointer<S>, _ count: Int) -> Double {
        let (x, y) = (SendableBuffer(start: x, validIndices: 0..<count), SendableBuffer(start: y, validIndices: 0..<count))
        return blockedSum(count: count) { range in
            var sum = 0.0
            for i in range { sum += Double(x[i]) * Double(y[i]) }
            return sum
        }
    }

    /// Runs an elementwise `body` over `0..<count` in parallel chunks (each
    /// index in exactly one chunk).
    @inlinable
    public static func forEach(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        Parallel.forEachChunk(count: count, minimumChunk: 32768, body)
    }

    /// `x *= a`, elementwise.
    @inlinable
    public static func scale<S: RealElement>(_ x: UnsafeMutablePointer<S>, _ count: Int, by a: S) {
        let x = SendableMutableBuffer(start: x, validIndices: 0..<count)
        forEach(count) { range in for i in range { x[i] *= a } }
    }

    /// `y += x`, elementwise.
    @inlinable
    public static func add<S: RealElement>(_ x: UnsafePointer<S>, to y: UnsafeMutablePointer<S>, _ count: Int) {
        let (x, y) = (SendableBuffer(start: x, validIndices: 0..<count), SendableMutableBuffer(start: y, validIndices: 0..<count))
        forEach(count) { range in for i in range { y[i] += x[i] } }
    }
}
