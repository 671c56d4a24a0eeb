import BeamlineTensor
import Testing

/// The storage cache keeps freed large buffers for tensors of the same byte
/// size. These tests use byte sizes no other test allocates, since tests run
/// concurrently and share the cache.
@Suite(.serialized) struct StorageCacheTests {
    func address<T>(_ t: Tensor<T>) -> Int { t.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } }

    @Test func freedBufferIsReusedForTheSameSizeAndRefilled() {
        let count = 131_079  // ≈ 1 MiB of Double, above StorageCache.minimumBytes
        var first: Tensor<Double>? = Tensor(shape: [count], repeating: 7)
        let old = address(first!)
        first = nil
        let second = Tensor<Double>.zeros([count])
        #expect(address(second) == old, "the freed buffer should be reused")
        // Reused memory is filled like fresh memory: no value of the old tensor survives.
        #expect(second.elements.allSatisfy { $0 == 0 })
        _ = first
    }

    /// With the limit at 0 nothing is kept, and lowering the limit releases
    /// what was held (other suites may free tensors meanwhile: with a zero
    /// limit they cannot add to the cache either).
    @Test func zeroLimitKeepsNothing() {
        let saved = StorageCache.limitBytes
        defer { StorageCache.limitBytes = saved }
        do { _ = Tensor<Double>(shape: [131_083], repeating: 1) }
        StorageCache.limitBytes = 0
        #expect(StorageCache.cachedBytes == 0)
        do { _ = Tensor<Double>(shape: [131_083], repeating: 2) }
        #expect(StorageCache.cachedBytes == 0)
        StorageCache.limitBytes = saved
        do { _ = Tensor<Double>(shape: [131_083], repeating: 3) }
        #expect(StorageCache.cachedBytes >= 131_083 * 8)
        StorageCache.purge()
    }
}
