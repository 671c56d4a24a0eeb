#if canImport(Glibc)
import Glibc
#endif

/// Allocations of at least this many bytes ask the kernel for transparent
/// huge pages, as NumPy does (`numpy/_core/src/multiarray/alloc.c`): with
/// THP in "madvise" mode this removes most page faults on large new tensors.
@usableFromInline let hugePageThreshold = 4 << 20

/// `madvise(MADV_HUGEPAGE)` over the whole pages inside an allocation.
@usableFromInline
func adviseHugePages(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    #if os(Linux)
    let page = 4096
    let start = (Int(bitPattern: pointer) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: pointer) + byteCount) & ~(page - 1)
    if end > start {
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
    }
    #endif
}

/// The shared, 64-byte-aligned buffer under one or more ``Tensor`` values.
///
/// Views share one storage; ``Tensor`` copies it before a write when it is
/// not uniquely referenced (copy-on-write), so tensors behave as values.
/// An implementation detail of ``Tensor`` (as `Deque._Storage` is of
/// swift-collections' `Deque`): reachable from inlinable code only.
///
/// The storage never deinitialises its elements, which is correct only for
/// trivial (bitwise-copyable) element types; every ``TensorElement`` is one
/// (`Complex` from swift-numerics cannot declare `BitwiseCopyable` outside
/// its module, so this is checked here instead of by the protocol).
@usableFromInline
final class TensorStorage<Element: TensorElement>: @unchecked Sendable {
    /// Alignment of every allocation in bytes (a cache line, and what FFTW's
    /// SIMD code paths want).
    @usableFromInline static var alignment: Int { 64 }

    /// First element.
    @usableFromInline let base: UnsafeMutablePointer<Element>
    /// Number of elements allocated.
    @usableFromInline let count: Int

    /// Allocates `count` elements, uninitialised (callers fill them).
    @usableFromInline
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        assert(_isPOD(Element.self), "TensorStorage: \(Element.self) is not a trivial type")
        self.count = count
        let bytes = Swift.max(1, count) &* MemoryLayout<Element>.stride
        let raw: UnsafeMutableRawPointer
        if let reused = StorageCache.take(bytes: bytes) {
            raw = reused
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
            if bytes >= hugePageThreshold { adviseHugePages(raw, byteCount: bytes) }
        }
        self.base = raw.bindMemory(to: Element.self, capacity: Swift.max(1, count))
    }

    /// Allocates `count` elements set to `value`.
    @usableFromInline
    convenience init(repeating value: Element, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    deinit {
        // Large buffers go to the bounded reuse cache (StorageCache.swift).
        StorageCache.recycle(UnsafeMutableRawPointer(base), bytes: Swift.max(1, count) &* MemoryLayout<Element>.stride)
    }
}
