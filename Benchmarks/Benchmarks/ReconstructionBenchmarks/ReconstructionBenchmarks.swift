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

    // Tensor tomography (issue 19): one residual-plus-gradient evaluation of
    // GradientResidualCalculator (B ∘ P and its exact transpose, weighted)
    // on mumott's users' problem: 50³ volume, 120 projections with tilts
    // (inner 2π·i/120 about (0, 0, −1), outer (i mod 4)·π/12 about (1, 0, 0)),
    // detector 50 × 50, 8 segments, spherical harmonics ℓmax 8 (45
    // coefficients); and the 45-channel projector's forward + adjoint on the
    // same geometry, the bound the residual calculator is compared with.
    // Peer: mumott's GradientResidualCalculator.get_residuals(get_gradient=True,
    // get_weights=True) in Benchmarks/peers/mumott_peers.py (--tensor).
    // The same cases on a 16³ volume, 24 projections and ℓmax 4 (15
    // coefficients) run the same code in seconds: they are the allocation
    // gate's tensor-tomography cases (.ci/run skips the 50³ ones, whose one
    // thread takes minutes). Each case's problem is built the first time
    // one of its benchmarks runs, outside the measurement, so a filtered run
    // builds only what it measures.
    func tensorCases<S: OperatorScalar>(_ type: S.Type, n: Int, projections: Int, ellMax: Int, mitra: Bool, suffix: String) {
        let coefficients = (ellMax + 1) * (ellMax + 2) / 2
        let problem = LazyBenchmarkInput { () -> (GradientResidualCalculator<S, SphericalHarmonics>, JohnTransformProjector<S>) in
            var g = try! Geometry.fromAngles(
                innerAngles: (0..<projections).map { Double($0) * 2 * Double.pi / Double(projections) },
                outerAngles: (0..<projections).map { Double($0 % 4) * Double.pi / 12 },
                volumeShape: [n, n, n], projectionShape: [n, n])
            g.detectorAngles = (0..<8).map { Double($0) * Double.pi / 8 }
            let sh = try! SphericalHarmonics(ellMax: ellMax)
            let data = Tensor<S>.normal([projections, n, n, 8], seed: 3).map { Swift.abs($0) }
            var calculator = try! GradientResidualCalculator<S, SphericalHarmonics>(geometry: g, basisSet: sh, data: data)
            calculator.coefficients = Tensor<S>.normal([n, n, n, coefficients], seed: 4)
            _ = try! calculator.residuals()  // builds the matrix and projector once
            return (calculator, try! JohnTransformProjector<S>(geometry: g, channels: coefficients))
        }
        let config = Benchmark.Configuration(maxDuration: .seconds(10), maxIterations: 10)
        let size = "\(n)_\(projections)"
        Benchmark("tt_residual_gradient_\(size)_l\(ellMax)_\(suffix)", configuration: config) { benchmark in
            var c = problem.value.0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try! c.residuals(gradient: true, weighted: true))
            }
            benchmark.stopMeasurement()
        }
        Benchmark("tt_projector_fwd_adj_\(size)_c\(coefficients)_\(suffix)", configuration: config) { benchmark in
            let (calculator, projector) = problem.value
            let volume = calculator.coefficients
            var y = Tensor<S>(shape: projector.projectionsShape, repeating: 0)
            var x = Tensor<S>(shape: projector.volumeShape, repeating: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                volume.withUnsafeBufferPointer { v in y.withUnsafeMutableBufferPointer { projector.apply(v, into: $0) } }
                y.withUnsafeBufferPointer { p in x.withUnsafeMutableBufferPointer { projector.applyAdjoint(p, into: $0) } }
            }
            benchmark.stopMeasurement()
            blackHole(x)
        }
        guard mitra else { return }  // the pipelines run on the 50³ problem only
        // 20 iterations of MITRA, and of SIGTT (L-BFGS on the squared loss
        // plus the Laplacian, weight 1e-4, no value tolerance: the peer's
        // run_sigtt(maxiter=20, ftol=0)).
        for pipeline in [TensorPipeline.mitra, .sigtt] {
            Benchmark("tt_\(pipeline.rawValue)20_\(size)_l\(ellMax)_\(suffix)", configuration: .init(maxDuration: .seconds(10), maxIterations: 2)) { benchmark in
                let prepared = problem.value.0
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(try! TensorReconstruction.run(pipeline, calculator: prepared, options: .init(iterations: 20)))
                }
                benchmark.stopMeasurement()
            }
        }
    }
    tensorCases(Double.self, n: 50, projections: 120, ellMax: 8, mitra: true, suffix: "f64")
    tensorCases(Float.self, n: 50, projections: 120, ellMax: 8, mitra: true, suffix: "f32")
    tensorCases(Double.self, n: 16, projections: 24, ellMax: 4, mitra: false, suffix: "f64")
    tensorCases(Float.self, n: 16, projections: 24, ellMax: 4, mitra: false, suffix: "f32")

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
