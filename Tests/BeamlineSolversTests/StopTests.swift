import BeamlineOperators
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Testing

/// A progress handler that stops after `stopAt` reports and counts them.
final class Stopper {
    let stopAt: Int
    var reports: [IterationProgress] = []
    init(at iteration: Int) { stopAt = iteration }
    func handle(_ p: IterationProgress) -> ProgressAction {
        reports.append(p)
        return p.iteration >= stopAt ? .stop : .continue
    }
}

@Suite("Returning .stop from the progress callback stops solvers and optimisers at that iteration")
struct StopTests {
    /// A non-negative, well-posed 30×20 system (all four solvers run many iterations on it).
    func problem() throws -> (CSRMatrix<Double>, Tensor<Double>) {
        let a = try randomSparse(rows: 30, columns: 20, perRow: 5, seed: 11)
        let positive = try CSRMatrix(rows: 30, columns: 20, rowPointers: a.rowPointers, columnIndices: a.columnIndices,
                                     values: a.values.map { abs($0) + 0.1 })
        return (positive, positive.apply(Tensor<Double>.normal([20], seed: 12).map { abs($0) + 0.5 }))
    }

    @Test func lsmr() throws {
        let (a, b) = try problem()
        let stop = Stopper(at: 3)
        let r = try LSMR.solve(a, rhs: b, configuration: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 50),
                               progress: stop.handle)
        #expect(r.stopReason == .cancelled && r.iterations == 3 && stop.reports.count == 3)
        #expect(r.diagnostics.istop == nil && r.residualHistory.count == 3)
        // Without a stop it runs on.
        let full = try LSMR.solve(a, rhs: b, configuration: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 10))
        #expect(full.iterations == 10 && full.stopReason == .lsmr(.iterationLimit))
    }

    @Test func cgls() throws {
        let (a, b) = try problem()
        let stop = Stopper(at: 2)
        let r = try CGLS.solve(a, rhs: b, configuration: .init(tolerance: 0, maximumIterations: 50), progress: stop.handle)
        #expect(r.stopReason == .cancelled && r.iterations == 2 && stop.reports.count == 2)
    }

    @Test(arguments: [SIRT.Weighting.sums, .cutoffs(rows: 0, columns: 0)])
    func sirt(weighting: SIRT.Weighting) throws {
        let (a, b) = try problem()
        let stop = Stopper(at: 4)
        let r = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 50, weighting: weighting), progress: stop.handle)
        #expect(r.stopReason == .cancelled && r.iterations == 4 && stop.reports.count == 4)
    }

    @Test func mlem() throws {
        let (a, b) = try problem()
        let stop = Stopper(at: 5)
        let r = try MLEM.solve(a, data: b, configuration: .init(maximumIterations: 50), progress: stop.handle)
        #expect(r.stopReason == .cancelled && r.iterations == 5 && stop.reports.count == 5)
    }

    @Test func optimizers() throws {
        let bowl: Objective<Double> = { x in
            (x.elements.reduce(0) { $0 + $1 * $1 }, Tensor(shape: x.shape, elements: x.elements.map { 2 * $0 }))
        }
        let start = Tensor([3.0, -2.0, 1.0])
        let s1 = Stopper(at: 2), s2 = Stopper(at: 2), s3 = Stopper(at: 1)
        let gd = try GradientDescent.minimize(bowl, from: start, configuration: .init(stepSize: 1e-3), progress: s1.handle)
        let adam = try Adam.minimize(bowl, from: start, progress: s2.handle)
        let lbfgs = try LBFGS.minimize(bowl, from: start, progress: s3.handle)
        #expect(gd.stopReason == .cancelled && gd.iterations == 2)
        #expect(adam.stopReason == .cancelled && adam.iterations == 2)
        #expect(lbfgs.stopReason == .cancelled && lbfgs.iterations == 1)
        #expect(gd.residualHistory.count == 2 && gd.residualNorm == gd.diagnostics.value)
    }

    /// mumott's form of SIRT over a plain sparse matrix: the weights with
    /// cut-offs 0 are the plain row/column-sum reciprocals, so with step 1
    /// and no momentum the first update equals ASTRA's form.
    @Test func sirtFormsAgreeOnTheFirstUpdate() throws {
        let (a, b) = try problem()
        let astra = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 1))
        let mumott = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 1, weighting: .cutoffs(rows: 0, columns: 0)))
        // Same arithmetic up to the sign of the residual: exact.
        #expect(astra.solution == mumott.solution)
        let momentum = try SIRT.solve(a, rhs: b, configuration: .init(maximumIterations: 30, weighting: .cutoffs(rows: 0, columns: 0),
                                                                       momentum: 0.5))
        #expect(momentum.residualHistory.last! < momentum.residualHistory.first!)
        #expect(throws: SolverError.self) { _ = try SIRT.solve(a, rhs: b, configuration: .init(momentum: 0.5)) }
    }
}
