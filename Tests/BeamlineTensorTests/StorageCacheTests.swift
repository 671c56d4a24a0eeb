@testable import BeamlineTensor
import Testing

/// The storage cache's policy, tested on a `BufferPool` instance of its own
/// (other suites allocate and free through the global cache concurrently, so
/// a test of the global cache's contents could be disturbed by them). The
/// addresses below are labels, never dereferenced.
@Suite struct StorageCacheTests {
    @Test func takesTheMostRecentBufferOfExactlyTheSize() {
        var pool = BufferPool(limit: 1 << 20, maximumEntries: 8)
        #expect(pool.recycle(address: 0x1000, bytes: 4096) == (true, []))
        #expect(pool.recycle(address: 0x2000, bytes: 8192) == (true, []))
        #expect(pool.recycle(address: 0x3000, bytes: 4096) == (true, []))
        #expect(pool.total == 16384)
        #expect(pool.take(bytes: 4096) == 0x3000, "the most recently freed buffer of that size comes first")
        #expect(pool.take(bytes: 4096) == 0x1000)
        #expect(pool.take(bytes: 4096) == nil, "no buffer of that size is left")
        #expect(pool.take(bytes: 8000) == nil, "sizes must match exactly")
        #expect(pool.take(bytes: 8192) == 0x2000)
        #expect(pool.total == 0 && pool.entries.isEmpty)
    }

    @Test func evictsTheOldestBeyondTheByteLimit() {
        var pool = BufferPool(limit: 10_000, maximumEntries: 8)
        _ = pool.recycle(address: 1, bytes: 4000)
        _ = pool.recycle(address: 2, bytes: 4000)
        let third = pool.recycle(address: 3, bytes: 4000)
        #expect(third.kept && third.released == [1], "12 000 bytes > 10 000: the oldest goes")
        #expect(pool.total == 8000)
        #expect(pool.recycle(address: 4, bytes: 20_000) == (false, []), "a buffer above the limit is not kept")
        #expect(pool.total == 8000)
    }

    @Test func evictsTheOldestBeyondTheEntryLimit() {
        var pool = BufferPool(limit: 1 << 30, maximumEntries: 2)
        _ = pool.recycle(address: 1, bytes: 10)
        _ = pool.recycle(address: 2, bytes: 20)
        #expect(pool.recycle(address: 3, bytes: 30).released == [1])
        #expect(pool.entries.map(\.address) == [2, 3])
    }

    @Test func loweringTheLimitReleasesAndZeroKeepsNothing() {
        var pool = BufferPool(limit: 1 << 20, maximumEntries: 8)
        _ = pool.recycle(address: 1, bytes: 1000)
        _ = pool.recycle(address: 2, bytes: 1000)
        #expect(pool.setLimit(1500) == [1])
        #expect(pool.setLimit(0) == [2])
        #expect(pool.total == 0)
        #expect(pool.recycle(address: 3, bytes: 1) == (false, []))
        #expect(pool.setLimit(-5) == [] && pool.limit == 0, "a negative limit means 0")
        _ = pool.setLimit(100)
        _ = pool.recycle(address: 4, bytes: 50)
        #expect(pool.removeAll() == [4] && pool.total == 0)
    }

    /// Reused memory is filled like fresh memory: whether or not the global
    /// cache hands back the buffer of a freed tensor (other suites may take
    /// it first), no value of the old tensor survives in a new `zeros`.
    @Test func reusedMemoryIsRefilled() {
        let count = 131_079  // ≈ 1 MiB of Double, above StorageCache.minimumBytes
        do { _ = Tensor<Double>(shape: [count], repeating: 7) }
        let second = Tensor<Double>.zeros([count])
        #expect(second.elements.allSatisfy { $0 == 0 })
    }
}
