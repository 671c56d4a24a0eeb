import BeamlineTestSupport
import BeamlineOperators
import BeamlineTensor
import Dispatch
import Testing

/// A dense matrix as rows of `Double`, with products written out as plain
/// loops (an independent reference: no BLAS, no operator code).
struct Reference {
    var rows: Int, columns: Int
    var a: [Double]  // row-major

    init(_ t: Tensor<Double>) { rows = t.shape[0]; columns = t.shape[1]; a = t.contiguous().elements }
    init(rows: Int, columns: Int, a: [Double]) { self.rows = rows; self.columns = columns; self.a = a }

    func times(_ x: [Double]) -> [Double] {
        (0..<rows).map { i in (0..<columns).reduce(0.0) { $0 + a[i * columns + $1] * x[$1] } }
    }
    var transposed: Reference {
        var t = [Double](repeating: 0, count: a.count)
        for i in 0..<rows { for j in 0..<columns { t[j * rows + i] = a[i * columns + j] } }
        return Reference(rows: columns, columns: rows, a: t)
    }
    static func * (l: Reference, r: Reference) -> Reference {
        var p = [Double](repeating: 0, count: l.rows * r.columns)
        for i in 0..<l.rows { for j in 0..<r.columns { for k in 0..<l.columns { p[i * r.columns + j] += l.a[i * l.columns + k] * r.a[k * r.columns + j] } } }
        return Reference(rows: l.rows, columns: r.columns, a: p)
    }
    static func + (l: Reference, r: Reference) -> Reference { Reference(rows: l.rows, columns: l.columns, a: zip(l.a, r.a).map(+)) }
    func scaled(_ f: Double) -> Reference { Reference(rows: rows, columns: columns, a: a.map { $0 * f }) }
    static func stacked(_ t: Reference, _ b: Reference) -> Reference { Reference(rows: t.rows + b.rows, columns: t.columns, a: t.a + b.a) }
    static func diagonal(_ d: [Double]) -> Reference {
        var a = [Double](repeating: 0, count: d.count * d.count)
        for i in d.indices { a[i * d.count + i] = d[i] }
        return Reference(rows: d.count, columns: d.count, a: a)
    }
}

/// Largest |a − b| over two equal-length arrays.
func gap(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Checks both products of `op` against `ref` on random vectors (full output).
func expectMatches<Op: LinearOperator>(_ op: Op, _ ref: Reference, seed: UInt64, _ what: String) where Op.Scalar == Double {
    #expect(op.rows == ref.rows && op.columns == ref.columns, "\(what) shape")
    let x = Tensor<Double>.normal([op.columns], seed: seed), y = Tensor<Double>.normal([op.rows], seed: seed + 1)
    let ax = op.apply(x).elements, aty = op.applyAdjoint(y).elements
    // Sums of ≤ 40 products of O(1) normals, in different orders: 1e-12 absolute.
    #expect(gap(ax, ref.times(x.elements)) <= 1e-12, "\(what) forward")
    #expect(gap(aty, ref.transposed.times(y.elements)) <= 1e-12, "\(what) adjoint")
}

@Suite("BeamlineOperators: combinator values, shapes, checked forms, workspaces")
struct CombinatorTests {
    let ta = Tensor<Double>.normal([7, 5], seed: 1), tb = Tensor<Double>.normal([7, 5], seed: 2)
    let tc = Tensor<Double>.normal([5, 4], seed: 3), td = Tensor<Double>.normal([3, 5], seed: 4)
    let diag = Tensor<Double>.normal([5], seed: 5)

    @Test("Every combinator equals its dense reference, forward and adjoint")
    func values() throws {
        let (a, b, c, d) = (try DenseMatrixOperator(ta), try DenseMatrixOperator(tb), try DenseMatrixOperator(tc),
                            try DenseMatrixOperator(td))
        let (ra, rb, rc, rd) = (Reference(ta), Reference(tb), Reference(tc), Reference(td))
        let dg = try DiagonalOperator(diag), rdg = Reference.diagonal(diag.elements)
        expectMatches(a, ra, seed: 10, "dense")
        expectMatches(a.adjoint, ra.transposed, seed: 11, "adjoint")
        expectMatches(a.scaled(by: -2.5), ra.scaled(-2.5), seed: 12, "scaled")
        expectMatches(try SumOperator(a, b), ra + rb, seed: 13, "sum")
        expectMatches(try ProductOperator(a, c), ra * rc, seed: 14, "product")
        expectMatches(try VerticalStackOperator(a, d), .stacked(ra, rd), seed: 15, "stack")
        expectMatches(dg, rdg, seed: 16, "diagonal")
        // Nested: a Tikhonov stack [A; λI] and a product with a sum inside.
        expectMatches(try VerticalStackOperator(a, dg.scaled(by: 0.5)), .stacked(ra, rdg.scaled(0.5)), seed: 17, "tikhonov")
        expectMatches(try ProductOperator(try SumOperator(a, b), dg), (ra + rb) * rdg, seed: 18, "sum·diag")
        for (k, op) in [try SumOperator(a, b).adjoint.scaled(by: 3)].enumerated() {
            expectMatches(op, (ra + rb).transposed.scaled(3), seed: 19 + UInt64(k), "scaled adjoint sum")
        }
    }

    @Test("Dot-product test for every combinator")
    func adjoints() throws {
        let (a, b, c) = (try DenseMatrixOperator(ta), try DenseMatrixOperator(tb), try DenseMatrixOperator(tc))
        let dg = try DiagonalOperator(diag)
        // ~10 products per sum: 1e-14 relative is ~50 ulp.
        #expect(adjointGap(try SumOperator(a, b), seed: 30) <= 1e-14)
        #expect(adjointGap(try ProductOperator(a, c), seed: 31) <= 1e-14)
        #expect(adjointGap(try VerticalStackOperator(a, dg), seed: 32) <= 1e-14)
        #expect(adjointGap(a.scaled(by: 7), seed: 33) <= 1e-14)
        #expect(adjointGap(dg, seed: 34) <= 1e-14)
    }

    @Test("apply takes any tensor of the right count and returns outputShape; checked forms throw ArgumentError")
    func shapesAndChecks() throws {
        let a = try DenseMatrixOperator(Tensor<Double>.normal([6, 4], seed: 40))
        #expect(a.inputShape == [4] && a.outputShape == [6])
        let x = Tensor<Double>.normal([4], seed: 41)
        #expect(a.apply(x.reshaped([2, 2])) == a.apply(x))
        #expect(a.apply(x).shape == [6])
        #expect(try a.checkedApply(x.reshaped([1, 4])) == a.apply(x))
        #expect(throws: ArgumentError.shapeMismatch(argument: "x", expected: [4], received: [3])) {
            _ = try a.checkedApply(Tensor([1.0, 2, 3]))
        }
        #expect(throws: ArgumentError.nonFiniteValues(argument: "y")) {
            _ = try a.checkedApplyAdjoint(Tensor([1.0, 2, 3, 4, 5, .nan]))
        }
        #expect(throws: ArgumentError.self) { _ = try SumOperator(a, a.adjoint) }
        #expect(throws: ArgumentError.self) { _ = try ProductOperator(a, a) }
        #expect(throws: ArgumentError.self) { _ = try VerticalStackOperator(a, a.adjoint) }
        #expect(throws: ArgumentError.nonFiniteValues(argument: "diagonal")) { _ = try DiagonalOperator(Tensor([1.0, .infinity])) }
        // Shapes pass through the combinators.
        #expect(a.adjoint.inputShape == [6] && a.adjoint.outputShape == [4])
    }

    @Test("One combinator applied from several threads at once gives the sequential results bit for bit")
    func concurrentUse() throws {
        let a = try DenseMatrixOperator(Tensor<Double>.normal([300, 200], seed: 50))
        let b = try DenseMatrixOperator(Tensor<Double>.normal([300, 200], seed: 51))
        let op = try VerticalStackOperator(try SumOperator(a, b), try DiagonalOperator(Tensor<Double>.normal([200], seed: 52)))
        let inputs = (0..<8).map { Tensor<Double>.normal([op.rows], seed: 60 + UInt64($0)) }
        let expected = inputs.map { op.applyAdjoint($0) }
        struct Slots: @unchecked Sendable { let base: UnsafeMutablePointer<Tensor<Double>?> }
        let slots = Slots(base: .allocate(capacity: 8))
        slots.base.initialize(repeating: nil, count: 8)
        defer { slots.base.deinitialize(count: 8); slots.base.deallocate() }
        nonisolated(unsafe) let shared = op
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            slots.base[i] = shared.applyAdjoint(inputs[i])  // one slot per thread
        }
        for i in 0..<8 { #expect(slots.base[i] == expected[i]) }
    }
}
