@testable import BeamlineCrystallography
import CBeamlineKernels
import Foundation
import Testing

/// The criterion's C kernel has a portable version (rows in order, libm's
/// log) and an AVX2 + FMA version (chunks of rows, a vector logarithm,
/// per-streak sums over runs). The NumPy fixture tests run whichever this
/// machine selects; these check that the two agree, so both are covered.
/// They differ by rounding only: a few units in the last place per row
/// (fused multiply-adds, the vector log within 2 ulp, other summation
/// orders), so sums of ~10³–10⁵ terms agree to ~1e-13 relative; 1e-11 is
/// the bound, with the gradient compared against its largest entry.
@Suite("CBC criterion kernel")
struct CBCCriterionKernelTests {
    @Test("AVX2 and portable kernels agree on the NumPy fixture (every criterion, intercepts on/off, per-streak values)",
          .enabled(if: IntensityScaler.fusedKernel, "needs AVX2 + FMA"))
    func scalerPaths() throws {
        let fx = try CBCFixture()
        for symmetry in [PointGroupSymmetry.none, .mmm] {
            let sc = try fx.scaler(symmetry)
            let x = try fx.doubles("x_\(symmetry.rawValue)")
            for (name, criterion) in CBCCriterionTests.configurations {
                for fit in [true, false] {
                    let a = sc.evaluate(x, criterion, fitIntercept: fit, gradient: true, perStreak: true, fused: false)
                    let b = sc.evaluate(x, criterion, fitIntercept: fit, gradient: true, perStreak: true, fused: true)
                    #expect(abs(a.value - b.value) <= 1e-11 * abs(a.value), "\(name) \(fit)")
                    let scale = a.gradient.map(abs).max()!
                    #expect(maxRelative(a.gradient, b.gradient, floor: scale) <= 1e-11, "\(name) \(fit)")
                    let vscale = a.streakValues.map(abs).max()!
                    #expect(maxRelative(a.streakValues, b.streakValues, floor: vscale) <= 1e-11, "\(name) \(fit)")
                }
            }
        }
    }

    /// A synthetic block of 5000 rows of 700 streaks: runs of 1–30 rows of
    /// one streak alone on their pixels, pixels shared by 2–4 rows (runs of
    /// two-row pixels of one pair of streaks, as at a crossing), one
    /// pixel of 300 rows (longer than the AVX2 kernel's 256-row chunk), λ ≤ 0
    /// on some rows (negative intercepts), zero counts, rows before `begin`
    /// left out of the block, and a last run that ends at the columns' end.
    /// The portable version is checked against a direct Double evaluation
    /// of the formulas in Swift, the AVX2 one against the portable.
    @Test("the block kernel: runs, shared pixels longer than a chunk, λ ≤ 0 rows; portable against the formulas",
          arguments: [BL_CBC_POISSON, BL_CBC_LEAST_SQUARES_L2, BL_CBC_LEAST_SQUARES_L1, BL_CBC_LEAST_SQUARES_HUBER,
                      BL_CBC_LEAST_SQUARES_CBCLIB_HUBER])
    func block(kind: Int32) {
        var rng = SplitMix64(seed: 7)
        let rowCount = 5000, streaks = 700, begin = 37
        var streak = [Int32](), weight = [Float](), counts = [Float](), background = [Float]()
        var runs = [Int32](), groups = [Int32](), long = false
        var lastPair: (Int32, Int32)?, crossings = 0
        while streak.count < rowCount {
            let j = streak.count
            let isShared = rng.next() % 3 == 0 || (!long && j >= 2000)
            var length = isShared ? (!long && j >= 2000 ? 300 : 2 + (rng.next() % 3 == 0 ? 1 + Int(rng.next() % 2) : 0)) : 1 + Int(rng.next() % 30)
            length = min(length, rowCount - j)
            if length == 300 { long = true }
            let s = Int32(rng.next() % UInt64(streaks))
            if j >= begin { if isShared && length > 1 { groups += [Int32(j), Int32(j + length)] } else { runs += [Int32(j), Int32(j + length), s] } }
            // Two-row pixels repeat the last pair of streaks half the time (a crossing).
            var pixelStreaks = (0..<length).map { _ in isShared && length > 1 ? Int32(rng.next() % UInt64(streaks)) : s }
            if isShared && length == 2 {
                if let last = lastPair, rng.next() % 2 == 0 { pixelStreaks = [last.0, last.1]; crossings += 1 }
                lastPair = (pixelStreaks[0], pixelStreaks[1])
            }
            for k in 0..<length {
                streak.append(pixelStreaks[k])
                weight.append(Float(rng.next() % 1000) / 1000)
                counts.append(Float(rng.next() % 20))
                background.append(Float(rng.next() % 100) / 50)
            }
        }
        let a = (0..<streaks).map { _ in exp(Double(rng.next() % 100) / 30) }
        let b = (0..<streaks).map { _ in Double(rng.next() % 100) / 25 - 3 }
        // The formulas, row by row (the reference for the portable version).
        func term(_ i: Double, _ l: Double) -> (Double, Double) {
            if kind == BL_CBC_POISSON { return (l - i * log(l), 1 - i / l) }
            let sigma = l.squareRoot(), r = (i - l) / sigma, drdl = -(l + i) / (2 * l * sigma), m = abs(r)
            switch kind {
            case BL_CBC_LEAST_SQUARES_L1: return (m, (r > 0 ? 1 : (r < 0 ? -1 : 0)) * drdl)
            case BL_CBC_LEAST_SQUARES_HUBER:
                return m <= 1.345 ? (r * r, 2 * r * drdl) : (2.69 * m - 1.345 * 1.345, (r > 0 ? 2.69 : -2.69) * drdl)
            case BL_CBC_LEAST_SQUARES_CBCLIB_HUBER:
                return m < 1.345 ? (r * r, 2 * r * drdl) : (2.69 * (m - 0.7625), (r > 0 ? 2.69 : -2.69) * drdl)
            default: return (r * r, 2 * r * drdl)
            }
        }
        var expected = 0.0, eI = [Double](repeating: 0, count: streaks), eT = eI, eV = eI
        var pixels: [Range<Int>] = [], skipped = 0
        for r in 0..<(runs.count / 3) { for j in Int(runs[3 * r])..<Int(runs[3 * r + 1]) { pixels.append(j..<j + 1) } }
        for g in 0..<(groups.count / 2) { pixels.append(Int(groups[2 * g])..<Int(groups[2 * g + 1])) }
        #expect(runs.dropLast().last == Int32(rowCount) || groups.last == Int32(rowCount))
        for p in pixels {
            let model = p.reduce(0.0) { $0 + a[Int(streak[$1])] * Double(weight[$1]) + b[Int(streak[$1])] }
            var slope = 0.0
            for r in p {
                let l = model + Double(background[r])
                guard l > 0 else { skipped += 1; continue }
                let (v, d) = term(Double(counts[r]), l)
                expected += v
                slope += d
                eV[Int(streak[r])] += v
            }
            for r in p { eI[Int(streak[r])] += slope; eT[Int(streak[r])] += slope * Double(weight[r]) }
        }
        #expect(pixels.contains { $0.count == 300 })
        #expect(crossings > 20)
        #expect(skipped > 100 && skipped < rowCount / 2, "rows with λ ≤ 0: \(skipped)")
        func run(_ fused: Int32) -> (Double, [Double], [Double], [Double]) {
            var gI = [Double](repeating: 0, count: streaks), gT = gI, sv = gI
            let total = bl_cbc_criterion_block(fused, kind, 0, rowCount, streak, weight, counts, background,
                                               runs.count / 3, runs, groups.count / 2, groups, a, b, &gI, &gT, &sv)
            return (total, gI, gT, sv)
        }
        let portable = run(0)
        #expect(abs(portable.0 - expected) <= 1e-11 * abs(expected))
        for (got, want) in [(portable.1, eI), (portable.2, eT), (portable.3, eV)] {
            #expect(maxRelative(got, want, floor: want.map(abs).max()!) <= 1e-11)
        }
        guard IntensityScaler.fusedKernel else { return }
        let fused = run(1)
        #expect(abs(fused.0 - portable.0) <= 1e-11 * abs(portable.0))
        for (got, want) in [(fused.1, portable.1), (fused.2, portable.2), (fused.3, portable.3)] {
            #expect(maxRelative(got, want, floor: want.map(abs).max()!) <= 1e-11)
        }
    }

    /// λ below the smallest normal double (a streak with |q|² = 1e-308 on
    /// no background) is outside the vector logarithm's range: the AVX2
    /// version redoes such a run with libm, so both versions match the
    /// formulas. λ − I log λ ≈ −I log λ ≈ 714 I here.
    @Test("a run with subnormal λ: both versions take libm's logarithm")
    func subnormalLambda() {
        let weight: [Float] = [0.5, 0.25, 1, 0.75, 0.5, 0.125, 1, 0.5, 0.25]
        // Counts below 1 keep I/λ finite (below 1e306) for the slope.
        let counts: [Float] = [0, 0.001, 0.002, 0.003, 0, 0.005, 0.001, 0.001, 0.002]
        let background = [Float](repeating: 0, count: weight.count), streak = [Int32](repeating: 0, count: weight.count)
        let runs: [Int32] = [0, Int32(weight.count), 0]
        let (a, b) = ([1e-308], [0.0])
        var expected = 0.0, slope = 0.0
        for j in weight.indices {
            let l = a[0] * Double(weight[j])
            expected += l - Double(counts[j]) * log(l)
            slope += 1 - Double(counts[j]) / l
        }
        for fused: Int32 in IntensityScaler.fusedKernel ? [0, 1] : [0] {
            var gI = [0.0], gT = [0.0]
            let total = bl_cbc_criterion_block(fused, BL_CBC_POISSON, 0, Int(weight.count), streak, weight, counts, background,
                                               1, runs, 0, [], a, b, &gI, &gT, nil)
            #expect(abs(total - expected) <= 1e-12 * abs(expected), "fused \(fused): \(total) vs \(expected)")
            #expect(abs(gI[0] - slope) <= 1e-12 * abs(slope), "fused \(fused): \(gI[0]) vs \(slope)")
        }
    }
}
