import Beamline
import Benchmark

// Tensor kernels: elementwise (contiguous and strided), reductions.
// Names use [A-Za-z0-9_] only, so static thresholds can find them.
// Throughput is counted in elements (or bytes moved, in the name) per
// second; the peers script Benchmarks/peers/numpy_peers.py times the same
// operations with NumPy on the same machine.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 200,
        // The allocation gate allows 1 % (a rounding of the p90 histogram or a
        // one-off allocation in a C library); a per-element or per-row
        // allocation moves the count far more (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )

    let n = 1 << 22  // 4 Mi doubles = 32 MiB per operand: out of cache
    let a = Tensor<Double>.uniform([n], seed: 1)
    let b = Tensor<Double>.uniform([n], seed: 2)
    let square = a.reshaped([2048, 2048])
    let squareT = b.reshaped([2048, 2048]).transposed

    Benchmark("add_contiguous_4M_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(a + b) }
    }
    Benchmark("add_inplace_4M_f64") { benchmark in
        var c = a
        c += b
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { c += b }
        benchmark.stopMeasurement()
        blackHole(c)
    }
    Benchmark("add_transposed_2048sq_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(square + squareT) }
    }
    Benchmark("mul_scalar_4M_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(a * 1.5) }
    }
    Benchmark("exp_4M_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(exp(a)) }
    }
    Benchmark("sum_4M_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(a.sum()) }
    }
    Benchmark("sum_axis0_2048sq_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(square.sum(axis: 0)) }
    }
    Benchmark("sum_axis1_2048sq_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(square.sum(axis: 1)) }
    }
    Benchmark("max_4M_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(a.max()) }
    }
    linearAlgebraAndFFTBenchmarks()
}

// MARK: - Matmul (OpenBLAS dgemm) and FFT (FFTW)

let linearAlgebraAndFFTBenchmarks: @Sendable () -> Void = {
    for size in [256, 1024] {
        let x = Tensor<Double>.uniform([size, size], seed: 3)
        let y = Tensor<Double>.uniform([size, size], seed: 4)
        Benchmark("matmul_\(size)_f64") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(Tensor.matmul(x, y)) }
        }
        let yT = y.transposed  // passed to gemm as a transpose flag, no copy
        Benchmark("matmul_\(size)_transposed_f64") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(Tensor.matmul(x, yT)) }
        }
    }
    let image = Tensor<Double>.uniform([1024, 1024], seed: 5)
    let complexImage = Tensor<Complex<Double>>(real: image)
    let volume = Tensor<Complex<Double>>(real: Tensor<Double>.uniform([128, 128, 128], seed: 6))
    Benchmark("fft2_1024sq_c128") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try FFT.fftn(complexImage)) }
    }
    Benchmark("rfft2_1024sq_f64") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try FFT.rfftn(image)) }
    }
    Benchmark("fftn_128cube_c128") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try FFT.fftn(volume)) }
    }
}
