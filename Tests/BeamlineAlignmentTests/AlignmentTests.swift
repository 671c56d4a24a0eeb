@testable import BeamlineAlignment
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography
import Foundation
import Testing

@Suite("Shifted profiles and their derivatives")
struct ShiftedProfileTests {
    /// Expected values: toupy 0.2.2's ShiftFunc (linear, wrap) and
    /// scipy.ndimage.shift(order=3, mode="reflect") as toupy's spline
    /// method calls it (Tests/Fixtures/generate_alignment.py). The shift
    /// stays inside the profile, so no wrapped or mirrored value is read
    /// except at the last samples, which are left out. Tolerance: 1e-12
    /// (linear: the same two-term formula); spline 1e-9 (our prefilter
    /// starts from an extended signal, scipy's from its exact mirror
    /// boundary; the transients differ by 0.268^24).
    @Test func matchToupyAndScipy() throws {
        let fixtures = try Fixtures.load("alignment.json")
        let profile = try fixtures.real("profile").elements
        let n = profile.count
        let linear = ShiftableProfiles(profile, count: 1, length: n, method: .linear, maximumShift: 2)
        let expectedLinear = try fixtures.real("shift_linear_1d").elements
        let (values, _) = linear.evaluate(shifts: [1.3], window: 0..<(n - 3))
        for i in 0..<(n - 3) { #expect(abs(values[i] - expectedLinear[i]) < 1e-12) }
        let spline = ShiftableProfiles(profile, count: 1, length: n, method: .spline, maximumShift: 2)
        let expectedSpline = try fixtures.real("shift_spline_1d").elements
        let (splineValues, _) = spline.evaluate(shifts: [1.3], window: 0..<n)
        for i in 0..<n { #expect(abs(splineValues[i] - expectedSpline[i]) < 1e-9, "sample \(i)") }
    }

    /// The derivative each method returns equals the central difference of
    /// its values (step 1e-5: truncation ~1e-10 relative; the linear
    /// method is piecewise linear, so shifts away from whole pixels).
    @Test(arguments: ShiftMethod.allCases) func derivativeIsTheDerivative(method: ShiftMethod) {
        var generator = SplitMix64(seed: 3)
        let n = 40
        var raw = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let t = Double(i)
            let smooth: Double = sin(t * 0.4) + 0.3 * cos(t * 1.1)
            raw[i] = smooth + 0.1 * generator.uniform(0, 1)
        }
        let profiles = ShiftableProfiles(raw, count: 1, length: n, method: method, maximumShift: 3)
        for s in [-1.37, 0.42, 2.61] {
            let h = 1e-5
            let (_, d) = profiles.evaluate(shifts: [s], window: 4..<36)
            let (plus, _) = profiles.evaluate(shifts: [s + h], window: 4..<36)
            let (minus, _) = profiles.evaluate(shifts: [s - h], window: 4..<36)
            for k in 0..<32 {
                let numeric = (plus[k] - minus[k]) / (2 * h)
                #expect(abs(numeric - d[k]) < 1e-6 * max(1, abs(numeric)), "\(method) s=\(s) k=\(k)")
            }
        }
    }
}

@Suite("Vertical alignment (mass fluctuation)")
struct VerticalAlignmentTests {
    /// Expected values: toupy 0.2.2's `vertical_fluctuations` on the same
    /// stack and shifts (Tests/Fixtures/generate_alignment.py). Linear:
    /// identical arithmetic, tolerance 1e-10 × the profile scale.
    /// Fourier: toupy pads the region to a power of two on one side and
    /// Beamline mirrors the whole column, so the two periodic extensions
    /// differ and the profiles agree to 5 % of their range at the window's
    /// ends and 2 % inside (Fourier shifts are not local, so the extension
    /// reaches the interior too).
    @Test func profilesMatchToupy() throws {
        let fixtures = try Fixtures.load("alignment.json")
        let stack = try fixtures.real("stack")
        let shifts = try ProjectionShifts(shiftstack: fixtures.real("shifts"))
        let options = VerticalAlignment.Options(horizontalMargin: 2, rows: 6..<18, polynomialOrder: 2)
        let linear = try VerticalAlignment.profiles(stack, shifts: shifts, options: options)
        let expected = try fixtures.real("fluct_linear")
        #expect(linear.shape == expected.shape)
        let scale = expected.elements.map(abs).max() ?? 1
        #expect(maxAbsoluteError(linear, expected) < 1e-10 * scale)
        var fourierOptions = options
        fourierOptions.shiftMethod = .fourier
        let fourier = try VerticalAlignment.profiles(stack, shifts: shifts, options: fourierOptions)
        let expectedFourier = try fixtures.real("fluct_fourier")
        let range = (expectedFourier.elements.max() ?? 0) - (expectedFourier.elements.min() ?? 0)
        #expect(maxAbsoluteError(fourier, expectedFourier) < 0.05 * range)
        // Away from the window's ends (3 rows each side) the extensions
        // matter less: 2 % of the range (1.5 % measured).
        let rows = expectedFourier.shape[1]
        var interior = 0.0
        for p in 0..<expectedFourier.shape[0] {
            for y in 3..<(rows - 3) {
                interior = max(interior, abs(fourier.elements[p * rows + y] - expectedFourier.elements[p * rows + y]))
            }
        }
        #expect(interior < 0.02 * range, "interior difference \(interior), range \(range)")
    }

    /// The gradient against central differences of the cost (step 1e-5),
    /// for each shift method; relative tolerance 1e-5.
    @Test(arguments: ShiftMethod.allCases) func gradientMatchesFiniteDifferences(method: ShiftMethod) throws {
        let sim = SimulatedStack(projections: 8, rows: 28, columns: 32, maximumShift: 1.5)
        let options = VerticalAlignment.Options(horizontalMargin: 2, rows: 4..<24, shiftMethod: method)
        let shifts = ProjectionShifts(vertical: sim.vertical.map { $0 * 0.5 + 0.123 }, horizontal: sim.horizontal)
        let (_, gradient) = try VerticalAlignment.cost(sim.stack, shifts: shifts, options: options)
        for i in [0, 3, 7] {
            var plus = shifts, minus = shifts
            plus.vertical[i] += 1e-5
            minus.vertical[i] -= 1e-5
            let numeric = (try VerticalAlignment.cost(sim.stack, shifts: plus, options: options).value
                - VerticalAlignment.cost(sim.stack, shifts: minus, options: options).value) / 2e-5
            #expect(abs(numeric - gradient[i]) <= 1e-5 * max(1, abs(numeric)), "\(method) projection \(i)")
        }
    }

    /// Known shifts (uniform in ±2 px) recovered: RMS error after removing
    /// the mean below 0.05 px on clean data, 0.15 px with 1 % noise (the
    /// issue's targets).
    @Test(arguments: [(0.0, 0.05), (0.01, 0.15)]) func recoversKnownShifts(noise: Double, tolerance: Double) throws {
        let sim = SimulatedStack(projections: 30, rows: 32, columns: 40, noise: noise, shiftHorizontal: false)
        let options = VerticalAlignment.Options(rows: 3..<29, shiftMethod: .spline)
        let result = try VerticalAlignment.align(sim.stack, options: options)
        let rms = SimulatedStack.rmsAfterMean(result.shifts.vertical, sim.vertical)
        #expect(rms < tolerance, "RMS \(rms) px after \(result.iterations) iterations (\(result.stopReason))")
        #expect(result.costHistory.last! < result.costHistory.first!)
    }

    /// toupy's `alignx`: the horizontal centre of mass, with the right
    /// sign: after the pre-alignment the horizontal shifts differ from the
    /// true ones only by a sinusoid (the blobs' centre of mass moves as
    /// X cos θ − Y sin θ) and a constant.
    @Test func centreOfMassPreAlignmentHasTheRightSign() throws {
        let sim = SimulatedStack(projections: 30, rows: 32, columns: 48, maximumShift: 2, shiftVertical: false)
        var options = VerticalAlignment.Options(alignHorizontally: true)
        options.optimizer.maximumIterations = 1
        let result = try VerticalAlignment.align(sim.stack, options: options)
        let rms = SimulatedStack.rmsAfterSinusoid(result.shifts.horizontal, sim.horizontal, anglesDegrees: sim.angles)
        #expect(rms < 0.1, "RMS \(rms) px")
    }
}

@Suite("Horizontal alignment (tomographic consistency) and the rotation axis")
struct HorizontalAlignmentTests {
    /// The full gradient against central differences of the cost (step
    /// 1e-5, relative tolerance 1e-4: the cost is a sum of ~10⁵ terms).
    @Test func fullGradientMatchesFiniteDifferences() throws {
        let sim = SimulatedStack(projections: 12, rows: 8, columns: 24, maximumShift: 1)
        let options = HorizontalAlignment.Options(shiftMethod: .spline, gradient: .full)
        let shifts = ProjectionShifts(vertical: sim.vertical, horizontal: sim.horizontal.map { $0 * 0.3 })
        let (_, gradient) = try HorizontalAlignment.cost(sim.stack, anglesDegrees: sim.angles, shifts: shifts, options: options)
        for i in [0, 5, 11] {
            var plus = shifts, minus = shifts
            plus.horizontal[i] += 1e-5
            minus.horizontal[i] -= 1e-5
            let numeric = (try HorizontalAlignment.cost(sim.stack, anglesDegrees: sim.angles, shifts: plus, options: options).value
                - HorizontalAlignment.cost(sim.stack, anglesDegrees: sim.angles, shifts: minus, options: options).value) / 2e-5
            #expect(abs(numeric - gradient[i]) <= 1e-4 * max(1, abs(numeric)), "projection \(i): \(numeric) vs \(gradient[i])")
        }
    }

    /// Known horizontal shifts (±2 px) recovered: RMS error after removing
    /// the fit on (1, cos θ, sin θ) below 0.05 px on clean data (the
    /// issue's target), with the full gradient.
    @Test func recoversKnownShifts() throws {
        let sim = SimulatedStack(projections: 36, rows: 16, columns: 40, shiftVertical: false)
        let options = HorizontalAlignment.Options(slices: 3, shiftMethod: .spline)
        let result = try HorizontalAlignment.align(sim.stack, anglesDegrees: sim.angles, options: options)
        let rms = SimulatedStack.rmsAfterSinusoid(result.shifts.horizontal, sim.horizontal, anglesDegrees: sim.angles)
        #expect(rms < 0.05, "RMS \(rms) px after \(result.iterations) iterations (\(result.stopReason))")
    }

    /// A rotation-axis offset of 1.37 px found to 0.05 px.
    @Test func estimatesTheAxisOffset() throws {
        let sim = SimulatedStack(projections: 36, rows: 16, columns: 40, axisOffset: 1.37, shiftVertical: false,
                                 shiftHorizontal: false)
        let estimate = try RotationAxis.estimate(sim.stack, anglesDegrees: sim.angles,
                                                 options: RotationAxis.Options(range: 4))
        #expect(abs(estimate.offset - 1.37) < 0.05, "offset \(estimate.offset)")
        #expect(estimate.scan.count > 9)
    }
}

@Suite("Alignment: Adam's first step and bad input")
struct AlignmentContractTests {
    /// Adam's first step by hand: f(x) = ½(x − 3)², x₀ = 0, g₀ = −3;
    /// m₁ = 0.1·(−3), v₁ = 0.001·9, m̂ = −3, v̂ = 9, so
    /// x₁ = 0 − α·(−3)/(3 + ε) = α·3/(3 + 1e-8).
    @Test func adamFirstStepByHand() throws {
        let objective: Objective<Double> = { x throws(SolverError) in
            let v = x.elements[0]
            return (0.5 * (v - 3) * (v - 3), Tensor(shape: [1], elements: [v - 3]))
        }
        let result = try Adam.minimize(objective, from: Tensor(shape: [1], elements: [0.0]),
                                       configuration: Adam.Configuration(stepSize: 0.25, maximumIterations: 1))
        #expect(abs(result.solution.elements[0] - 0.25 * 3 / (3 + 1e-8)) < 1e-15)
    }

    @Test func badInputIsRejectedWithTheArgumentNamed() throws {
        let sim = SimulatedStack(projections: 6, rows: 8, columns: 12)
        func name(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(name { _ = try HorizontalAlignment.align(sim.stack, anglesDegrees: [0, 1]) }.contains("anglesDegrees"))
        #expect(name { _ = try VerticalAlignment.align(sim.stack, options: .init(rows: 4..<20)) }.contains("rows"))
        #expect(name { _ = try VerticalAlignment.align(sim.stack, options: .init(horizontalMargin: 6)) }.contains("horizontalMargin"))
        #expect(name { _ = try VerticalAlignment.align(Tensor<Double>(shape: [6, 8], elements: .init(repeating: 0, count: 48))) }
            .contains("stack"))
        var bad = sim.stack.elements
        bad[5] = .nan
        #expect(name { _ = try VerticalAlignment.align(Tensor(shape: sim.stack.shape, elements: bad)) }.contains("stack"))
        #expect(name { _ = try VerticalAlignment.align(sim.stack, initial: ProjectionShifts(count: 3)) }.contains("shifts"))
        #expect(name { _ = try HorizontalAlignment.align(sim.stack, anglesDegrees: sim.angles,
                                                        options: .init(frequencyCutoffs: [0])) }.contains("frequencyCutoffs"))
        #expect(name { _ = try HorizontalAlignment.align(sim.stack, anglesDegrees: sim.angles,
                                                        options: .init(centralSlice: 99)) }.contains("centralSlice"))
        #expect(name { _ = try RotationAxis.estimate(sim.stack, anglesDegrees: sim.angles, options: .init(range: -1)) }
            .contains("range"))
        var optimizer = AlignmentOptimizer()
        optimizer.stepSize = 0
        #expect(name { _ = try VerticalAlignment.align(sim.stack, options: .init(optimizer: optimizer)) }.contains("stepSize"))
    }
}
