@testable import BeamlineAlignment
import BeamlineTensor
import BeamlineTomography
import Foundation
import Testing

@Suite("Derivative projections (toupy's derivatives and calc_derivatives)")
struct DerivativeProjectionTests {
    /// Expected values: toupy 0.2.2's `calculate_derivatives` over the whole
    /// stack, for each shift method (Tests/Fixtures/generate_derivatives.py;
    /// 37 columns, which toupy's Fourier shifts pad by 2 reflected samples to
    /// pyFFTW's fast length 39, and 64 columns, no padding).
    /// Tolerances, against the stack's scale (values ≈ 0.5):
    /// - fourier 2e-6: toupy runs its FFTs in complex64 (float32 rounding,
    ///   2⁻²⁴ ≈ 6e-8 per operation, over FFTs of 39 and 64 points: at most
    ///   3.3e-7 from the same formula in NumPy float64, measured); Beamline
    ///   in Double;
    /// - linear 1e-15: the same two-term formula;
    /// - spline 1e-9: as the spline shifts against scipy (our prefilter
    ///   starts from an extended signal; the transients differ by 0.268^24),
    ///   except in each projection's first row, 1e-6: toupy shifts the 2-d
    ///   image with scipy, whose spline along the unshifted axis does not
    ///   return the first row exactly (4.5e-7 from scipy's own 1-d shift of
    ///   that row, measured; the other rows agree with it to 3e-16).
    @Test func matchToupy() throws {
        let fixtures = try Fixtures.load("derivatives.json")
        let stack = try fixtures.real("stack")
        let columns = 37
        for (method, tolerance, firstRow) in [(ShiftMethod.fourier, 2e-6, 2e-6), (.linear, 1e-15, 1e-15), (.spline, 1e-9, 1e-6)] {
            let ours = try HorizontalAlignment.derivativeProjections(stack, method: method).elements
            let theirs = try fixtures.real(method.rawValue).elements
            #expect(ours.count == theirs.count)
            for k in ours.indices {
                let row = (k / columns) % 4
                #expect(abs(ours[k] - theirs[k]) < (row == 0 ? firstRow : tolerance),
                        "\(method) element \(k): \(ours[k]) vs toupy \(theirs[k])")
            }
        }
        let wide = try HorizontalAlignment.derivativeProjections(try fixtures.real("wide")).elements
        let wideWorst = zip(wide, try fixtures.real("wide_fourier").elements).map { abs($0 - $1) }.max() ?? .infinity
        #expect(wideWorst < 2e-6, "64 columns: largest difference \(wideWorst)")
        #expect(try HorizontalAlignment.derivativeProjections(stack).shape == [3, 4, 37])
    }

    /// pyFFTW's `next_fast_len` for the lengths the fixture script printed
    /// (pyFFTW 0.15.1): 37 → 39, 61 → 63, 101 → 104, 113 → 117,
    /// 143 → 144 (11·13 is not fast), 169 → 175.
    @Test func fastLengthsAreFFTWs() {
        for (n, fast) in [(37, 39), (61, 63), (64, 64), (67, 70), (101, 104), (113, 117), (143, 144), (169, 175)] {
            #expect(nextFastFFTLength(n) == fast, "\(n)")
        }
    }

    /// The derivative filter against toupy's `compute_filter(40, "ram-lak",
    /// derivatives=True, freqcutoff)` (its imaginary part; 128 coefficients
    /// in FFT order): the same formula, `−sign(f)/π` below the cut-off, so
    /// equal to 1e-15.
    @Test func derivativeFilterMatchesToupy() throws {
        let fixtures = try Fixtures.load("derivatives.json")
        for (cutoff, name) in [(1.0, "hilbert_ramlak"), (0.5, "hilbert_ramlak_half")] {
            let ours = FBPFilter.ramp.derivativeCoefficients(size: 128, cutoff: cutoff)
            let theirs = try fixtures.real(name).elements
            #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) < 1e-15 }, "cutoff \(cutoff)")
        }
    }

    /// The derivative-filtered sinogram map is antisymmetric,
    /// `⟨W_H a, b⟩ = −⟨a, W_H b⟩` (the consistency gradient relies on it),
    /// to 1e-12 relative; and `D`'s matrix applies `D` and `Dᵀ` (dot-product
    /// test to 1e-12 relative), for every shift method.
    @Test func adjoints() throws {
        var generator = SplitMix64(seed: 11)
        let (n, p) = (23, 7)
        let a = (0..<(n * p)).map { _ in generator.uniform(-1, 1) }
        let b = (0..<(n * p)).map { _ in generator.uniform(-1, 1) }
        func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
        for filter in FBPFilter.allCases {
            let wa = try Radon.filterSinogram(Tensor(shape: [n, p], elements: a), filter: filter, cutoff: 0.8, derivative: true)
            let wb = try Radon.filterSinogram(Tensor(shape: [n, p], elements: b), filter: filter, cutoff: 0.8, derivative: true)
            let (left, right) = (dot(wa.elements, b), -dot(a, wb.elements))
            #expect(abs(left - right) <= 1e-12 * max(1, abs(left)), "\(filter): \(left) vs \(right)")
        }
        for method in ShiftMethod.allCases {
            let d = HorizontalDerivative(length: n, method: method)
            let (left, right) = (dot(d.apply(a, columns: p), b), dot(a, d.apply(b, columns: p, transposed: true)))
            #expect(abs(left - right) <= 1e-12 * max(1, abs(left)), "\(method): \(left) vs \(right)")
            // The matrix is the derivative of the rows (column by column here).
            var rows = [Double](repeating: 0, count: n * p)
            for x in 0..<n { for i in 0..<p { rows[i * n + x] = a[x * p + i] } }
            let direct = HorizontalDerivative.rows(rows, count: p, length: n, method: method)
            let applied = d.apply(a, columns: p)
            var worst = 0.0
            for x in 0..<n { for i in 0..<p { worst = max(worst, abs(direct[i * n + x] - applied[x * p + i])) } }
            #expect(worst < 1e-13, "\(method): \(worst)")
        }
    }
}

@Suite("Horizontal alignment on derivative projections")
struct DerivativeAlignmentTests {
    /// The full gradient of both derivative modes against central
    /// differences of the cost (step 1e-5, relative tolerance 1e-4, as the
    /// plain mode's test).
    @Test(arguments: [(true, false), (true, true)]) func fullGradientMatchesFiniteDifferences(derivatives: Bool, calculate: Bool) throws {
        let sim = SimulatedStack(projections: 12, rows: 8, columns: 24, maximumShift: 1)
        let stack = calculate ? sim.stack : try HorizontalAlignment.derivativeProjections(sim.stack)
        let options = HorizontalAlignment.Options(shiftMethod: .spline, gradient: .full, derivatives: derivatives,
                                                  calculateDerivatives: calculate)
        let shifts = ProjectionShifts(vertical: sim.vertical, horizontal: sim.horizontal.map { $0 * 0.3 })
        let (_, gradient) = try HorizontalAlignment.cost(stack, anglesDegrees: sim.angles, shifts: shifts, options: options)
        for i in [0, 5, 11] {
            var plus = shifts, minus = shifts
            plus.horizontal[i] += 1e-5
            minus.horizontal[i] -= 1e-5
            let numeric = (try HorizontalAlignment.cost(stack, anglesDegrees: sim.angles, shifts: plus, options: options).value
                - HorizontalAlignment.cost(stack, anglesDegrees: sim.angles, shifts: minus, options: options).value) / 2e-5
            #expect(abs(numeric - gradient[i]) <= 1e-4 * max(1, abs(numeric)), "projection \(i): \(numeric) vs \(gradient[i])")
        }
    }

    /// Known horizontal shifts (±2 px) recovered from derivative
    /// projections (toupy's workflow: `calculate_derivatives` with Fourier
    /// shifts, then `derivatives=True`) and with `calculateDerivatives` on
    /// the plain stack: RMS error after removing the fit on (1, cos θ,
    /// sin θ) below 0.05 px, the bar of the plain mode's test on the same
    /// stack. Measured: 0.030 px (derivatives) and 0.021 px
    /// (calculateDerivatives); the plain mode reaches 0.016 px.
    ///
    /// The derivative projections run toupy's frequency schedule
    /// `[0.5, 1]`: their cost is flatter along shift errors that vary
    /// slowly with the angle (the derivative weights the low spatial
    /// frequencies that pin those down less), so one stage at cut-off 1
    /// stops (step tolerance) at 0.052 px.
    @Test(arguments: [false, true]) func recoversKnownShifts(calculate: Bool) throws {
        let sim = SimulatedStack(projections: 36, rows: 16, columns: 40, shiftVertical: false)
        let stack = calculate ? sim.stack : try HorizontalAlignment.derivativeProjections(sim.stack)
        let options = HorizontalAlignment.Options(slices: 3, frequencyCutoffs: calculate ? [1] : [0.5, 1], shiftMethod: .spline,
                                                  derivatives: true, calculateDerivatives: calculate)
        let result = try HorizontalAlignment.align(stack, anglesDegrees: sim.angles, options: options)
        let rms = SimulatedStack.rmsAfterSinusoid(result.shifts.horizontal, sim.horizontal, anglesDegrees: sim.angles)
        let start = SimulatedStack.rmsAfterSinusoid([Double](repeating: 0, count: 36), sim.horizontal, anglesDegrees: sim.angles)
        #expect(rms < 0.05, "RMS \(rms) px (from \(start)) after \(result.iterations) iterations (\(result.stopReason))")
    }

    /// toupy's premise: back-projecting the derivative sinogram with the
    /// derivative filter reconstructs the slice that the ramp filter
    /// reconstructs from the plain sinogram. The two filters agree at low
    /// frequencies (`i·H · 2i·sin(πf) = 2 sin(π|f|)/π` against the ramp
    /// `≈ 2|f|`) and part towards Nyquist, so the slices differ by a few
    /// percent: measured 2.2 % (relative L2) on a slice of the simulated
    /// stack, bar 3 %. A wrong sign or scale would give ≥ 100 %.
    @Test func derivativeBackProjectionReconstructsTheSlice() throws {
        let (p, n, rows) = (90, 48, 16)
        let sim = SimulatedStack(projections: p, rows: rows, columns: n, shiftVertical: false, shiftHorizontal: false)
        let projector = try RadonProjector<Double>(size: n, anglesDegrees: sim.angles)
        let derivatives = try HorizontalAlignment.derivativeProjections(sim.stack).elements
        var plain = [Double](repeating: 0, count: n * p), derivative = plain
        for i in 0..<p {
            for x in 0..<n {
                plain[x * p + i] = sim.stack.elements[(i * rows + rows / 2) * n + x]
                derivative[x * p + i] = derivatives[(i * rows + rows / 2) * n + x]
            }
        }
        let a = projector.applyAdjoint(try Radon.filterSinogram(Tensor(shape: [n, p], elements: plain))).elements
        let b = projector.applyAdjoint(try Radon.filterSinogram(Tensor(shape: [n, p], elements: derivative), derivative: true)).elements
        let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let relative = difference / a.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(relative < 0.03, "relative difference \(relative)")
    }

    /// Bad input: calculateDerivatives without derivatives, and stacks the
    /// derivative cannot be taken of, are typed errors naming the argument.
    @Test func badInputIsRejectedWithTheArgumentNamed() throws {
        let sim = SimulatedStack(projections: 6, rows: 8, columns: 12)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch let error as AlignmentError { return "\(error)" } catch { return "untyped \(error)" }
        }
        #expect(message {
            _ = try HorizontalAlignment.align(sim.stack, anglesDegrees: sim.angles, options: .init(calculateDerivatives: true))
        }.contains("calculateDerivatives"))
        #expect(message {
            _ = try HorizontalAlignment.cost(sim.stack, anglesDegrees: sim.angles, shifts: ProjectionShifts(count: 6),
                                             options: .init(calculateDerivatives: true))
        }.contains("calculateDerivatives"))
        #expect(message { _ = try HorizontalAlignment.derivativeProjections(Tensor<Double>(shape: [4, 5], repeating: 1)) }
            .contains("stack"))
        #expect(message { _ = try HorizontalAlignment.derivativeProjections(Tensor<Double>(shape: [2, 3, 1], repeating: 1)) }
            .contains("stack"))
        var bad = sim.stack.elements
        bad[7] = .infinity
        #expect(message { _ = try HorizontalAlignment.derivativeProjections(Tensor(shape: sim.stack.shape, elements: bad)) }
            .contains("stack"))
    }
}
