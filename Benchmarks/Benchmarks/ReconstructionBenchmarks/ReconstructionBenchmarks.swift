import Beamline
import Benchmark
import BenchmarkInputs

// Reconstruction throughput: the John-transform projector
// (BeamlineTomography.JohnTransformProjector), mumott-style SIRT, and LSMR
// and MLEM deconvolution with the raytraced thick-sensor matrix.
// Projector and SIRT: Geometry: single-axis rotation over 180° (mumott's
// default axes), cubic volume n³, detector n × n, channels last.
// Ray samples per application (per channel) = projections · n² · n;
// multiply by channels and divide by the median wall time for samples/s:
//   64³ × 180: 47.2 M samples;  128³ × 180: 377.5 M;  50³ × 120: 15.0 M.
// Benchmarks/peers/mumott_peers.py times the same cases through mumott's
// SAXSProjector (numba, CPU, float64).
// The 128³ × 45-channel case runs in float32 (its float64 projections alone
// would take 1 GB); every other case is float64 like mumott.
// Deconvolution: the blurred test pattern (ones, every 5th pixel = 10) of
// pyFAI's notebook on a Pilatus 1M, with the sample = 8 matrix; peers:
// scipy.sparse.linalg.lsmr and a NumPy MLEM loop in
// Benchmarks/peers/thick_detector_numba.py.
// Names use [A-Za-z0-9_] only, so static thresholds can find them.

func geometry(_ n: Int, _ projections: Int) -> Geometry {
    try! Geometry.fromAngles(innerAngles: (0..<projections).map { Double($0) * Double.pi / Double(projections) },
                             volumeShape: [n, n, n], projectionShape: [n, n])
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 20,
        // The allocation gate allows 1 % (a rounding of the p90 histogram or a
        // one-off allocation in a C library); a per-element or per-row
        // allocation moves the count far more (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 1.0])]
    )

    func projectorCases<S: OperatorScalar>(_ type: S.Type, n: Int, projections: Int, channels: Int, suffix: String) {
        let projector = try! JohnTransformProjector<S>(geometry: geometry(n, projections), channels: channels)
        let volume: Tensor<S> = Phantom.randomEllipsoids(shape: [n, n, n], count: 8, channels: channels, seed: 1, as: S.self)
        let data = try! projector.checkedApply(volume)
        let name = "\(n)_\(projections)_c\(channels)_\(suffix)"
        Benchmark("forward_" + name) { benchmark in
            var y = Tensor<S>(shape: projector.projectionsShape, repeating: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                volume.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { projector.apply(x, into: $0) } }
            }
            benchmark.stopMeasurement()
            blackHole(y)
        }
        Benchmark("adjoint_" + name) { benchmark in
            var x = Tensor<S>(shape: projector.volumeShape, repeating: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                data.withUnsafeBufferPointer { y in x.withUnsafeMutableBufferPointer { projector.applyAdjoint(y, into: $0) } }
            }
            benchmark.stopMeasurement()
            blackHole(x)
        }
    }
    projectorCases(Double.self, n: 64, projections: 180, channels: 1, suffix: "f64")
    projectorCases(Double.self, n: 64, projections: 180, channels: 45, suffix: "f64")
    projectorCases(Double.self, n: 128, projections: 180, channels: 1, suffix: "f64")
    projectorCases(Float.self, n: 128, projections: 180, channels: 45, suffix: "f32")
    projectorCases(Double.self, n: 50, projections: 120, channels: 1, suffix: "f64")
    projectorCases(Double.self, n: 50, projections: 120, channels: 45, suffix: "f64")

    // 20 SIRT iterations (mumott's weights and preconditioner, weights included in the time).
    func sirtCase(n: Int, projections: Int) {
        let projector = try! JohnTransformProjector<Double>(geometry: geometry(n, projections))
        let volume: Tensor<Double> = Phantom.randomEllipsoids(shape: [n, n, n], count: 8, seed: 2)
        let data = try! projector.checkedApply(volume)
        Benchmark("sirt20_\(n)_\(projections)_f64", configuration: .init(maxDuration: .seconds(5), maxIterations: 5)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try! Reconstruction.sirt(projector, projections: data, options: .init(iterations: 20)))
            }
        }
    }
    sirtCase(n: 50, projections: 120)
    sirtCase(n: 64, projections: 180)

    // 30 iterations of LSMR and of MLEM on the raytraced Pilatus 1M matrix.
    let psf = try! notebookModel("Pilatus1M").raytrace(sample: 8, as: Double.self)
    _ = psf.matrix.cachedTranspose
    let truth = Tensor<Double>((0..<psf.matrix.rows).map { $0 % 5 == 0 ? 10 : 1 })
    let image = psf.blurOperator.apply(truth).reshaped([1043, 981])
    let deconvolution = Benchmark.Configuration(maxDuration: .seconds(5), maxIterations: 5)
    Benchmark("lsmr_pilatus1M_sample8_30iter", configuration: deconvolution) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .lsmr,
                                                   lsmr: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 30)))
        }
    }
    Benchmark("mlem_pilatus1M_sample8_30iter", configuration: deconvolution) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .mlem,
                                                   mlem: .init(maximumIterations: 30)))
        }
    }
}
