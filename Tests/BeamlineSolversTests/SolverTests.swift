import BeamlineTestSupport
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

/// The Rosenbrock function Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)² and its
/// gradient (scipy.optimize.rosen / rosen_der); minimum 0 at (1, …, 1).
func rosenbrock(_ x: Tensor<Double>) -> (value: Double, gradient: Tensor<Double>) {
    let v = x.elements
    var f = 0.0
    var g = [Double](repeating: 0, count: v.count)
    for i in 0..<(v.count - 1) {
        let a = v[i + 1] - v[i] * v[i], b = 1 - v[i]
        f += 100 * a * a + b * b
        g[i] += -400 * v[i] * a - 2 * b
        g[i + 1] += 200 * a
    }
    return (f, Tensor(shape: x.shape, elements: g))
}

/// A 16×16 Gaussian blur (σ = 1 px, radius 3, zero outside the image) as
/// a CSR matrix: non-negative, with smaller row sums at the border.
func blurMatrix(size: Int) throws -> CSRMatrix<Double> {
    try CSRMatrix<Double>.build(rows: size * size, columns: size * size, rowsPerBlock: 32) { range, builder in
        for row in range {
            let (r, c) = (row / size, row % size)
            for dr in -3...3 {
                for dc in -3...3 {
                    let (rr, cc) = (r + dr, c + dc)
                    guard rr >= 0 && rr < size && cc >= 0 && cc < size else { continue }
                    try builder.append(column: rr * size + cc, value: exp(-Double(dr * dr + dc * dc) / 2))
                }
            }
            builder.endRow()
        }
    }
}

@Suite("CGLS, SIRT and MLEM")
struct IterativeSolverTests {
    /// `ls_x` is numpy.linalg.lstsq on the `well` matrix and `ls_b` (solvers.json).
    @Test("CGLS reaches numpy.linalg.lstsq's least-squares solution")
    func cgls() throws {
        let f = try Fixtures.load("solvers.json")
        let a = try CSRMatrix(dense: f.real("well_A"))
        let result = try CGLS.solve(a, rhs: f.real("ls_b"), configuration: .init(tolerance: 1e-12, maximumIterations: 50))
        #expect(result.stopReason == .converged)
        // cond(A) ≈ 10: CGLS to a 1e-12 normal-equation residual gives x to ~1e-11.
        #expect(maxAbsoluteError(result.solution, try f.real("ls_x")) <= 1e-9)
        let zero = try CGLS.solve(a, rhs: Tensor(shape: [20], repeating: 0.0))
        #expect(zero.stopReason == .zeroRightHandSide && zero.solution.elements.allSatisfy { $0 == 0 })
    }

    @Test("SIRT converges on a consistent non-negative system and keeps non-negativity")
    func sirt() throws {
        let a = try blurMatrix(size: 8)
        let truth = Tensor<Double>((0..<64).map { Double(($0 * 37) % 11) })
        let b = a.apply(truth)
        let early = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 5))
        let late = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 200, nonNegative: true))
        #expect(late.residualNorm < early.residualNorm * 0.5)  // the blur is ill-conditioned: slow but steady
        #expect(late.solution.elements.allSatisfy { $0 >= 0 })
        let stop = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 10_000, tolerance: 1e-3))
        #expect(stop.stopReason == .converged && stop.residualNorm <= 1e-3 * b.norm())
        #expect(throws: SolverError.self) { _ = try SIRT.solve(a, rhs: b, configuration: .init(relaxation: 2.5)) }
    }

    /// A point pattern (four points) blurred by a Gaussian: MLEM must keep
    /// x ≥ 0, conserve the counts Σ A x = Σ y, decrease the Poisson
    /// divergence monotonically, and sharpen the points back.
    @Test("MLEM on a blurred point pattern")
    func mlem() throws {
        let size = 16
        let a = try blurMatrix(size: size)
        var truth = [Double](repeating: 0, count: size * size)
        for (r, c, value) in [(3, 4, 100.0), (8, 8, 250.0), (12, 3, 80.0), (11, 13, 160.0)] { truth[r * size + c] = value }
        let y = a.apply(Tensor(truth))
        let totalCounts = y.elements.reduce(0, +)
        func divergence(_ x: Tensor<Double>) -> Double {
            let p = a.apply(x).elements
            return zip(y.elements, p).reduce(0) { sum, pair in
                let (yi, pi) = pair
                return sum + pi - yi + (yi > 0 ? yi * log(yi / pi) : 0)
            }
        }
        var previous = Double.infinity
        var changes: [Double] = []
        for iterations in [5, 50, 500] {
            let result = try MLEM.solve(a, data: y, configuration: .init(maximumIterations: iterations)) { changes.append($0.value); return .continue }
            #expect(result.iterations == iterations)
            #expect(result.solution.elements.allSatisfy { $0 >= 0 })
            let projected = a.apply(result.solution).elements.reduce(0, +)
            #expect(abs(projected - totalCounts) <= 1e-10 * totalCounts, "counts after \(iterations) iterations")
            let d = divergence(result.solution)
            #expect(d < previous)
            previous = d
            if iterations == 500 {
                // The four brightest pixels are the four points.
                let x = result.solution.elements
                let top = x.indices.sorted { x[$0] > x[$1] }.prefix(4)
                #expect(Set(top) == Set(truth.indices.filter { truth[$0] > 0 }))
                #expect(d < 1e-3 * totalCounts)
            }
        }
        let converged = try MLEM.solve(a, data: y, configuration: .init(maximumIterations: 10_000, tolerance: 1e-3))
        #expect(converged.stopReason == .converged && converged.diagnostics.relativeChange <= 1e-3)
        // Zero data: the answer is zero.
        let zero = try MLEM.solve(a, data: Tensor(shape: [size * size], repeating: 0.0))
        #expect(zero.stopReason == .zeroRightHandSide && zero.solution.elements.allSatisfy { $0 == 0 })
        // A column no ray sees (zero column sum) stays 0 instead of dividing by zero.
        let blind = try CSRMatrix<Double>(dense: Tensor(shape: [2, 3], elements: [1, 0, 1, 0, 0, 2]))
        let safe = try MLEM.solve(blind, data: Tensor([3.0, 4.0]))
        #expect(safe.solution.elements.allSatisfy { $0.isFinite } && safe.solution[at: 1] == 0)
        #expect(throws: SolverError.self) { _ = try MLEM.solve(a, data: Tensor(shape: [size * size], repeating: -1.0)) }
        #expect(throws: SolverError.self) { _ = try MLEM.solve(a, data: Tensor([1.0])) }
    }
}

@Suite("Losses")
struct LossTests {
    /// Values by hand: prediction (1, 2, 5), target (1.5, 2, 1), weights (1, 2, 0.5).
    @Test("Values and gradients of L2, L1, Huber and Poisson")
    func values() throws {
        let p = Tensor<Double>([1, 2, 5]), t = Tensor<Double>([1.5, 2, 1]), w = Tensor<Double>([1, 2, 0.5])
        let l2 = try Loss.l2.valueAndGradient(prediction: p, target: t, weights: w)
        #expect(l2.value == 0.5 * 0.25 + 0 + 0.5 * 0.5 * 16)
        #expect(l2.gradient == Tensor([-0.5, 0, 2]))
        let l1 = try Loss.l1.valueAndGradient(prediction: p, target: t)
        #expect(l1.value == 4.5 && l1.gradient == Tensor([-1, 0, 1]))
        let huber = try Loss.huber(delta: 1).valueAndGradient(prediction: p, target: t)
        #expect(huber.value == 0.125 + 0 + 3.5 && huber.gradient == Tensor([-0.5, 0, 1]))
        let poisson = try Loss.poisson.valueAndGradient(prediction: p, target: t)
        let expected = (1 - 1.5 * log(1.0)) + (2 - 2 * log(2.0)) + (5 - log(5.0))
        #expect(abs(poisson.value - expected) <= 1e-15)
        #expect(maxAbsoluteError(poisson.gradient, Tensor([1 - 1.5, 0, 1 - 0.2])) <= 1e-15)
    }

    @Test("Gradients agree with central differences through an operator")
    func finiteDifferences() throws {
        let a = try randomSparse(rows: 12, columns: 6, perRow: 3, seed: 21)
        let data = Tensor<Double>((0..<12).map { 1 + Double($0 % 4) })
        let x = Tensor<Double>((0..<6).map { 0.7 + 0.1 * Double($0) })
        for loss in [Loss.l2, .l1, .huber(delta: 0.3), .poisson] {
            // Poisson needs A x > 0: use |A| there.
            let op = loss == .poisson ? try CSRMatrix(dense: abs(a.toDense()) + 0.0) : a
            let objective = try op.objective(data: data, loss: loss, weights: Tensor((0..<12).map { 0.5 + Double($0 % 3) }))
            let (_, gradient) = try objective(x)
            for j in 0..<6 {
                var plus = x.elements, minus = x.elements
                plus[j] += 1e-6
                minus[j] -= 1e-6
                let numeric = (try objective(Tensor(plus)).value - objective(Tensor(minus)).value) / 2e-6
                #expect(abs(numeric - gradient[at: j]) <= 1e-5 * max(1, abs(numeric)), "\(loss) component \(j)")
            }
        }
        #expect(throws: SolverError.self) { _ = try a.objective(data: Tensor([1.0]), loss: .l2) }
        #expect(throws: SolverError.self) { _ = try Loss.huber(delta: 0).valueAndGradient(prediction: data, target: data) }
        #expect(throws: SolverError.self) {
            _ = try Loss.poisson.valueAndGradient(prediction: data, target: data * -1.0)
        }
        #expect(throws: SolverError.self) {
            _ = try Loss.l2.valueAndGradient(prediction: data, target: data, weights: data * -1.0)
        }
    }
}

@Suite("Optimisers")
struct OptimizerTests {
    /// `rosen2_*`, `rosen6_*` and `ls_lbfgsb_x` are scipy.optimize.minimize(method="L-BFGS-B", jac=rosen_der)
    /// results (solvers.json). Both stop at ‖g‖∞ ≤ 1e-5 (gtol) or on ftol; near the minimum the Hessian of
    /// Rosenbrock has condition ≈ 2500, so two such points may differ by ~1e-5·2500/λ_max: we allow 1e-4.
    @Test("L-BFGS agrees with SciPy's L-BFGS-B without bounds", arguments: ["rosen2", "rosen6"])
    func lbfgsRosenbrock(name: String) throws {
        let f = try Fixtures.load("solvers.json")
        var reports = 0
        let result = try LBFGS.minimize(rosenbrock, from: f.real("\(name)_x0")) { _ in reports += 1; return .continue }
        #expect([StopReason.optimizer(.gradientTolerance), .optimizer(.valueTolerance)].contains(result.stopReason))
        #expect(maxAbsoluteError(result.solution, try f.real("\(name)_x")) <= 1e-4)
        // From this 6-d start SciPy (and we) stop in the local minimum near (−1, 1, …, 1) with f ≈ 3.97.
        let scipyValue = try f.entry("\(name)_fun").data[0]
        #expect(abs(result.diagnostics.value - scipyValue) <= 1e-8 * max(1, scipyValue))
        if scipyValue < 1e-8 {
            #expect(maxAbsoluteError(result.solution, Tensor(shape: result.solution.shape, repeating: 1.0)) <= 1e-4)
        }
        #expect(reports == result.iterations && result.iterations < 200)
    }

    @Test("L-BFGS and Adam reach numpy.linalg.lstsq's least-squares solution")
    func leastSquares() throws {
        let f = try Fixtures.load("solvers.json")
        let a = try CSRMatrix(dense: f.real("well_A"))
        let objective = try a.objective(data: f.real("ls_b"), loss: .l2)
        let lsx = try f.real("ls_x")
        let lbfgs = try LBFGS.minimize(objective, from: Tensor(shape: [10], repeating: 0.0),
                                       configuration: .init(gradientTolerance: 1e-10, valueTolerance: 0))
        #expect(maxAbsoluteError(lbfgs.solution, lsx) <= 1e-8)
        #expect(maxAbsoluteError(lbfgs.solution, try f.real("ls_lbfgsb_x")) <= 1e-4)
        let adam = try Adam.minimize(objective, from: Tensor(shape: [10], repeating: 0.0),
                                     configuration: .init(stepSize: 0.01, maximumIterations: 20_000, gradientTolerance: 1e-9))
        #expect(maxAbsoluteError(adam.solution, lsx) <= 1e-6)
        let descent = try GradientDescent.minimize(objective, from: Tensor(shape: [10], repeating: 0.0),
                                                   configuration: .init(stepSize: 0.01, maximumIterations: 50_000,
                                                                        gradientTolerance: 1e-9))
        #expect(descent.stopReason == .optimizer(.gradientTolerance))
        #expect(maxAbsoluteError(descent.solution, lsx) <= 1e-6)
    }

    @Test("Adam reaches the Rosenbrock minimum")
    func adamRosenbrock() throws {
        let result = try Adam.minimize(rosenbrock, from: Tensor([-1.2, 1.0]),
                                       configuration: .init(stepSize: 0.01, maximumIterations: 30_000, gradientTolerance: 1e-7))
        #expect(maxAbsoluteError(result.solution, Tensor([1.0, 1.0])) <= 1e-3)
        #expect(result.diagnostics.value <= 1e-6)
    }

    @Test("Bounds are kept by Adam and gradient descent; bad parameters are typed errors")
    func bounds() throws {
        // min (x − 3)² over x ≤ 2 (and x ≥ −1): the answer is 2.
        let parabola: Objective<Double> = { x in
            let v = x.elements.map { $0 - 3 }
            return (v.reduce(0) { $0 + $1 * $1 }, Tensor(shape: x.shape, elements: v.map { 2 * $0 }))
        }
        let box = Bounds(lower: -1, upper: 2)
        let adam = try Adam.minimize(parabola, from: Tensor([0.0, 1.5]),
                                     configuration: .init(stepSize: 0.05, maximumIterations: 2000, bounds: box))
        #expect(adam.solution == Tensor([2.0, 2.0]))
        #expect(adam.stopReason == .optimizer(.gradientTolerance))
        let gd = try GradientDescent.minimize(parabola, from: Tensor([-5.0]), configuration: .init(stepSize: 0.1, bounds: box))
        #expect(gd.solution == Tensor([2.0]))
        let noCorrection = try Adam.minimize(parabola, from: Tensor([0.0]),
                                             configuration: .init(stepSize: 0.05, biasCorrection: false, maximumIterations: 5000))
        #expect(abs(noCorrection.solution[at: 0] - 3) <= 1e-3)
        #expect(throws: SolverError.self) { _ = try Adam.minimize(parabola, from: Tensor([0.0]), configuration: .init(beta1: 1)) }
        #expect(throws: SolverError.self) { _ = try Adam.minimize(parabola, from: Tensor([Double.nan])) }
        #expect(throws: SolverError.self) { _ = try LBFGS.minimize(parabola, from: Tensor([0.0]), configuration: .init(memory: 0)) }
        #expect(throws: SolverError.self) {
            _ = try GradientDescent.minimize(parabola, from: Tensor([0.0]), configuration: .init(bounds: Bounds(lower: 1, upper: 0)))
        }
        let wrongGradient: Objective<Double> = { _ in (0, Tensor([1.0, 2.0])) }
        #expect(throws: SolverError.self) { _ = try LBFGS.minimize(wrongGradient, from: Tensor([0.0])) }
    }
}
