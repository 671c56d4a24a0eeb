import Synchronization

/// Scratch storage that a combinator allocates once, when it is made, so
/// that applying it allocates nothing.
///
/// Concurrency rule: one operator value (and its copies, which share the
/// workspace) may be applied from several threads at once. The first caller
/// takes the workspace with a lock-free check; a caller that finds it in use
/// (another thread, or a re-entrant call) gets a fresh buffer for that one
/// call instead of waiting. Operators overwrite their outputs, so the
/// scratch contents never influence a result: results are the same,
/// bit for bit, whichever buffer a call used. Only the sequential case (a
/// solver's iterations) is guaranteed not to allocate.
public final class OperatorWorkspace<Scalar: OperatorScalar>: @unchecked Sendable {
    /// Elements of scratch storage.
    public let count: Int
    @usableFromInline let buffer: UnsafeMutableBufferPointer<Scalar>
    @usableFromInline let inUse = Atomic<Bool>(false)

    /// A workspace of `count` elements (allocated now, zero-filled).
    public init(count: Int) {
        self.count = Swift.max(0, count)
        buffer = .allocate(capacity: self.count)
        buffer.initialize(repeating: 0)
    }

    deinit { buffer.deallocate() }

    /// Runs `body` with a scratch buffer of ``count`` elements: the
    /// workspace's own storage when it is free, else a temporary buffer for
    /// this call (see the concurrency rule above).
    @inlinable
    public func withScratch<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) -> R) -> R {
        if inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            defer { inUse.store(false, ordering: .releasing) }
            return body(buffer)
        }
        return withFreshScratch(body)
    }

    @inline(never) @usableFromInline
    func withFreshScratch<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) -> R) -> R {
        let fresh = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: count)
        fresh.initialize(repeating: 0)
        defer { fresh.deallocate() }
        return body(fresh)
    }
}
