import Beamline
import Benchmark

// Registration: phase cross-correlation of n×n float64 images (n = 128 … 1024)
// at upsample factors 1, 10 and 100, and the masked normalised
// cross-correlation at 256² and 512²; *_measure: the same calls with FFTW's
// measured plans (128²–512²). Names use [A-Za-z0-9_] only. The
// peers script Benchmarks/peers/skimage_peers.py times scikit-image on the
// same inputs (same generator recipe, single-threaded).

/// The benchmark input: white noise plus a smooth component, and its
/// Fourier-shifted copy (shift (3.3, −7.6) px).
func registrationPair(_ n: Int) -> (Tensor<Double>, Tensor<Double>) {
    let white = Tensor<Double>.normal([n, n], seed: 11)
    let reference = white + Tensor<Double>.normal([n, n], seed: 12) * 0.5
    let moving = (try? SubpixelShift.fourier(reference, by: [3.3, -7.6])) ?? reference
    return (reference, moving)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 200,
        // The allocation gate allows ±2 here: these counts are small (48–90
        // per call up to 1024²) and two clean-clone checks of the same commit
        // gave 87 and 88 for the upsampled 128² and 256² cases, which 1 %
        // cannot absorb; a per-element or per-row allocation moves the count
        // by thousands (docs/benchmarks.md).
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2])]
    )

    for n in [128, 256, 512, 1024] {
        let (reference, moving) = registrationPair(n)
        for factor in [1, 10, 100] {
            Benchmark("pcc_\(n)_up\(factor)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try Registration.phaseCrossCorrelation(reference, moving, upsampleFactor: factor))
                }
            }
            // The same call with FFTW's measured plans (`planning: .measure`, for
            // stacks and alignment loops of one shape): the plans are made in the
            // warm-up iterations and cached.
            guard n <= 512 else { continue }
            let measured = PhaseCorrelationOptions(upsampleFactor: factor, planning: .measure)
            // Measured plans are chosen by timing, so which FFTW solvers run can
            // differ from run to run, and some allocate a buffer per transformed
            // row on every execution: at 512² a run gave 561 and 214 where the
            // threshold run gave 52 and 86 (2026-12-03). The gate here therefore
            // allows up to 2 buffers per row of the largest image (±1100); the
            // same calls with estimated plans (pcc_*_up*) keep the ±2 gate, so a
            // per-row regression in Beamline's own code still fails there.
            let planTolerant = Benchmark.Configuration(
                thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1100])])
            Benchmark("pcc_\(n)_up\(factor)_measure", configuration: planTolerant) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try Registration.phaseCrossCorrelation(reference, moving, options: measured))
                }
            }
        }
    }
    for n in [256, 512] {
        let (reference, moving) = registrationPair(n)
        let referenceMask = Tensor<Bool>(unsafeUninitializedShape: [n, n]) { b in
            for i in 0..<(n * n) { b[i] = (i / n) >= n / 8 }        // top eighth invalid
        }
        let movingMask = Tensor<Bool>(unsafeUninitializedShape: [n, n]) { b in
            for i in 0..<(n * n) { b[i] = (i % n) < n - n / 8 }     // right eighth invalid
        }
        Benchmark("masked_\(n)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Registration.maskedPhaseCrossCorrelation(reference, moving, referenceMask: referenceMask,
                                                                       movingMask: movingMask))
            }
        }
    }
}
