import Beamline
import Benchmark

// Thick-sensor matrices on a full Pilatus 1M (1043 × 981, 450 µm Si,
// μ = 1537.02 /m, distance 0.2845 m, PONI 0.08865 / 0.08931 m: pyFAI's
// notebook) and an Eiger 16M, and deconvolution of the blurred test pattern
// (ones, every 5th pixel = 10) with the sample=8 matrix.
// Peer: Benchmarks/peers/thick_detector_numba.py (numba, one thread; scipy
// lsmr and a NumPy MLEM on the same matrix).
// Names use [A-Za-z0-9_] only, so static thresholds can find them.

func notebookModel(_ name: String) -> ThickSensorModel {
    ThickSensorModel(detector: try! Detector.named(name),
                     geometry: try! PONIGeometry(distance: 0.2845, poni1: 0.08865, poni2: 0.08931),
                     sensor: try! Sensor(thickness: 450e-6, mu: 1537.02))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 5,
        // The allocation gate allows 1 % (a rounding of the p90 histogram or a
        // one-off allocation in a C library); a per-element or per-row
        // allocation moves the count far more (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )
    let pilatus = notebookModel("Pilatus1M")

    Benchmark("raytrace_pilatus1M_sample8") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try pilatus.raytrace(sample: 8, as: Double.self)) }
    }
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

    let psf = try! pilatus.raytrace(sample: 8, as: Double.self)
    _ = psf.matrix.cachedTranspose
    let n = psf.matrix.rows
    let truth = Tensor<Double>((0..<n).map { $0 % 5 == 0 ? 10 : 1 })
    let image = psf.blurOperator.apply(truth).reshaped([1043, 981])
    Benchmark("lsmr_pilatus1M_sample8_30iter") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .lsmr,
                                                   lsmr: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 30)))
        }
    }
    Benchmark("mlem_pilatus1M_sample8_30iter") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .mlem,
                                                   mlem: .init(maximumIterations: 30)))
        }
    }
}
