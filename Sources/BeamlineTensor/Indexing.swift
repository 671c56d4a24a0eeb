/// One axis's part of a subscript: an integer, a range, a strided slice,
/// the whole axis, or a new axis of length 1.
///
/// Integers and Swift ranges convert implicitly through
/// ``TensorIndexExpression``: `t[0, 1..<3, .all, .stride(by: -1), .newAxis]`.
/// Integers may be negative (counting from the end, as in NumPy). Swift
/// ranges must lie inside the axis (as for `Array`), while ``slice(_:_:step:)``
/// follows Python's slice rules exactly (negative bounds count from the end,
/// out-of-range bounds are clamped, negative steps walk backwards).
public enum TensorIndex: Sendable, Equatable {
    /// One position (removes the axis).
    case index(Int)
    /// Positions `range` (keeps the axis).
    case range(Range<Int>)
    /// A Python slice `start:stop:step` (keeps the axis).
    case slice(Int?, Int?, step: Int)
    /// The whole axis (`:` in NumPy).
    case all
    /// Inserts an axis of length 1 (`np.newaxis`).
    case newAxis
    /// Stands for as many `.all` as needed to index every axis (`...`).
    case ellipsis

    /// A Python slice `start:stop:step`.
    public static func slice(_ start: Int? = nil, _ stop: Int? = nil) -> TensorIndex {
        .slice(start, stop, step: 1)
    }

    /// A Python slice `start:stop:step` with the bounds optional.
    public static func stride(_ start: Int? = nil, _ stop: Int? = nil, by step: Int) -> TensorIndex {
        .slice(start, stop, step: step)
    }
}

/// Values that can stand for one axis in a tensor subscript.
public protocol TensorIndexExpression {
    /// The index this value stands for.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexExpression {
    /// `self`.
    public var tensorIndex: TensorIndex { self }
}
extension Int: TensorIndexExpression {
    /// `.index(self)`.
    public var tensorIndex: TensorIndex { .index(self) }
}
extension Range: TensorIndexExpression where Bound == Int {
    /// `.range(self)`.
    public var tensorIndex: TensorIndex { .range(self) }
}
extension ClosedRange: TensorIndexExpression where Bound == Int {
    /// `.range(lowerBound..<upperBound + 1)`.
    public var tensorIndex: TensorIndex { .range(lowerBound..<(upperBound + 1)) }
}
extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    /// `.slice(lowerBound, nil)` checked to lie inside the axis.
    public var tensorIndex: TensorIndex { .slice(lowerBound, nil, step: 0) }
}
extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    /// `.range(0..<upperBound)`.
    public var tensorIndex: TensorIndex { .range(0..<upperBound) }
}
extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    /// `.range(0..<upperBound + 1)`.
    public var tensorIndex: TensorIndex { .range(0..<(upperBound + 1)) }
}

/// How one source axis maps into a view: where it starts, how many
/// elements, how far apart (in source positions), and whether it is kept.
@usableFromInline
struct AxisSelection {
    @usableFromInline var start: Int
    @usableFromInline var count: Int
    @usableFromInline var step: Int
    @usableFromInline var keepsAxis: Bool

    @inlinable
    init(start: Int, count: Int, step: Int, keepsAxis: Bool) {
        self.start = start
        self.count = count
        self.step = step
        self.keepsAxis = keepsAxis
    }
}

extension Tensor {
    /// Resolves a subscript into a view, or an error naming the bad index.
    @inlinable
    func resolvedView(_ indices: [TensorIndex]) throws(TensorError) -> Tensor {
        let ellipses = indices.filter { $0 == .ellipsis }.count
        guard ellipses <= 1 else {
            throw TensorError.invalidArgument(name: "indices", expected: "at most one ellipsis",
                                              received: "\(ellipses)")
        }
        let consuming = indices.filter { $0 != .newAxis && $0 != .ellipsis }.count
        guard consuming <= rank else {
            throw TensorError.invalidArgument(name: "indices", expected: "at most \(rank) indices for shape \(shape)",
                                              received: "\(consuming)")
        }
        var expanded: [TensorIndex] = []
        for index in indices {
            if index == .ellipsis {
                expanded.append(contentsOf: repeatElement(.all, count: rank - consuming))
            } else {
                expanded.append(index)
            }
        }
        if ellipses == 0 { expanded.append(contentsOf: repeatElement(.all, count: rank - consuming)) }

        var newShape: [Int] = [], newStrides: [Int] = []
        var newOffset = offset
        var axis = 0
        for index in expanded {
            if index == .newAxis {
                newShape.append(1)
                newStrides.append(0)
                continue
            }
            let selection = try Self.select(index, axis: axis, size: layout.length(axis))
            newOffset += selection.start &* layout.stride(axis)
            if selection.keepsAxis {
                newShape.append(selection.count)
                newStrides.append(selection.step &* layout.stride(axis))
            }
            axis += 1
        }
        return Tensor(storage: storage, shape: newShape, strides: newStrides, offset: newOffset)
    }

    /// The positions one index selects along an axis of length `size`.
    @inlinable
    static func select(_ index: TensorIndex, axis: Int, size: Int) throws(TensorError) -> AxisSelection {
        switch index {
        case .index(let i):
            let position = i < 0 ? i + size : i
            guard position >= 0 && position < size else {
                throw TensorError.indexOutOfRange(axis: axis, index: i, size: size)
            }
            return AxisSelection(start: position, count: 1, step: 1, keepsAxis: false)
        case .range(let range):
            guard range.lowerBound >= 0 && range.upperBound <= size else {
                throw TensorError.invalidArgument(name: "range for axis \(axis)", expected: "within 0...\(size)",
                                                  received: "\(range)")
            }
            return AxisSelection(start: range.lowerBound, count: range.count, step: 1, keepsAxis: true)
        case .slice(let start, let stop, let step) where step == 0:
            // A partial range `a...`: Swift-style bounds check.
            let lower = start ?? 0
            guard lower >= 0 && lower <= size else {
                throw TensorError.invalidArgument(name: "range for axis \(axis)", expected: "within 0...\(size)",
                                                  received: "\(lower)...")
            }
            _ = stop
            return AxisSelection(start: lower, count: size - lower, step: 1, keepsAxis: true)
        case .slice(let start, let stop, let step):
            return pythonSlice(start: start, stop: stop, step: step, size: size)
        case .all:
            return AxisSelection(start: 0, count: size, step: 1, keepsAxis: true)
        case .newAxis, .ellipsis:
            preconditionFailure("resolved earlier")
        }
    }

    /// Python's `slice.indices(size)` followed by `len(range(...))`.
    @inlinable
    static func pythonSlice(start: Int?, stop: Int?, step: Int, size: Int) -> AxisSelection {
        func clamp(_ value: Int?, _ defaultValue: Int, lower: Int, upper: Int) -> Int {
            guard var v = value else { return defaultValue }
            if v < 0 { v += size }
            return Swift.min(Swift.max(v, lower), upper)
        }
        let first: Int, end: Int
        if step > 0 {
            first = clamp(start, 0, lower: 0, upper: size)
            end = clamp(stop, size, lower: 0, upper: size)
        } else {
            first = clamp(start, size - 1, lower: -1, upper: size - 1)
            end = clamp(stop, -1, lower: -1, upper: size - 1)
        }
        let count: Int
        if step > 0 {
            count = end > first ? (end - first + step - 1) / step : 0
        } else {
            count = first > end ? (first - end + (-step) - 1) / (-step) : 0
        }
        return AxisSelection(start: count > 0 ? first : 0, count: count, step: step, keepsAxis: true)
    }

    /// A view selected by one ``TensorIndexExpression`` per axis (fewer
    /// indices leave the trailing axes whole). The view shares storage; the
    /// setter writes into this tensor, broadcasting the new value to the
    /// view's shape.
    ///
    /// Bad indices stop the program with a message naming the index and the
    /// axis, as `Array` does; ``view(_:)`` is the throwing form.
    @inlinable
    public subscript(_ indices: any TensorIndexExpression...) -> Tensor {
        get {
            do { return try resolvedView(indices.map(\.tensorIndex)) } catch {
                preconditionFailure("Tensor subscript on shape \(shape): \(error)")
            }
        }
        set {
            do { try assign(newValue, to: indices.map(\.tensorIndex)) } catch {
                preconditionFailure("Tensor subscript assignment on shape \(shape): \(error)")
            }
        }
    }

    /// The throwing form of the view subscript.
    @inlinable
    public func view(_ indices: [any TensorIndexExpression]) throws(TensorError) -> Tensor {
        try resolvedView(indices.map(\.tensorIndex))
    }

    /// Writes `value` (broadcast to the selected view's shape) into the
    /// elements that `indices` select; throws on bad indices or shapes.
    @inlinable
    public mutating func assign(_ value: Tensor, to indices: [TensorIndex]) throws(TensorError) {
        var source = value
        if source.storage === storage { source = source.copied() }
        makeUniqueForWriting()
        var target = try resolvedView(indices)
        guard source.broadcastStrides(to: target.shape) != nil else {
            throw TensorError.notBroadcastable(operation: "assignment", lhs: target.shape, rhs: source.shape)
        }
        // `target` shares our (now unique) storage; write through it.
        withExtendedLifetime(self) { target.assignElements(from: source) }
    }

    /// Writes `value` into every element that `indices` select.
    @inlinable
    public mutating func assign(_ value: Element, to indices: [TensorIndex]) throws(TensorError) {
        try assign(Tensor(scalar: value), to: indices)
    }

    /// Sets every element to `value`.
    @inlinable
    public mutating func fill(with value: Element) {
        makeUniqueForWriting()
        var target = self
        withExtendedLifetime(self) { target.assignElements(from: Tensor(scalar: value)) }
    }
}

/// The value that `.all`, `.newAxis`, `.ellipsis`, `.slice(...)` and
/// `.stride(...)` produce where a subscript expects
/// `any TensorIndexExpression`; it wraps a ``TensorIndex``.
public struct TensorIndexLiteral: TensorIndexExpression, Sendable {
    /// The wrapped index.
    public let tensorIndex: TensorIndex
    /// Wraps `index`.
    public init(_ index: TensorIndex) { tensorIndex = index }
}

extension TensorIndexExpression where Self == TensorIndexLiteral {
    /// The whole axis.
    public static var all: TensorIndexLiteral { TensorIndexLiteral(.all) }
    /// A new axis of length 1.
    public static var newAxis: TensorIndexLiteral { TensorIndexLiteral(.newAxis) }
    /// As many whole axes as needed.
    public static var ellipsis: TensorIndexLiteral { TensorIndexLiteral(.ellipsis) }
    /// A Python slice `start:stop` (bounds clamped, negatives from the end).
    public static func slice(_ start: Int? = nil, _ stop: Int? = nil) -> TensorIndexLiteral {
        TensorIndexLiteral(.slice(start, stop, step: 1))
    }
    /// A Python slice `start:stop:step`.
    public static func stride(_ start: Int? = nil, _ stop: Int? = nil, by step: Int) -> TensorIndexLiteral {
        TensorIndexLiteral(.slice(start, stop, step: step))
    }
}
