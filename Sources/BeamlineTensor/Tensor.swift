/// A strided N-dimensional array with value semantics.
///
/// A tensor is a shape, strides (in elements, may be zero or negative), an
/// offset, and a shared, 64-byte-aligned storage buffer. Slicing, transposing, permuting,
/// broadcasting and reshaping a contiguous tensor make views that share the
/// storage; a write copies the storage first when it is shared
/// (copy-on-write, as `Array` does), so `b = a; b[at: 0] = 1` never changes
/// `a`. Writing through a subscript setter (`a[0, 1..<3] = x`) writes into
/// `a` itself.
///
/// Row-major ("C") order is the default everywhere: ``elements`` lists
/// elements in that order and new tensors are C-contiguous.
@frozen
public struct Tensor<Element: TensorElement>: @unchecked Sendable {
    /// The buffer this tensor (and maybe others) views.
    @usableFromInline internal var storage: TensorStorage<Element>
    /// Shape and strides, inline up to rank 4, with the element count.
    @usableFromInline internal var layout: TensorLayout
    /// Position of element (0, 0, ...) in the storage.
    @usableFromInline internal var _offset: Int

    /// Length of each axis (a new array on each call; the tensor itself
    /// keeps shapes up to rank 4 inline).
    @inlinable public var shape: [Int] { layout.shape }
    /// Length of `axis` (negative counts from the end, as NumPy's
    /// `a.shape[axis]`), without building the ``shape`` array.
    @inlinable public func length(ofAxis axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "Tensor.length(ofAxis:): axis \(axis) out of range for rank \(rank)")
        return layout.length(a)
    }
    /// Whether the shape is `shape` (no array is built).
    @inlinable public func hasShape(_ shape: [Int]) -> Bool { layout.hasLengths(shape) }
    /// Whether `other` has the same shape (no array is built).
    @inlinable public func hasSameShape<Other: TensorElement>(as other: Tensor<Other>) -> Bool {
        layout.hasSameLengths(as: other.layout)
    }
    /// Distance in elements between neighbours along each axis (zero on
    /// broadcast axes, negative on flipped ones; a new array on each call).
    @inlinable public var strides: [Int] { layout.strides }
    /// Position of the element at index (0, 0, ...) in the storage.
    @inlinable public var offset: Int { _offset }

    /// Makes a tensor from its parts (no checks).
    @inlinable
    internal init(storage: TensorStorage<Element>, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.layout = TensorLayout(shape: shape, strides: strides)
        self._offset = offset
    }

    /// Makes a tensor from its parts (no checks, no allocation).
    @inlinable
    internal init(storage: TensorStorage<Element>, layout: TensorLayout, offset: Int) {
        self.storage = storage
        self.layout = layout
        self._offset = offset
    }

    /// A tensor of `shape` with every element equal to `value`.
    @inlinable
    public init(shape: [Int], repeating value: Element) {
        let count = Self.validatedCount(shape)
        self.init(storage: TensorStorage(repeating: value, count: count), layout: TensorLayout(contiguous: shape),
                  offset: 0)
    }

    /// A tensor of `shape` holding `elements` in row-major order.
    ///
    /// The count must equal the product of the shape (a programmer error
    /// otherwise; use ``init(checkedShape:elements:)`` for data of unknown
    /// shape).
    @inlinable
    public init(shape: [Int], elements: [Element]) {
        let count = Self.validatedCount(shape)
        precondition(elements.count == count,
                     "Tensor(shape:elements:): shape \(shape) needs \(count) elements, received \(elements.count)")
        let storage = TensorStorage<Element>(uninitializedCount: count)
        elements.withUnsafeBufferPointer { source in
            if count > 0 { storage.base.initialize(from: source.baseAddress!, count: count) }
        }
        self.init(storage: storage, layout: TensorLayout(contiguous: shape), offset: 0)
    }

    /// The checked form of ``init(shape:elements:)``: throws
    /// ``TensorError/elementCountMismatch(shape:count:)`` or
    /// ``TensorError/invalidArgument(name:expected:received:)`` instead of
    /// stopping.
    @inlinable
    public init(checkedShape shape: [Int], elements: [Element]) throws(TensorError) {
        try Self.checkShape(shape)
        guard shape.reduce(1, *) == elements.count else {
            throw TensorError.elementCountMismatch(shape: shape, count: elements.count)
        }
        self.init(shape: shape, elements: elements)
    }

    /// A one-dimensional tensor holding `elements`.
    @inlinable
    public init(_ elements: [Element]) {
        self.init(shape: [elements.count], elements: elements)
    }

    /// A zero-dimensional tensor holding one value.
    @inlinable
    public init(scalar value: Element) {
        self.init(shape: [], repeating: value)
    }

    /// A C-contiguous tensor of `shape` whose elements `initializer` writes,
    /// as `Array(unsafeUninitializedCapacity:initializingWith:)` does.
    ///
    /// The elements start uninitialised: `initializer` must write every one
    /// of them (reading one first, or leaving one unwritten, gives
    /// unspecified values). The buffer is valid only during the call.
    @inlinable
    public init<Failure: Error>(
        unsafeUninitializedShape shape: [Int],
        initializingWith initializer: (UnsafeMutableBufferPointer<Element>) throws(Failure) -> Void
    ) throws(Failure) {
        let count = Self.validatedCount(shape)
        let storage = TensorStorage<Element>(uninitializedCount: count)
        try initializer(UnsafeMutableBufferPointer(start: storage.base, count: count))
        self.init(storage: storage, layout: TensorLayout(contiguous: shape), offset: 0)
    }

    /// The former name of ``init(unsafeUninitializedShape:initializingWith:)``,
    /// which hid the word "unsafe" behind a trailing closure.
    @available(*, deprecated, renamed: "init(unsafeUninitializedShape:initializingWith:)")
    @inlinable
    public init(shape: [Int],
                unsafeUninitializedElements initializer: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        try self.init(unsafeUninitializedShape: shape, initializingWith: initializer)
    }

    // MARK: - Properties

    /// Number of axes.
    @inlinable public var rank: Int { layout.rank }
    /// Number of elements (the product of the shape; 1 for rank 0; cached).
    @inlinable public var count: Int { layout.count }
    /// True when some axis has length 0.
    @inlinable public var isEmpty: Bool { layout.count == 0 }
    /// The NumPy type of the elements.
    @inlinable public var dtype: DType { Element.dtype }

    /// True when the elements are laid out in row-major order with no gaps
    /// (axes of length 1 may have any stride).
    @inlinable
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let length = layout.length(axis)
            if length == 1 { continue }
            if length == 0 { return true }
            if layout.stride(axis) != expected { return false }
            expected &*= length
        }
        return true
    }

    /// Row-major strides for `shape`.
    @inlinable
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step &*= Swift.max(shape[axis], 1)
        }
        return strides
    }

    /// Product of `shape`, stopping on negative lengths.
    @inlinable
    static func validatedCount(_ shape: [Int]) -> Int {
        var count = 1
        for length in shape {
            precondition(length >= 0, "Tensor: negative axis length in shape \(shape)")
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            precondition(!overflow, "Tensor: shape \(shape) has too many elements")
            count = product
        }
        return count
    }

    /// Throws when `shape` has a negative length or overflows.
    @inlinable
    static func checkShape(_ shape: [Int]) throws(TensorError) {
        var count = 1
        for length in shape {
            guard length >= 0 else {
                throw TensorError.invalidArgument(name: "shape", expected: "non-negative axis lengths",
                                                  received: "\(shape)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow else {
                throw TensorError.invalidArgument(name: "shape", expected: "fewer than Int.max elements",
                                                  received: "\(shape)")
            }
            count = product
        }
    }

    // MARK: - Element access

    /// Storage position of the element at `indices` (NumPy-style negative
    /// indices count from the end).
    @inlinable
    func storagePosition(_ indices: [Int]) -> Int {
        precondition(indices.count == rank,
                     "Tensor: \(indices.count) indices given for a tensor of shape \(shape)")
        var position = _offset
        for axis in 0..<rank {
            position &+= offsetAlong(axis, indices[axis])
        }
        return position
    }

    /// `index · stride` along `axis` (a negative index counts from the
    /// end), stopping when the index is out of range.
    @inlinable @inline(__always)
    func offsetAlong(_ axis: Int, _ index: Int) -> Int {
        let length = layout.length(axis)
        let resolved = index < 0 ? index &+ length : index
        if _slowPath(resolved < 0 || resolved >= length) { indexOutOfRange(axis, index) }
        return resolved &* layout.stride(axis)
    }

    /// Stops with a message naming the index, the axis and the shape.
    @usableFromInline @inline(never)
    func indexOutOfRange(_ axis: Int, _ index: Int) -> Never {
        preconditionFailure("Tensor: index \(index) is out of range for axis \(axis) of size \(layout.length(axis)) (shape \(shape))")
    }

    /// Stops unless the tensor has `indices` axes.
    @inlinable @inline(__always)
    func checkArity(_ indices: Int) {
        if _slowPath(rank != indices) { wrongArity(indices) }
    }

    /// Stops with a message naming the number of indices and the shape.
    @usableFromInline @inline(never)
    func wrongArity(_ indices: Int) -> Never {
        preconditionFailure("Tensor: \(indices) indices given for a tensor of shape \(shape)")
    }

    /// The element of a rank-1 tensor at `i` (negative indices count from
    /// the end). Does not allocate; stops on a bad index, as `Array` does.
    @inlinable
    public subscript(at i: Int) -> Element {
        get {
            checkArity(1)
            return storage.base[_offset &+ offsetAlong(0, i)]
        }
        set {
            checkArity(1)
            makeUniqueForWriting()
            storage.base[_offset &+ offsetAlong(0, i)] = newValue
        }
    }

    /// The element of a rank-2 tensor at `(i, j)` (negative indices count
    /// from the end). Does not allocate; stops on a bad index.
    @inlinable
    public subscript(at i: Int, _ j: Int) -> Element {
        get {
            checkArity(2)
            return storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j)]
        }
        set {
            checkArity(2)
            makeUniqueForWriting()
            storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j)] = newValue
        }
    }

    /// The element of a rank-3 tensor at `(i, j, k)` (negative indices
    /// count from the end). Does not allocate; stops on a bad index.
    @inlinable
    public subscript(at i: Int, _ j: Int, _ k: Int) -> Element {
        get {
            checkArity(3)
            return storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j) &+ offsetAlong(2, k)]
        }
        set {
            checkArity(3)
            makeUniqueForWriting()
            storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j) &+ offsetAlong(2, k)] = newValue
        }
    }

    /// The element of a rank-4 tensor at `(i, j, k, l)` (negative indices
    /// count from the end). Does not allocate; stops on a bad index.
    @inlinable
    public subscript(at i: Int, _ j: Int, _ k: Int, _ l: Int) -> Element {
        get {
            checkArity(4)
            return storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j) &+ offsetAlong(2, k)
                                &+ offsetAlong(3, l)]
        }
        set {
            checkArity(4)
            makeUniqueForWriting()
            storage.base[_offset &+ offsetAlong(0, i) &+ offsetAlong(1, j) &+ offsetAlong(2, k)
                         &+ offsetAlong(3, l)] = newValue
        }
    }

    /// The element at one index per axis (negative indices count from the
    /// end, as in NumPy). Out-of-range indices stop the program, as `Array`
    /// does; use ``element(at:)`` for a throwing form. With one to four
    /// indices the fixed-arity subscripts (``subscript(at:)``,
    /// ``subscript(at:_:)``, …) are chosen, which allocate nothing; this
    /// variadic form builds an array of the indices.
    @inlinable
    public subscript(at indices: Int...) -> Element {
        get { storage.base[storagePosition(indices)] }
        set {
            makeUniqueForWriting()
            storage.base[storagePosition(indices)] = newValue
        }
    }

    /// The element at `indices`, or a ``TensorError`` when there are too few
    /// or too many indices or one is out of range.
    @inlinable
    public func element(at indices: [Int]) throws(TensorError) -> Element {
        guard indices.count == rank else {
            throw TensorError.invalidArgument(name: "indices", expected: "\(rank) indices",
                                              received: "\(indices.count)")
        }
        for axis in 0..<rank where !(-layout.length(axis)..<layout.length(axis)).contains(indices[axis]) {
            throw TensorError.indexOutOfRange(axis: axis, index: indices[axis], size: layout.length(axis))
        }
        return storage.base[storagePosition(indices)]
    }

    /// The single element of a tensor with one element (any rank).
    @inlinable
    public var scalar: Element {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) does not hold exactly one element")
        return storage.base[offset]
    }

    /// All elements in row-major order.
    @inlinable
    public var elements: [Element] {
        let source = contiguous()
        return Array(UnsafeBufferPointer(start: source.storage.base + source.offset, count: source.count))
    }

    // MARK: - Contiguity and copy-on-write

    /// This tensor if it is already C-contiguous, else a contiguous copy.
    @inlinable
    public func contiguous() -> Tensor {
        isContiguous ? self : copied()
    }

    /// A new C-contiguous tensor with the same elements (always copies).
    @inlinable
    public func copied() -> Tensor {
        var result = Tensor(storage: TensorStorage(uninitializedCount: count),
                            layout: TensorLayout(contiguousLike: layout), offset: 0)
        result.assignElements(from: self)
        return result
    }

    /// True when two indices of this tensor map to one storage element
    /// (a zero stride on an axis longer than 1, as broadcasting makes).
    @inlinable
    var hasOverlappingElements: Bool {
        for axis in 0..<rank where layout.stride(axis) == 0 && layout.length(axis) > 1 { return true }
        return false
    }

    /// Makes the storage unique (and free of broadcast overlap) before a write.
    @inlinable
    mutating func makeUniqueForWriting() {
        if !isKnownUniquelyReferenced(&storage) || hasOverlappingElements {
            makeUniqueCopy()
        }
    }

    @usableFromInline @inline(never)
    mutating func makeUniqueCopy() {
        self = copied()
    }

    /// Calls `body` with the elements in row-major order (copying first only
    /// when the tensor is not contiguous).
    @inlinable
    public func withUnsafeBufferPointer<R, Failure: Error>(
        _ body: (UnsafeBufferPointer<Element>) throws(Failure) -> R
    ) throws(Failure) -> R {
        let source = contiguous()
        defer { withExtendedLifetime(source.storage) {} }
        return try body(UnsafeBufferPointer(start: source.storage.base + source.offset, count: source.count))
    }

    /// Calls `body` with mutable access to the elements in row-major order,
    /// making the tensor unique and contiguous first.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R, Failure: Error>(
        _ body: (UnsafeMutableBufferPointer<Element>) throws(Failure) -> R
    ) throws(Failure) -> R {
        if !isContiguous || hasOverlappingElements || !isKnownUniquelyReferenced(&storage) {
            makeUniqueCopy()
        }
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    /// Calls `body` with the storage pointer at element (0, 0, ...) and the
    /// strides, without copying. For kernels that walk strided memory.
    @inlinable
    public func withUnsafeStridedPointer<R, Failure: Error>(
        _ body: (UnsafePointer<Element>, _ shape: [Int], _ strides: [Int]) throws(Failure) -> R
    ) throws(Failure) -> R {
        defer { withExtendedLifetime(storage) {} }
        return try body(UnsafePointer(storage.base + offset), shape, strides)
    }

    /// Calls `body` with a mutable storage pointer at element (0, 0, ...)
    /// and the strides, after making the storage unique.
    @inlinable
    public mutating func withUnsafeMutableStridedPointer<R, Failure: Error>(
        _ body: (UnsafeMutablePointer<Element>, _ shape: [Int], _ strides: [Int]) throws(Failure) -> R
    ) throws(Failure) -> R {
        makeUniqueForWriting()
        return try body(storage.base + offset, shape, strides)
    }
}

extension Tensor: Equatable {
    /// Equal shapes and equal elements (NaN is never equal, as in `Array`).
    @inlinable
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.layout.hasSameShape(as: rhs.layout) && lhs.elements == rhs.elements
    }
}

extension Tensor: CustomStringConvertible {
    /// A NumPy-like rendering: `Tensor<float64>(shape: [2, 2], [[1.0, 2.0], [3.0, 4.0]])`,
    /// abbreviated past 1000 elements.
    public var description: String {
        guard count <= 1000 else { return "Tensor<\(dtype)>(shape: \(shape), ...)" }
        let values = elements
        func render(_ axis: Int, _ start: Int) -> String {
            if axis == rank { return "\(values[start])" }
            let inner = shape[(axis + 1)...].reduce(1, *)
            return "[" + (0..<shape[axis]).map { render(axis + 1, start + $0 * inner) }.joined(separator: ", ") + "]"
        }
        return "Tensor<\(dtype)>(shape: \(shape), \(render(0, 0)))"
    }
}
