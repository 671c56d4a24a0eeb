import Beamline
import Benchmark
import BenchmarkInputs

// Thick-sensor matrix construction (BeamlineDetector.ThickSensorModel) on a
// full Pilatus 1M (1043 × 981, 450 µm Si, μ = 1537.02 /m, distance
// 0.2845 m, PONI 0.08865 / 0.08931 m: pyFAI's notebook): raytraced at
// 1, 4 and 8 rays per pixel side, the 64 × 64 case on a strip of 8 rows,
// and the exact (closed-form) matrices, also for an Eiger 16M.
// Besides wall clock, each raytrace reports rays/s and pixels/s (custom
// metrics, computed from each iteration's wall time).
// Peer: Benchmarks/peers/thick_detector_numba.py (numba, one thread).
// Deconvolution with the raytraced matrix is in ReconstructionBenchmarks.
// Names use [A-Za-z0-9_] only, so static thresholds can find them.

let raysPerSecond = BenchmarkMetric.custom("rays_per_s", polarity: .prefersLarger, useScalingFactor: false)
let pixelsPerSecond = BenchmarkMetric.custom("pixels_per_s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],  // throughput: needed by the JMH export
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 5,
        // The allocation gate allows 1 % (a rounding of the p90 histogram or a
        // one-off allocation in a C library); a per-element or per-row
        // allocation moves the count far more (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )
    let pilatus = notebookModel("Pilatus1M")

    /// A raytrace benchmark reporting rays/s and pixels/s besides wall clock.
    func raytraceCase(_ name: String, _ model: ThickSensorModel, sample: Int) {
        let pixels = entryPixels(model.detector)
        let configuration = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal, raysPerSecond, pixelsPerSecond])
        Benchmark(name, configuration: configuration) { benchmark in
            let clock = ContinuousClock()
            for _ in benchmark.scaledIterations {
                let start = clock.now
                blackHole(try model.raytrace(sample: sample, as: Double.self))
                let seconds = (clock.now - start) / .seconds(1)
                benchmark.measurement(raysPerSecond, Int(Double(pixels * sample * sample) / seconds))
                benchmark.measurement(pixelsPerSecond, Int(Double(pixels) / seconds))
            }
        }
    }
    raytraceCase("raytrace_pilatus1M_sample1", pilatus, sample: 1)
    raytraceCase("raytrace_pilatus1M_sample4", pilatus, sample: 4)
    raytraceCase("raytrace_pilatus1M_sample8", pilatus, sample: 8)
    // The notebook's 64 × 64 case (about 21 CPU-minutes in numba for the
    // whole detector) on 8 central rows: 4096 rays per pixel.
    raytraceCase("raytrace_pilatus1M_rows512to519_sample64", pilatusStrip(512..<520), sample: 64)

    Benchmark("exact_pilatus1M_1dir") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try pilatus.exact(subpixels: 1, as: Double.self)) }
    }
    Benchmark("exact_pilatus1M_4x4dir") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try pilatus.exact(subpixels: 4, as: Double.self)) }
    }
    Benchmark("exact_eiger16M_1dir", configuration: .init(maxIterations: 2)) { benchmark in
        let eiger = notebookModel("Eiger16M")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try eiger.exact(subpixels: 1, as: Double.self)) }
    }
}
