#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A bounded cache of recently freed large tensor buffers, reused by new
/// tensors of exactly the same byte size.
///
/// A fresh large allocation costs more than the arithmetic that fills it:
/// glibc hands blocks above its mmap threshold back to the kernel when they
/// are freed, so the next tensor of that size takes a page fault per page
/// and the kernel zeroes every page (about 2.5 ms of a 3.8 ms `a + b` on
/// 4 M doubles here, against 1.2 ms for the in-place `a += b`). Iterative
/// code (solvers, registration of many images, elementwise chains) frees
/// and allocates the same sizes over and over; keeping a few freed buffers
/// mapped removes that cost.
///
/// Only buffers of at least ``minimumBytes`` are kept, the most recently
/// freed first, up to ``limitBytes`` in total (the oldest are released
/// first). The limit comes from the environment variable
/// `BEAMLINE_STORAGE_CACHE_MB` (default 256; 0 turns the cache off) and can
/// be changed at run time. Reused memory is uninitialised, as a fresh
/// allocation is; results never depend on the cache.
public enum StorageCache {
    /// Smallest buffer the cache keeps (64 KiB). glibc serves blocks from
    /// its mmap threshold (128 KiB at start, raised as mmapped blocks are
    /// freed) with fresh mappings, and trims the heap top once more than
    /// twice that is free, so tensors of 64–256 KiB (a 128² complex
    /// spectrum) also came back as faulting pages: at 128², page faults and
    /// `brk` were about 14 % of a phase correlation's time before this
    /// limit was lowered from 256 KiB. Smaller blocks stay in malloc's own
    /// free lists.
    public static let minimumBytes = 64 << 10

    /// At most this many buffers are kept, whatever their size.
    static let maximumEntries = 32

    static let state = Mutex(BufferPool(limit: initialLimit(), maximumEntries: maximumEntries))

    static func initialLimit() -> Int {
        if let text = getenv("BEAMLINE_STORAGE_CACHE_MB").map({ String(cString: $0) }),
           let megabytes = Int(text.trimmingCharacters(in: " \t")), megabytes >= 0 {
            return megabytes << 20
        }
        return 256 << 20
    }

    /// The most bytes of freed buffers kept for reuse (0: none). Lowering
    /// it releases buffers at once.
    public static var limitBytes: Int {
        get { state.withLock { $0.limit } }
        set { release(state.withLock { $0.setLimit(newValue) }) }
    }

    /// Bytes currently held for reuse.
    public static var cachedBytes: Int { state.withLock { $0.total } }

    /// Releases every cached buffer to the system.
    public static func purge() {
        release(state.withLock { $0.removeAll() })
    }

    /// A cached buffer of exactly `bytes` bytes (the most recently freed
    /// one), or nil.
    @usableFromInline
    static func take(bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= minimumBytes else { return nil }
        return state.withLock { $0.take(bytes: bytes) }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps a freed buffer of `bytes` bytes (allocated with
    /// `TensorStorage.alignment`) for reuse, or releases it.
    @usableFromInline
    static func recycle(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minimumBytes else { pointer.deallocate(); return }
        let (kept, evicted) = state.withLock { $0.recycle(address: Int(bitPattern: pointer), bytes: bytes) }
        if !kept { pointer.deallocate() }
        release(evicted)
    }

    /// Returns buffers (by address) to the system, outside the lock.
    static func release(_ addresses: [Int]) {
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}

/// The storage cache's bookkeeping: which freed buffers (by address) are
/// kept, most recently freed last, within a byte limit and an entry limit.
///
/// A plain value, so that its policy is tested on its own instance
/// (`StorageCacheTests`) while other suites allocate and free through the
/// global cache concurrently. It never touches memory: the caller releases
/// the addresses it returns.
struct BufferPool {
    /// The most bytes kept (0: none).
    var limit: Int
    /// The most buffers kept, whatever their size.
    let maximumEntries: Int
    /// Bytes currently kept.
    private(set) var total = 0
    /// Kept buffers (addresses as integers, so the state is Sendable), oldest first.
    private(set) var entries: [(bytes: Int, address: Int)] = []

    init(limit: Int, maximumEntries: Int) {
        self.limit = Swift.max(0, limit)
        self.maximumEntries = maximumEntries
    }

    /// Removes and returns the most recently kept buffer of exactly `bytes` bytes.
    mutating func take(bytes: Int) -> Int? {
        guard let index = entries.lastIndex(where: { $0.bytes == bytes }) else { return nil }
        total -= bytes
        return entries.remove(at: index).address
    }

    /// Keeps a freed buffer if it fits the limit; returns whether it was
    /// kept and the oldest buffers evicted to make room (to be released).
    mutating func recycle(address: Int, bytes: Int) -> (kept: Bool, released: [Int]) {
        guard bytes <= limit else { return (false, []) }
        entries.append((bytes, address))
        total += bytes
        return (true, evict())
    }

    /// Sets the byte limit and returns the buffers evicted by it.
    mutating func setLimit(_ newLimit: Int) -> [Int] {
        limit = Swift.max(0, newLimit)
        return evict()
    }

    /// Empties the pool and returns every buffer it held.
    mutating func removeAll() -> [Int] {
        defer { entries.removeAll(); total = 0 }
        return entries.map(\.address)
    }

    /// Drops the oldest entries until the pool is within its limits.
    private mutating func evict() -> [Int] {
        var released: [Int] = []
        while !entries.isEmpty && (total > limit || entries.count > maximumEntries) {
            let oldest = entries.removeFirst()
            total -= oldest.bytes
            released.append(oldest.address)
        }
        return released
    }
}
