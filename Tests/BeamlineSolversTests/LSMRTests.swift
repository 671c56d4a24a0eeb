import BeamlineTestSupport
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

/// Expected values: `scipy.sparse.linalg.lsmr` (SciPy 1.17) on the same
/// matrices and right-hand sides, from Tests/Fixtures/generate_sparse.py
/// (solvers.json: `<case>_A`, `_b`, `_params` = damp, atol, btol, conlim,
/// maxiter (-1 = default), `_x`, `_stats` = istop, itn, normr, normar,
/// norma, conda, normx).
@Suite("LSMR against scipy.sparse.linalg.lsmr")
struct LSMRTests {
    static let cases = ["well", "compatible", "ill", "ill_conlim", "damped", "tall", "wide", "zero_rhs", "maxiter", "x0"]

    @Test("x, istop, itn and the norms match SciPy", arguments: cases)
    func matchesSciPy(name: String) throws {
        let f = try Fixtures.load("solvers.json")
        let a = try CSRMatrix(dense: f.real("\(name)_A"))
        let b = try f.real("\(name)_b")
        let p = try f.entry("\(name)_params").data
        let stats = try f.entry("\(name)_stats").data
        let x0 = f.entries["\(name)_x0"] != nil ? try f.real("\(name)_x0") : nil
        let configuration = LSMR.Configuration(damp: p[0], atol: p[1], btol: p[2], conlim: p[3],
                                               maximumIterations: p[4] < 0 ? nil : Int(p[4]))
        var reports = 0
        let result = try LSMR.solve(a, rhs: b, x0: x0, configuration: configuration) { _ in reports += 1; return .continue }
        // The same recurrences in the same order: only the dot products (BLAS in NumPy, fixed-order
        // blocks here) round differently, so after ≤ 13 iterations the iterates agree to ~1e-12
        // relative to ‖x‖ even for the ill-conditioned case (cond ≈ 1e6 · cond of the base matrix,
        // where 1e-9 is the honest bound); istop and itn must agree exactly.
        let expected = try f.real("\(name)_x")
        let scale = max(1, expected.elements.map { abs($0) }.max() ?? 0)
        let tolerance = name.hasPrefix("ill") ? 1e-9 : 1e-11
        #expect(maxAbsoluteError(result.solution, expected) <= tolerance * scale, "\(name)")
        #expect(result.diagnostics.istop?.istop == Int(stats[0]), "\(name)")
        #expect(result.iterations == Int(stats[1]), "\(name)")
        #expect(reports == result.iterations)
        let norms = [result.residualNorm, result.diagnostics.normalResidualNorm, result.diagnostics.operatorNorm,
                     result.diagnostics.conditionEstimate, result.diagnostics.solutionNorm]
        for (k, (mine, theirs)) in zip(norms, stats[2...]).enumerated() {
            // normar near convergence is a small difference of rounded numbers: compare it absolutely
            // against ‖A‖‖r‖·1e-9; the others relatively.
            let slack = k == 1 ? 1e-9 * max(1, result.diagnostics.operatorNorm * result.residualNorm) : 1e-9 * max(1, abs(theirs))
            #expect(abs(mine - theirs) <= slack, "\(name) norm \(k): \(mine) vs \(theirs)")
        }
    }

    @Test("Float matrices solve the well-posed case to single precision")
    func float32() throws {
        let f = try Fixtures.load("solvers.json")
        let a = try CSRMatrix(dense: f.real("compatible_A", as: Float.self))
        let result = try LSMR.solve(a, rhs: f.real("compatible_b", as: Float.self))
        let expected = try f.real("compatible_x", as: Float.self)
        // Stopped by btol = 1e-6 with cond(A) ≈ 10² in float32 vectors: ~1e-4 relative is the honest bound.
        #expect(maxAbsoluteError(result.solution, expected) <= 1e-3 * max(1, Double(expected.elements.map { abs($0) }.max()!)))
    }

    @Test("Bit-identical with 1 and 2 threads on a matrix large enough to split")
    func threads() throws {
        let n = 50_000
        let a = try CSRMatrix<Double>.build(rows: n, columns: n / 2, rowsPerBlock: 4096) { range, builder in
            for r in range {
                try builder.append(column: r / 2, value: 2)
                try builder.append(column: (r &* 7919) % (n / 2), value: 0.5 + Double(r % 7) * 0.1)
                builder.endRow()
            }
        }
        let b = Tensor<Double>((0..<n).map { cos(Double($0) * 0.01) })
        let configuration = LSMR.Configuration(maximumIterations: 30)
        let one = try Parallel.withThreadCount(1) { try LSMR.solve(a, rhs: b, configuration: configuration) }
        let two = try Parallel.withThreadCount(2) {
            let fresh = try CSRMatrix(rows: a.rows, columns: a.columns, rowPointers: a.rowPointers,
                                      columnIndices: a.columnIndices, values: a.values)
            return try LSMR.solve(fresh, rhs: b, configuration: configuration)
        }
        #expect(one.solution == two.solution)
        #expect(one.residualNorm == two.residualNorm && one.iterations == two.iterations)
    }

    @Test("Bad input is a typed error")
    func badInput() throws {
        let a = try CSRMatrix<Double>.identity(3)
        #expect(throws: SolverError.shapeMismatch(argument: "b (right-hand side)", expected: [3], received: [2])) {
            _ = try LSMR.solve(a, rhs: Tensor([1.0, 2]))
        }
        #expect(throws: SolverError.nonFiniteValues(argument: "b (right-hand side)")) {
            _ = try LSMR.solve(a, rhs: Tensor([1.0, .nan, 2]))
        }
        #expect(throws: SolverError.shapeMismatch(argument: "x0", expected: [3], received: [1])) {
            _ = try LSMR.solve(a, rhs: Tensor([1.0, 1, 2]), x0: Tensor([1.0]))
        }
        #expect(throws: SolverError.self) {
            _ = try LSMR.solve(a, rhs: Tensor([1.0, 1, 2]), configuration: .init(damp: -1))
        }
        #expect(throws: SolverError.self) {
            _ = try LSMR.solve(a, rhs: Tensor([1.0, 1, 2]), configuration: .init(maximumIterations: -1))
        }
        let empty = try CSRMatrix<Double>(zeros: 0, columns: 3)
        #expect(throws: SolverError.emptyOperator(rows: 0, columns: 3)) {
            _ = try LSMR.solve(empty, rhs: Tensor<Double>([]))
        }
    }
}
