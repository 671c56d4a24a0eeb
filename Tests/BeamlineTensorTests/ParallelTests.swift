import BeamlineTensor
import ComplexModule
import Dispatch
import Foundation
import Testing

/// The worker pool behind ``Parallel``: every iteration runs exactly once,
/// nested loops and loops started on several threads at once still complete
/// (the pool refuses them and Dispatch runs them), and FFTW's multi-threaded
/// plans, which run on the pool, give the same bits whatever the thread count.
/// The expected values are exact counts and sums of integers (no reference
/// implementation is involved), and the FFT is compared with itself.
@Suite(.serialized) struct ParallelTests {
    /// How many times each of `count` iterations ran, over `repeats` consecutive loops.
    func visits(count: Int, repeats: Int) -> [Int] {
        var visits = [Int](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { buffer in
            let slots = SendableMutableBuffer(buffer)
            for _ in 0..<repeats {
                Parallel.forEachChunk(count: count, minimumChunk: 1) { range in
                    for i in range { slots[i] += 1 }
                }
            }
        }
        return visits
    }

    @Test func everyIterationRunsOnceInConsecutiveLoops() {
        // Many short loops back to back: the workers pick each job up while still spinning.
        for threads in [2, 3, 5] {
            Parallel.withThreadCount(threads) {
                for count in [1, 2, 7, 64, 1000] {
                    #expect(visits(count: count, repeats: 300) == [Int](repeating: 300, count: count),
                            "threads \(threads), count \(count)")
                }
            }
        }
    }

    @Test func noMoreThreadsThanTheSettingAfterALargerOne() {
        // Five threads start four workers; back at two, only one of them may join a loop.
        Parallel.withThreadCount(5) { _ = visits(count: 64, repeats: 20) }
        Parallel.withThreadCount(2) {
            for _ in 0..<20 {
                var owners = [UInt](repeating: 0, count: 8)
                owners.withUnsafeMutableBufferPointer { buffer in
                    let slots = SendableMutableBuffer(buffer)
                    Parallel.forEachChunk(count: 8, minimumChunk: 1) { range in
                        for i in range {
                            slots[i] = UInt(pthread_self())
                            usleep(200)   // long enough for every awake worker to claim a chunk
                        }
                    }
                }
                #expect(Set(owners).count <= 2)
            }
        }
    }

    @Test func loopsAfterAnIdlePeriodStillRun() {
        // Long enough for the workers to go to sleep; the next loop must wake them.
        Parallel.withThreadCount(2) {
            for _ in 0..<3 {
                #expect(visits(count: 16, repeats: 1) == [Int](repeating: 1, count: 16))
                usleep(5000)
            }
        }
    }

    @Test func nestedLoopsComplete() {
        Parallel.withThreadCount(2) {
            let outer = 8, inner = 100
            var cells = [Int](repeating: 0, count: outer * inner)
            cells.withUnsafeMutableBufferPointer { buffer in
                let slots = SendableMutableBuffer(buffer)
                Parallel.forEachChunk(count: outer, minimumChunk: 1) { rows in
                    for row in rows {
                        Parallel.forEachChunk(count: inner, minimumChunk: 1) { columns in
                            for column in columns { slots[row * inner + column] += row + 1 }
                        }
                    }
                }
            }
            let expected = (0..<outer * inner).map { $0 / inner + 1 }
            #expect(cells == expected)
        }
    }

    @Test func loopsFromSeveralThreadsAtOnce() {
        Parallel.withThreadCount(2) {
            // Four Dispatch tasks each run 50 block sums of 0..<10_000 through Parallel.
            let tasks = 4, rounds = 50, count = 10_000
            var totals = [Int](repeating: 0, count: tasks)
            totals.withUnsafeMutableBufferPointer { buffer in
                let out = SendableMutableBuffer(buffer)
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    var total = 0
                    for _ in 0..<rounds {
                        var partial = [Int](repeating: 0, count: count / 1000)
                        partial.withUnsafeMutableBufferPointer { sums in
                            let slots = SendableMutableBuffer(sums)
                            Parallel.forEachBlock(count: count, blockSize: 1000) { block, range in
                                slots[block] = range.reduce(0, +)
                            }
                        }
                        total += partial.reduce(0, +)
                    }
                    out[task] = total
                }
            }
            #expect(totals == [Int](repeating: rounds * (count * (count - 1) / 2), count: tasks))
        }
    }

    /// Regression: when a loop finds the pool busy it runs on Dispatch's
    /// `concurrentPerform`, which released its block on a worker thread
    /// after returning; `withoutActuallyEscaping` then trapped with
    /// "non-escaping closure has escaped" (seen once in the full test suite
    /// of the reliability branch, in LSMR's block sums during the CLI demo).
    /// Many short loops from four threads at once make the fallback run
    /// thousands of times; every iteration must run exactly once.
    @Test func manyShortLoopsFromSeveralThreadsNeverTrap() {
        Parallel.withThreadCount(2) {
            let tasks = 4, rounds = 3000, count = 8
            var totals = [Int](repeating: 0, count: tasks)
            totals.withUnsafeMutableBufferPointer { buffer in
                let out = SendableMutableBuffer(buffer)
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    var total = 0
                    var partial = [Int](repeating: 0, count: count)
                    for _ in 0..<rounds {
                        partial.withUnsafeMutableBufferPointer { sums in
                            let slots = SendableMutableBuffer(sums)
                            Parallel.forEachBlock(count: count, blockSize: 1) { block, _ in slots[block] = block }
                        }
                        total += partial.reduce(0, +)
                    }
                    out[task] = total
                }
            }
            #expect(totals == [Int](repeating: rounds * (count * (count - 1) / 2), count: tasks))
        }
    }

    @Test func threadedFFTPlansGiveTheSameBitsForAnyThreadCount() throws {
        // All three are above the size from which plans are split into parts.
        for shape in [[128, 128], [96, 200], [512, 384]] {
            let image = Tensor<Double>.normal(shape, seed: 5)
            let complexImage = try FFT.rfftn(image)
            let results = try [1, 2, 3].map { threads in
                try Parallel.withThreadCount(threads) { (try FFT.rfftn(image), try FFT.irfftn(complexImage, s: shape), try FFT.fftn(complexImage)) }
            }
            for result in results.dropFirst() {
                #expect(result.0 == results[0].0)
                #expect(result.1 == results[0].1)
                #expect(result.2 == results[0].2)
            }
        }
    }
}
