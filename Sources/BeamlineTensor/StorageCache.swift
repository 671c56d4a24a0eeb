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

    struct State {
        var limit: Int
        var total = 0
        /// Free buffers (addresses as integers, so the state is Sendable), oldest first.
        var entries: [(bytes: Int, address: Int)] = []
    }

    static let state = Mutex(State(limit: initialLimit()))

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
        set {
            release(state.withLock { s -> [Int] in
                s.limit = Swift.max(0, newValue)
                return evict(&s)
            })
        }
    }

    /// Bytes currently held for reuse.
    public static var cachedBytes: Int { state.withLock { $0.total } }

    /// Releases every cached buffer to the system.
    public static func purge() {
        release(state.withLock { s -> [Int] in
            let all = s.entries.map(\.address)
            s.entries.removeAll()
            s.total = 0
            return all
        })
    }

    /// A cached buffer of exactly `bytes` bytes (the most recently freed
    /// one), or nil.
    @usableFromInline
    static func take(bytes: Int) -> UnsafeMutableRawPointer? {
        guard bytes >= minimumBytes else { return nil }
        let address = state.withLock { s -> Int? in
            guard let index = s.entries.lastIndex(where: { $0.bytes == bytes }) else { return nil }
            s.total -= bytes
            return s.entries.remove(at: index).address
        }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps a freed buffer of `bytes` bytes (allocated with
    /// `TensorStorage.alignment`) for reuse, or releases it.
    @usableFromInline
    static func recycle(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minimumBytes else { pointer.deallocate(); return }
        let address = Int(bitPattern: pointer)
        let (kept, evicted) = state.withLock { s -> (Bool, [Int]) in
            guard bytes <= s.limit else { return (false, []) }
            s.entries.append((bytes, address))
            s.total += bytes
            return (true, evict(&s))
        }
        if !kept { pointer.deallocate() }
        release(evicted)
    }

    /// Drops the oldest entries until the cache is within its limits.
    static func evict(_ s: inout State) -> [Int] {
        var released: [Int] = []
        while !s.entries.isEmpty && (s.total > s.limit || s.entries.count > maximumEntries) {
            let oldest = s.entries.removeFirst()
            s.total -= oldest.bytes
            released.append(oldest.address)
        }
        return released
    }

    /// Returns buffers (by address) to the system, outside the lock.
    static func release(_ addresses: [Int]) {
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}
