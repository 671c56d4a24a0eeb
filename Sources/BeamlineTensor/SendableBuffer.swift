// Handles on memory that the `@Sendable` bodies of ``Parallel``'s loops may
// capture, in the manner of swift-collections' `Deque._UnsafeHandle`: a
// pointer plus the range of indices it may touch, checked by `assert` in
// debug builds and free in release builds. A read-only handle has no setter,
// so a kernel cannot write through memory it was given to read.

/// Read-only access to memory that several threads of one parallel loop
/// read at the same time.
///
/// The handle does not own or retain its memory: the caller keeps it alive
/// (usually by calling ``Parallel`` inside `withUnsafeBufferPointer` or
/// `withExtendedLifetime`) until the loop returns. Indices are relative to
/// ``baseAddress`` and may be negative when the handle was made with
/// ``init(start:validIndices:)`` (a tensor view with negative strides).
/// Every access is checked against the valid indices in debug builds.
@frozen
public struct SendableBuffer<Element>: @unchecked Sendable {
    /// The element at index 0.
    public let baseAddress: UnsafePointer<Element>
    /// The indices that may be read.
    public let validIndices: Range<Int>

    /// A handle on the elements of `buffer` (indices `0..<buffer.count`).
    @inlinable
    public init(_ buffer: UnsafeBufferPointer<Element>) {
        self.baseAddress = buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
        self.validIndices = 0..<buffer.count
    }

    /// A read-only handle on the elements of `buffer`.
    @inlinable
    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        self.init(UnsafeBufferPointer(buffer))
    }

    /// A handle whose index 0 is `start` and that may read
    /// `start[validIndices]` (`validIndices` may begin below 0).
    @inlinable
    public init(start: UnsafePointer<Element>, validIndices: Range<Int>) {
        self.baseAddress = start
        self.validIndices = validIndices
    }

    /// The element at `index`.
    @inlinable
    public subscript(index: Int) -> Element {
        @inline(__always) get {
            assert(validIndices.contains(index), "SendableBuffer: index \(index) outside \(validIndices)")
            return baseAddress[index]
        }
    }

    /// A pointer to the element at `index` (`index` may be one past the last
    /// valid index), for kernels that walk a run of elements from there.
    @inlinable @inline(__always)
    public func pointer(at index: Int) -> UnsafePointer<Element> {
        assert(index >= validIndices.lowerBound && index <= validIndices.upperBound,
               "SendableBuffer: position \(index) outside \(validIndices)")
        return baseAddress + index
    }

    /// A pointer to `count` elements starting at `index`, checked in debug
    /// builds to lie inside the valid indices.
    @inlinable @inline(__always)
    public func pointer(at index: Int, count: Int) -> UnsafePointer<Element> {
        assert(count >= 0 && index >= validIndices.lowerBound && index + count <= validIndices.upperBound,
               "SendableBuffer: run \(index)..<\(index + count) outside \(validIndices)")
        return baseAddress + index
    }
}

/// Write access to memory that several threads of one parallel loop fill
/// at the same time, each writing its own disjoint elements.
///
/// The handle does not own or retain its memory (see ``SendableBuffer``).
/// Its setter is `nonmutating`: the handle is a `let` captured by a
/// `@Sendable` loop body. Tasks of one loop must write disjoint elements and
/// must not read elements that another task writes; that is the caller's
/// promise, which Beamline keeps by giving each task its own range of rows,
/// blocks or chunks. Every access is checked against the valid indices in
/// debug builds.
@frozen
public struct SendableMutableBuffer<Element>: @unchecked Sendable {
    /// The element at index 0.
    public let baseAddress: UnsafeMutablePointer<Element>
    /// The indices that may be read and written.
    public let validIndices: Range<Int>

    /// A handle on the elements of `buffer` (indices `0..<buffer.count`).
    @inlinable
    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        self.baseAddress = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
        self.validIndices = 0..<buffer.count
    }

    /// A handle whose index 0 is `start` and that may access
    /// `start[validIndices]` (`validIndices` may begin below 0).
    @inlinable
    public init(start: UnsafeMutablePointer<Element>, validIndices: Range<Int>) {
        self.baseAddress = start
        self.validIndices = validIndices
    }

    /// The element at `index`.
    @inlinable
    public subscript(index: Int) -> Element {
        @inline(__always) get {
            assert(validIndices.contains(index), "SendableMutableBuffer: index \(index) outside \(validIndices)")
            return baseAddress[index]
        }
        @inline(__always) nonmutating set {
            assert(validIndices.contains(index), "SendableMutableBuffer: index \(index) outside \(validIndices)")
            baseAddress[index] = newValue
        }
    }

    /// A pointer to the element at `index` (`index` may be one past the last
    /// valid index), for kernels that walk a run of elements from there.
    @inlinable @inline(__always)
    public func pointer(at index: Int) -> UnsafeMutablePointer<Element> {
        assert(index >= validIndices.lowerBound && index <= validIndices.upperBound,
               "SendableMutableBuffer: position \(index) outside \(validIndices)")
        return baseAddress + index
    }

    /// A pointer to `count` elements starting at `index`, checked in debug
    /// builds to lie inside the valid indices.
    @inlinable @inline(__always)
    public func pointer(at index: Int, count: Int) -> UnsafeMutablePointer<Element> {
        assert(count >= 0 && index >= validIndices.lowerBound && index + count <= validIndices.upperBound,
               "SendableMutableBuffer: run \(index)..<\(index + count) outside \(validIndices)")
        return baseAddress + index
    }

    /// The same memory, read only.
    @inlinable
    public var readOnly: SendableBuffer<Element> {
        SendableBuffer(start: UnsafePointer(baseAddress), validIndices: validIndices)
    }
}

extension Tensor {
    /// A read-only handle on this tensor's storage whose index 0 is element
    /// (0, 0, ...): index `i` is the element at storage position `offset + i`,
    /// so strided kernels index it with their (possibly negative) offsets.
    /// The tensor must stay alive while the handle is used.
    @inlinable
    var sendableElements: SendableBuffer<Element> {
        SendableBuffer(start: UnsafePointer(storage.base + _offset),
                       validIndices: -_offset..<(storage.count - _offset))
    }

    /// A writable handle like ``sendableElements``; the caller has made the
    /// storage unique.
    @inlinable
    var sendableMutableElements: SendableMutableBuffer<Element> {
        SendableMutableBuffer(start: storage.base + _offset, validIndices: -_offset..<(storage.count - _offset))
    }
}

extension SendableBuffer: RandomAccessCollection {
    /// The first valid index.
    @inlinable public var startIndex: Int { validIndices.lowerBound }
    /// One past the last valid index.
    @inlinable public var endIndex: Int { validIndices.upperBound }
}
