import Beamline
import Benchmark

// Alignment: toupy's vertical (mass fluctuation) and horizontal
// (tomographic consistency) alignment, and mumott's phase matching, on the
// cases the peers time (Benchmarks/peers/toupy_peers.py and
// mumott_peers.py --phase-matching):
// - align_vertical_90x64x64, align_horizontal_90x64x64: a SimulatedStack of
//   90 projections, 64 rows, 64 columns, shifts in ±3 px, default schedule
//   (Adam, at most 200 iterations, 0.002 px tolerance; horizontal: one
//   slice, full gradient);
// - phase_matching_50: a 50³ random-ellipsoid volume, 120 projections over
//   180°, offsets in ±2 px, 3 alignment iterations of 5 MITRA iterations,
//   upsampling 1 (the case).

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(10),
        maxIterations: 20,
        // Alignment allocates per evaluation (profiles, sinograms); the
        // gate catches per-element allocation (thousands more), not ±1 %.
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])]
    )

    let stack = SimulatedStack(projections: 90, rows: 64, columns: 64, maximumShift: 3, seed: 90)
    Benchmark("align_vertical_90x64x64") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try VerticalAlignment.align(stack.stack, options: .init(rows: 4..<60)))
        }
    }
    Benchmark("align_horizontal_90x64x64") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try HorizontalAlignment.align(stack.stack, anglesDegrees: stack.angles))
        }
    }

    let n = 50, count = 120
    let angles = (0..<count).map { Double($0) * Double.pi / Double(count) }
    let jTrue = (0..<count).map { i in 2 * Double.sin(Double(i) * 1.7) }
    let kTrue = (0..<count).map { i in 2 * Double.cos(Double(i) * 2.3) }
    if let truth = try? Geometry.fromAngles(innerAngles: angles, jOffsets: jTrue, kOffsets: kTrue,
                                           volumeShape: [n, n, n], projectionShape: [n, n]),
       let start = try? Geometry.fromAngles(innerAngles: angles, volumeShape: [n, n, n], projectionShape: [n, n]),
       let projector = try? JohnTransformProjector<Float>(geometry: truth) {
        let volume = Phantom.randomEllipsoids(shape: [n, n, n], count: 8, seed: 3, as: Float.self).reshaped([n, n, n, 1])
        let data = projector.apply(volume).reshaped([count, n, n])
        var reconstruction = Reconstruction.Options.mitra
        reconstruction.iterations = 5
        let options = PhaseMatchingAlignment.Options(reconstruction: reconstruction, maximumIterations: 3)
        Benchmark("phase_matching_50", configuration: .init(maxIterations: 5)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try PhaseMatchingAlignment.align(absorbances: data, geometry: start, options: options))
            }
        }
    }
}
