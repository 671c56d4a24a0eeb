import CBLAS
import CBeamlineKernels
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place that owns threading in Beamline.
///
/// Every parallel loop in the framework goes through ``forEachChunk(count:minimumChunk:_:)``
/// or ``forEachBlock(count:blockSize:_:)``, and ``threadCount`` is the one
/// setting for how many threads they, OpenBLAS and FFTW use. It starts from
/// the environment variable `BEAMLINE_NUM_THREADS` (default: all online
/// cores).
///
/// Determinism: work split by ``forEachBlock(count:blockSize:_:)`` uses block
/// boundaries that do not depend on the thread count, so a reduction that
/// combines per-block results in block order gives identical bits with 1 or
/// many threads.
public enum Parallel {
    @usableFromInline
    static let setting = Mutex<Int>(Parallel.initialThreadCount())

    /// Number of threads used by Beamline's loops, OpenBLAS and FFTW.
    ///
    /// Setting it also sets OpenBLAS's thread count; FFT plans made
    /// afterwards use it too. Values below 1 are treated as 1.
    public static var threadCount: Int {
        get { setting.withLock { $0 } }
        set {
            pthread_mutex_lock(scopeLock)
            defer { pthread_mutex_unlock(scopeLock) }
            store(newValue)
        }
    }

    /// Writes the count and OpenBLAS's (the caller holds ``scopeLock``).
    static func store(_ newValue: Int) {
        let count = Swift.max(1, newValue)
        setting.withLock { $0 = count }
        openblas_set_num_threads(Int32(clamping: count))
    }

    /// Runs `body` with ``threadCount`` set to `threads`, and restores the
    /// previous count afterwards (also when `body` throws).
    ///
    /// The setting is process-wide: loops started meanwhile on other
    /// threads use it too (results do not depend on it, only speed does).
    /// Scopes on different threads run one at a time, and the setter of
    /// ``threadCount`` takes the same lock, so nothing changes the count
    /// while a scope runs except code on the scope's own thread; on one
    /// thread scopes nest.
    public static func withThreadCount<R, Failure: Error>(
        _ threads: Int, _ body: () throws(Failure) -> R
    ) throws(Failure) -> R {
        pthread_mutex_lock(scopeLock)
        defer { pthread_mutex_unlock(scopeLock) }
        let saved = threadCount
        defer { store(saved) }
        store(threads)
        return try body()
    }

    /// Serialises ``withThreadCount(_:_:)`` scopes and the setter of
    /// ``threadCount``: a recursive mutex, so scopes nest and a scope's body
    /// may set the count.
    nonisolated(unsafe) static let scopeLock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(lock, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return lock
    }()

    /// Number of online processor cores.
    public static var processorCount: Int {
        Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    static func initialThreadCount() -> Int {
        let count: Int
        if let text = getenv("BEAMLINE_NUM_THREADS").map({ String(cString: $0) }),
           let value = Int(text.trimmingCharacters(in: " \t")), value >= 1 {
            count = value
        } else {
            count = processorCount
        }
        openblas_set_num_threads(Int32(clamping: count))
        return count
    }

    /// Runs `body` over `0..<count` split into contiguous chunks, on up to
    /// ``threadCount`` threads. Chunks hold at least `minimumChunk` items, so
    /// small loops run inline on the calling thread.
    ///
    /// Use this for work whose result does not depend on how it is split
    /// (elementwise maps, independent rows). `body` runs on several threads
    /// at once, so it is `@Sendable`: hand it memory through
    /// ``SendableBuffer`` and ``SendableMutableBuffer``, and write disjoint
    /// elements from different chunks.
    @inlinable
    public static func forEachChunk(count: Int, minimumChunk: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let threads = threadCount
        let maxChunks = (count + Swift.max(1, minimumChunk) - 1) / Swift.max(1, minimumChunk)
        let chunks = Swift.min(maxChunks, threads == 1 ? 1 : threads &* 4)
        if chunks <= 1 {
            body(0..<count)
            return
        }
        runConcurrently(iterations: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(block, range)` for blocks of `blockSize` items covering
    /// `0..<count`, in parallel. The blocks are the same whatever the thread
    /// count, so per-block results combined in block order are deterministic.
    /// `body` runs on several threads at once (see
    /// ``forEachChunk(count:minimumChunk:_:)``).
    @inlinable
    public static func forEachBlock(count: Int, blockSize: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
        guard count > 0 else { return }
        let size = Swift.max(1, blockSize)
        let blocks = (count + size - 1) / size
        let threads = threadCount
        if blocks == 1 || threads == 1 {
            for block in 0..<blocks { body(block, block * size..<Swift.min(count, (block + 1) * size)) }
            return
        }
        let workers = Swift.min(blocks, threads &* 4)
        runConcurrently(iterations: workers) { worker in
            let first = blocks * worker / workers
            let last = blocks * (worker + 1) / workers
            for block in first..<last {
                body(block, block * size..<Swift.min(count, (block + 1) * size))
            }
        }
    }
}

/// Runs `body(i)` for `0..<iterations` on up to ``Parallel/threadCount``
/// threads: the calling thread and the workers of Beamline's pool
/// (`bl_parallel_run` in CBeamlineKernels), which stay awake for a short
/// while after each loop, so the several loops of one call (a registration,
/// a projector step) do not each pay for waking a sleeping thread (about
/// 25 µs on the virtual machines measured). A loop started while the pool is
/// busy (a loop nested in another, or one on another thread) runs on
/// Dispatch's `concurrentPerform` instead; with one thread the iterations
/// run in order on the calling thread. The body only runs during this
/// call, on tasks that touch disjoint data.
@usableFromInline
func runConcurrently(iterations: Int, _ body: @Sendable (Int) -> Void) {
    let threads = Parallel.threadCount
    if threads == 1 {
        for iteration in 0..<iterations { body(iteration) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        var task = escapable
        withUnsafeMutablePointer(to: &task) { pointer in
            let ran = bl_parallel_run(iterations, Int32(clamping: threads), runPoolIteration, pointer)
            if ran == 0 {
                // The Dispatch fallback reaches the body through the same
                // pointer, never capturing it: libdispatch may release a
                // captured block's context on its worker threads after
                // `concurrentPerform` has returned, and then the check of
                // `withoutActuallyEscaping` traps ("non-escaping closure has
                // escaped"), which happened when two threads ran parallel
                // loops at once (the second gets this fallback).
                let address = Int(bitPattern: UnsafeMutableRawPointer(pointer))
                DispatchQueue.concurrentPerform(iterations: iterations) { iteration in
                    runPoolIteration(UnsafeMutableRawPointer(bitPattern: address), iteration)
                }
            }
        }
    }
}

/// The pool's entry point: `context` points at the loop body.
private func runPoolIteration(_ context: UnsafeMutableRawPointer?, _ iteration: Int) {
    context!.assumingMemoryBound(to: (@Sendable (Int) -> Void).self).pointee(iteration)
}

extension String {
    @usableFromInline
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
