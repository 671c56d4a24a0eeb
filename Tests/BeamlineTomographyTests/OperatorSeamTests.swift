import BeamlineTestSupport
import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import Testing
@testable import BeamlineTomography

@Suite("Tomography on the operator seam: Radon as an operator, stopping reconstructions")
struct OperatorSeamTests {

    /// ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ for the Radon transform: sums of ~24·32² products
    /// of O(1) values; 1e-12 relative is ~5000 ulp of slack for the order.
    @Test(arguments: [16, 17])
    func radonAdjoint(size: Int) throws {
        let angles = (0..<24).map { Double($0) * 7.5 + 0.3 }
        let radon = try RadonProjector<Double>(size: size, anglesDegrees: angles)
        #expect(radon.inputShape == [size, size] && radon.outputShape == [size, 24])
        let x = Tensor<Double>.normal([size, size], seed: 3), y = Tensor<Double>.normal([size, 24], seed: 4)
        let rx = radon.apply(x), rty = radon.applyAdjoint(y)
        #expect(rx.shape == [size, 24] && rty.shape == [size, size])
        let lhs = dot(rx, y), rhs = dot(x, rty)
        #expect(abs(lhs - rhs) <= 1e-12 * (rx.norm() * y.norm() + x.norm() * rty.norm()))
        // Float agrees with Double to single precision (both accumulate in Double).
        let radonF = try RadonProjector<Float>(size: size, anglesDegrees: angles)
        let rxf = radonF.apply(x.map { Float($0) })
        #expect(zip(rxf.elements, rx.elements).allSatisfy { abs(Double($0) - $1) <= 1e-4 * max(1, abs($1)) })
        // Radon.transform of a square image is the operator's product.
        #expect(try Radon.transform(x, anglesDegrees: angles) == rx)
    }

    /// The precomputed sample plan gives the on-the-fly forward product bit
    /// for bit (the same samples, weights and summation order) and the
    /// adjoint to 1e-14 relative (summed over fixed angle blocks: ~24
    /// terms per pixel reordered), for Float and Double, even and odd
    /// sizes, and angles on and off the axes (0, 90, 180 and negative ones
    /// put samples on pixel edges); both the same bit for bit on 1 thread
    /// and on 2. Above the limit no plan is built.
    @Test(arguments: [16, 17, 5])
    func precomputedSamplesGiveTheSameProducts(size: Int) throws {
        let angles = [0, 90, 180, -37.5, 45, 13.3, 179.9, 270] + (0..<16).map { Double($0) * 11.25 + 0.7 }
        let plain = try RadonProjector<Double>(size: size, anglesDegrees: angles)
        let planned = try RadonProjector<Double>(size: size, anglesDegrees: angles, precomputeSamples: true)
        #expect(planned.plan != nil && plain.plan == nil)
        let x = Tensor<Double>.normal([size, size], seed: 5), y = Tensor<Double>.normal([size, angles.count], seed: 6)
        #expect(planned.apply(x) == plain.apply(x))
        let (adjoint, expected) = (planned.applyAdjoint(y), plain.applyAdjoint(y))
        #expect(zip(adjoint.elements, expected.elements).allSatisfy { abs($0 - $1) <= 1e-14 * expected.norm() })
        #expect(Parallel.withThreadCount(1) { planned.apply(x) } == Parallel.withThreadCount(2) { planned.apply(x) })
        #expect(Parallel.withThreadCount(1) { planned.applyAdjoint(y) } == Parallel.withThreadCount(2) { planned.applyAdjoint(y) })
        let plainF = try RadonProjector<Float>(size: size, anglesDegrees: angles)
        let plannedF = try RadonProjector<Float>(size: size, anglesDegrees: angles, precomputeSamples: true)
        let xf = x.map { Float($0) }, yf = y.map { Float($0) }
        #expect(plannedF.apply(xf) == plainF.apply(xf))
        let (adjointF, expectedF) = (plannedF.applyAdjoint(yf), plainF.applyAdjoint(yf))
        #expect(zip(adjointF.elements, expectedF.elements).allSatisfy { abs(Double($0 - $1)) <= 1e-6 * Double(expectedF.norm()) })
        let large = try RadonProjector<Double>(size: 1024, anglesDegrees: (0..<5).map { Double($0) }, precomputeSamples: true)
        #expect(large.plan == nil)   // 1024² · 5 samples > maximumPrecomputedSamples
    }

    @Test func radonOperatorWorksWithSolvers() throws {
        let angles = (0..<30).map { Double($0) * 6 }
        let radon = try RadonProjector<Double>(size: 12, anglesDegrees: angles)
        let truth = Tensor<Double>.normal([12, 12], seed: 9).map { abs($0) }
        let r = try LSMR.solve(radon, rhs: radon.apply(truth).reshaped([radon.rows]), configuration: .init(maximumIterations: 200))
        #expect(r.residualNorm < 1e-3 * radon.apply(truth).norm())
    }

    @Test func filterSinogramTakesATensor() throws {
        let s = Tensor<Double>.normal([20, 5], seed: 1)
        let filtered = try Radon.filterSinogram(s, filter: .hann, cutoff: 0.8)
        #expect(filtered.shape == [20, 5])
        #expect(filtered.elements == Radon.filterColumns(s.elements, pixels: 20, angles: 5, filter: .hann, cutoff: 0.8))
        #expect(throws: TomographyError.self) { _ = try Radon.filterSinogram(Tensor<Double>([1, 2]), filter: .ramp) }
    }

    @Test(arguments: Reconstruction.Method.allCases.filter { $0 != .fbp })
    func reconstructionsStop(method: Reconstruction.Method) throws {
        let geometry = try Geometry.fromAngles(innerAngles: (0..<12).map { Double($0) * Double.pi / 12 },
                                               volumeShape: [8, 8, 2], projectionShape: [8, 2])
        let projector = try JohnTransformProjector<Double>(geometry: geometry)
        let phantom: Tensor<Double> = Phantom.randomEllipsoids(shape: [8, 8, 2], count: 3, seed: 2)
        let data = try projector.checkedApply(phantom)
        var calls = 0
        let result = try Reconstruction.run(method, projector: projector, projections: data, options: .init(iterations: 40)) { _ in
            calls += 1
            return calls == 3 ? .stop : .continue
        }
        #expect(result.stopReason == .cancelled && result.iterations == 3 && calls == 3, "\(method)")
        #expect(result.volume.shape == projector.volumeShape && result.diagnostics.method == method)
    }
}
