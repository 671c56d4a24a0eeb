import Beamline
import Benchmark

// CBC intensity scaling (BeamlineCrystallography) on simulated tables
// (CBCSimulation: 256 × 256 detector, 250 streaks of length 24 per frame,
// Poisson counts, mmm structure factors; crossing streaks share pixels):
// - cbc_poisson_value_grad_10M / cbc_ls_huber_value_grad_10M: one value +
//   gradient of the criterion on 384 frames (about 10⁷ rows);
// - copy_256MiB_f32: STREAM-like copy (read + write) for the memory-bandwidth
//   reference of one pass over the criterion's columns;
// - cbc_train_1M_3rounds: a full training run (3 rounds of 10 L-BFGS
//   iterations and a map update, 24 × 24 maps, bandwidth 0.2) on 40 frames.
// Benchmarks/peers/cbclib_numpy_peer.py times the same criteria in NumPy.
// The criterion reads per row: streak (Int32), χ·f² (Float), counts (Float),
// background (Float), and per pixel the group start (Int32): its traffic is
// reported as MB_per_s against copy_256MiB_f32 of the same run.

/// Memory traffic per second, in MB/s (10⁶ bytes), from each iteration's wall time.
let megabytesPerSecond = BenchmarkMetric.custom("MB_per_s", polarity: .prefersLarger, useScalingFactor: false)

@inline(__always)
func measureTraffic(_ benchmark: Benchmark, bytes: Int, _ body: () -> Void) {
    let clock = ContinuousClock()
    for _ in benchmark.scaledIterations {
        let start = clock.now
        body()
        let seconds = (clock.now - start) / .seconds(1)
        benchmark.measurement(megabytesPerSecond, Int(Double(bytes) / seconds / 1e6))
    }
}

/// Globals are initialised lazily, so each benchmark builds only its own table.
let bigScaler: IntensityScaler = {
    let sim = try! CBCSimulation(.init(frames: 384, streaksPerFrame: 250, detectorSize: 256, symmetry: .mmm, seed: 1))
    return try! IntensityScaler(table: sim.table, gridShape: (24, 24), symmetry: .mmm)
}()
let smallScaler: IntensityScaler = {
    let sim = try! CBCSimulation(.init(frames: 40, streaksPerFrame: 250, detectorSize: 256, symmetry: .mmm, seed: 2))
    return try! IntensityScaler(table: sim.table, gridShape: (24, 24), symmetry: .mmm)
}()

/// Bytes the criterion reads in one pass: 16 per row, 4 per pixel.
func criterionBytes(_ scaler: IntensityScaler) -> Int { 16 * scaler.table.count + 4 * scaler.pixelCount }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 50,
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )
    let trafficMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, megabytesPerSecond]

    func criterion(_ name: String, _ c: ScalingCriterion) {
        // The table (about 10 s to simulate and lay out) is built inside the
        // benchmark's first run, which the duration limit counts.
        Benchmark(name, configuration: .init(metrics: trafficMetrics, maxDuration: .seconds(60), maxIterations: 20)) { benchmark in
            let scaler = bigScaler
            let bytes = criterionBytes(scaler)
            // θ near the simulated intensities' scale, intercepts 0.
            var x = scaler.initialEstimate()
            for r in 0..<scaler.reflections.count { x[scaler.streakCount + r] = 4 + 0.1 * Double(r % 7) }
            benchmark.startMeasurement()
            measureTraffic(benchmark, bytes: bytes) {
                blackHole(try! scaler.criterion(x, c))
            }
            benchmark.stopMeasurement()
        }
    }
    criterion("cbc_poisson_value_grad_10M", .poisson)
    criterion("cbc_ls_huber_value_grad_10M", .leastSquares(.huber))

    Benchmark("copy_256MiB_f32", configuration: .init(metrics: trafficMetrics)) { benchmark in
        let count = 1 << 26
        let source = Tensor<Float>(shape: [count], repeating: 1.5)
        var target = Tensor<Float>(shape: [count], repeating: 0)
        benchmark.startMeasurement()
        measureTraffic(benchmark, bytes: 8 * count) {
            target.withUnsafeMutableBufferPointer { t in
                source.withUnsafeBufferPointer { s in
                    let (tp, sp) = (SendableMutableBuffer(t), SendableBuffer(s))
                    Parallel.forEachChunk(count: s.count, minimumChunk: 1 << 16) { range in
                        UnsafeMutableRawPointer(tp.pointer(at: range.lowerBound, count: range.count))
                            .copyMemory(from: sp.pointer(at: range.lowerBound, count: range.count), byteCount: range.count * 4)
                    }
                }
            }
        }
        benchmark.stopMeasurement()
        blackHole(target)
    }

    Benchmark("cbc_train_1M_3rounds", configuration: .init(maxDuration: .seconds(30), maxIterations: 5)) { benchmark in
        let scaler = smallScaler
        let configuration = ScalingConfiguration(bandwidth: 0.2, rounds: 3, fitIterations: 10)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try! scaler.train(configuration))
        }
        benchmark.stopMeasurement()
    }
}
