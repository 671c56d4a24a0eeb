import Beamline
import Benchmark

// Sparse kernels on ~1M × 1M matrices (n = 2^20):
// - band4: 4 entries per row at columns i, i+1, i+1024, i+1025 (mod n), the
//   pattern of a raytraced detector / bilinear-interpolation matrix;
// - scatter20: 20 entries per row at columns (i·2654435761 + k·2654435769) mod n,
//   spread over the whole range (worst case for the gather from x).
// Values are 1 + ((31 i + 17 k) mod 13) / 10. Benchmarks/peers/scipy_sparse_peers.py
// builds the same matrices with scipy.sparse.
//
// Memory traffic per SpMV (float64, int32 indices, int64 row pointers):
// 12·nnz + 8·(n+1) + 8·n (y) + 8·n (x, at least) bytes. Each SpMV and the
// copy report that traffic per second as the custom metric `MB_per_s`
// (from each iteration's wall time), so SpMV can be read against
// copy_64MiB_f64 (STREAM copy: 16 bytes per element moved) of the same run.
// Names use [A-Za-z0-9_] only, so static thresholds can find them.

let n = 1 << 20

/// Memory traffic per second, in MB/s (10⁶ bytes), from each iteration's wall time.
let megabytesPerSecond = BenchmarkMetric.custom("MB_per_s", polarity: .prefersLarger, useScalingFactor: false)

/// Runs `body` once per scaled iteration and records `bytes` moved per second.
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

func makeMatrix(perRow: Int, banded: Bool) -> CSRMatrix<Double> {
    try! CSRMatrix<Double>.build(rows: n, columns: n, rowsPerBlock: 16384) { range, builder in
        for i in range {
            for k in 0..<perRow {
                let column: Int
                if banded {
                    column = (i + [0, 1, 1024, 1025][k]) % n
                } else {
                    column = Int((UInt64(i) &* 2_654_435_761 &+ UInt64(k) &* 2_654_435_769) % UInt64(n))
                }
                try builder.append(column: column, value: 1 + Double((31 * i + 17 * k) % 13) / 10)
            }
            builder.endRow()
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 200,
        // The allocation gate allows 1 % (a rounding of the p90 histogram or a
        // one-off allocation in a C library); a per-element or per-row
        // allocation moves the count far more (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )

    let band4 = makeMatrix(perRow: 4, banded: true)
    let scatter20 = makeMatrix(perRow: 20, banded: false)
    _ = band4.cachedTranspose
    _ = scatter20.cachedTranspose
    let x = Tensor<Double>((0..<n).map { 1 + Double($0 % 7) * 0.25 })

    let trafficMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, megabytesPerSecond]
    func spmv(_ name: String, _ matrix: CSRMatrix<Double>, transposed: Bool, threads: Int? = nil) {
        let bytes = 12 * matrix.nonzeroCount + 8 * (n + 1) + 16 * n
        Benchmark(name, configuration: .init(metrics: trafficMetrics)) { benchmark in
            var y = Tensor<Double>(shape: [n], repeating: 0)
            let saved = Parallel.threadCount
            if let threads { Parallel.threadCount = threads }
            benchmark.startMeasurement()
            measureTraffic(benchmark, bytes: bytes) {
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer { ys in
                        if transposed { matrix.multiplyTransposed(xs, into: ys) } else { matrix.multiply(xs, into: ys) }
                    }
                }
            }
            benchmark.stopMeasurement()
            Parallel.threadCount = saved
            blackHole(y)
        }
    }
    spmv("spmv_band4_1M_f64", band4, transposed: false)
    spmv("spmv_band4_1M_f64_1thread", band4, transposed: false, threads: 1)
    spmv("spmvT_band4_1M_f64", band4, transposed: true)
    spmv("spmv_scatter20_1M_f64", scatter20, transposed: false)
    spmv("spmv_scatter20_1M_f64_1thread", scatter20, transposed: false, threads: 1)
    spmv("spmvT_scatter20_1M_f64", scatter20, transposed: true)

    // STREAM-like copy: 8 Mi doubles (64 MiB) read and written, in tensors (64-byte aligned, huge-page
    // advised storage, as NumPy allocates).
    Benchmark("copy_64MiB_f64", configuration: .init(metrics: trafficMetrics)) { benchmark in
        let source = Tensor<Double>(shape: [1 << 23], repeating: 1.5)
        var target = Tensor<Double>(shape: [1 << 23], repeating: 0)
        benchmark.startMeasurement()
        measureTraffic(benchmark, bytes: 16 << 23) {
            target.withUnsafeMutableBufferPointer { t in
                source.withUnsafeBufferPointer { s in
                    let (tp, sp) = (SendableMutableBuffer(t), SendableBuffer(s))
                    Parallel.forEachChunk(count: s.count, minimumChunk: 1 << 16) { range in
                        UnsafeMutableRawPointer(tp.pointer(at: range.lowerBound, count: range.count))
                            .copyMemory(from: sp.pointer(at: range.lowerBound, count: range.count), byteCount: range.count * 8)
                    }
                }
            }
        }
        benchmark.stopMeasurement()
        blackHole(target)
    }

    // LSMR: 10 iterations (tolerances 0, so all 10 run) per sample.
    let b = Tensor<Double>((0..<n).map { Double.sin(Double($0) * 1e-3) })
    let lsmrConfiguration = LSMR.Configuration(atol: 0, btol: 0, conlim: 0, maximumIterations: 10)
    Benchmark("lsmr10_band4_1M_f64", configuration: .init(maxDuration: .seconds(5), maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! LSMR.solve(band4, rhs: b, configuration: lsmrConfiguration)) }
    }
    Benchmark("lsmr10_scatter20_1M_f64", configuration: .init(maxDuration: .seconds(5), maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! LSMR.solve(scatter20, rhs: b, configuration: lsmrConfiguration)) }
    }
}
