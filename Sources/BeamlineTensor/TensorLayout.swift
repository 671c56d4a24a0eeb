/// The shape and strides of a ``Tensor``, held inline up to rank
/// ``inlineRank`` (no heap allocation per tensor value or per view), with
/// the element count cached.
///
/// Ranks above ``inlineRank`` keep shape and strides in one array (the
/// heap fallback); everything else is stored in the struct, so making,
/// copying and viewing low-rank tensors allocates nothing but element
/// storage, and `count`, `rank` and per-axis lookups are loads.
@frozen @usableFromInline
struct TensorLayout: Sendable {
    /// Largest rank held inline.
    @inlinable static var inlineRank: Int { 4 }

    /// Number of axes.
    @usableFromInline var rank: Int
    /// Product of the lengths (1 for rank 0).
    @usableFromInline var count: Int
    /// Lengths of axes `0..<min(rank, 4)`.
    @usableFromInline var inlineShape: SIMD4<Int>
    /// Strides of axes `0..<min(rank, 4)`.
    @usableFromInline var inlineStrides: SIMD4<Int>
    /// Above rank 4: the lengths followed by the strides; otherwise nil.
    @usableFromInline var spilled: [Int]?

    /// A layout of `shape` and `strides` (equal counts; lengths already
    /// validated by the caller).
    @inlinable
    init(shape: [Int], strides: [Int]) {
        precondition(shape.count == strides.count, "TensorLayout: \(shape.count) lengths and \(strides.count) strides")
        rank = shape.count
        var product = 1
        for length in shape { product &*= length }
        count = product
        inlineShape = .zero
        inlineStrides = .zero
        if rank <= Self.inlineRank {
            spilled = nil
            for axis in 0..<rank {
                inlineShape[axis] = shape[axis]
                inlineStrides[axis] = strides[axis]
            }
        } else {
            spilled = shape + strides
        }
    }

    /// The row-major ("C") contiguous layout of `shape`.
    @inlinable
    init(contiguous shape: [Int]) {
        rank = shape.count
        inlineShape = .zero
        inlineStrides = .zero
        if rank <= Self.inlineRank {
            spilled = nil
            var step = 1
            for axis in Swift.stride(from: rank - 1, through: 0, by: -1) {
                inlineShape[axis] = shape[axis]
                inlineStrides[axis] = step
                step &*= Swift.max(shape[axis], 1)
            }
            var product = 1
            for axis in 0..<rank { product &*= shape[axis] }
            count = product
        } else {
            var strides = [Int](repeating: 1, count: rank)
            var step = 1
            var product = 1
            for axis in Swift.stride(from: rank - 1, through: 0, by: -1) {
                strides[axis] = step
                step &*= Swift.max(shape[axis], 1)
                product &*= shape[axis]
            }
            count = product
            spilled = shape + strides
        }
    }

    /// The row-major contiguous layout with the same lengths as `other`
    /// (no allocation up to rank 4).
    @inlinable
    init(contiguousLike other: TensorLayout) {
        if other.rank > Self.inlineRank {
            self = TensorLayout(contiguous: other.shape)
            return
        }
        rank = other.rank
        count = other.count
        inlineShape = other.inlineShape
        inlineStrides = .zero
        spilled = nil
        var step = 1
        for axis in Swift.stride(from: rank - 1, through: 0, by: -1) {
            inlineStrides[axis] = step
            step &*= Swift.max(inlineShape[axis], 1)
        }
    }

    /// Length of `axis` (`0..<rank`).
    @inlinable @inline(__always)
    func length(_ axis: Int) -> Int {
        rank <= Self.inlineRank ? inlineShape[axis] : spilled.unsafelyUnwrapped[axis]
    }

    /// Stride of `axis` (`0..<rank`).
    @inlinable @inline(__always)
    func stride(_ axis: Int) -> Int {
        rank <= Self.inlineRank ? inlineStrides[axis] : spilled.unsafelyUnwrapped[rank &+ axis]
    }

    /// Whether the lengths are `shape` (no allocation).
    @inlinable
    func hasLengths(_ shape: [Int]) -> Bool {
        guard shape.count == rank else { return false }
        for axis in 0..<rank where length(axis) != shape[axis] { return false }
        return true
    }

    /// Whether `other` has the same lengths (no allocation).
    @inlinable
    func hasSameLengths(as other: TensorLayout) -> Bool {
        guard other.rank == rank else { return false }
        for axis in 0..<rank where length(axis) != other.length(axis) { return false }
        return true
    }

    /// The lengths as an array (allocates).
    @inlinable
    var shape: [Int] {
        if let spilled { return Array(spilled[0..<rank]) }
        return (0..<rank).map { inlineShape[$0] }
    }

    /// The strides as an array (allocates).
    @inlinable
    var strides: [Int] {
        if let spilled { return Array(spilled[rank...]) }
        return (0..<rank).map { inlineStrides[$0] }
    }

    /// The layout with its axes in reverse order (no allocation up to rank 4).
    @inlinable
    var reversed: TensorLayout {
        guard spilled == nil else { return TensorLayout(shape: shape.reversed(), strides: strides.reversed()) }
        var result = self
        for axis in 0..<rank {
            result.inlineShape[axis] = inlineShape[rank &- 1 &- axis]
            result.inlineStrides[axis] = inlineStrides[rank &- 1 &- axis]
        }
        return result
    }

    /// Sets the stride of `axis` (`0..<rank`).
    @inlinable
    mutating func setStride(_ axis: Int, _ value: Int) {
        if rank <= Self.inlineRank { inlineStrides[axis] = value } else { spilled![rank &+ axis] = value }
    }

    /// True when the lengths equal `other`'s.
    @inlinable
    func hasSameShape(as other: TensorLayout) -> Bool {
        guard rank == other.rank else { return false }
        if spilled == nil && other.spilled == nil { return inlineShape == other.inlineShape }
        for axis in 0..<rank where length(axis) != other.length(axis) { return false }
        return true
    }
}
