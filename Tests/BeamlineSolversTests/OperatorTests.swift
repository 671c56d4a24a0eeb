import BeamlineTestSupport
import BeamlineOperators
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

/// A random sparse matrix (seeded), for operator tests.
func randomSparse(rows: Int, columns: Int, perRow: Int, seed: UInt64) throws -> CSRMatrix<Double> {
    var generator = Xoshiro256StarStar(seed: seed)
    var rowIndices: [Int] = [], columnIndices: [Int] = [], values: [Double] = []
    for r in 0..<rows {
        for _ in 0..<perRow {
            rowIndices.append(r)
            columnIndices.append(Int(generator.next() % UInt64(columns)))
            values.append(generator.nextStandardNormal())
        }
    }
    return try CSRMatrix(rows: rows, columns: columns, rowIndices: rowIndices, columnIndices: columnIndices, values: values)
}

@Suite("LinearOperator conformances and combinators")
struct OperatorTests {
    @Test("Dot-product adjoint test for every operator")
    func adjoints() throws {
        let a = try randomSparse(rows: 40, columns: 25, perRow: 4, seed: 1)
        let b = try randomSparse(rows: 40, columns: 25, perRow: 3, seed: 2)
        let c = try randomSparse(rows: 25, columns: 30, perRow: 5, seed: 3)
        let dense = try DenseMatrixOperator(Tensor<Double>.normal([40, 25], seed: 4))
        let diagonal = try DiagonalOperator(Tensor<Double>.normal([25], seed: 5))
        // Machine precision: sums of ~100 products each; 1e-14 relative is ~50 ulp.
        let tolerance = 1e-14
        #expect(adjointGap(a, seed: 10) <= tolerance)
        #expect(adjointGap(dense, seed: 11) <= tolerance)
        #expect(adjointGap(diagonal, seed: 12) <= tolerance)
        #expect(adjointGap(a.adjoint, seed: 13) <= tolerance)
        #expect(adjointGap(a.scaled(by: -2.5), seed: 14) <= tolerance)
        #expect(adjointGap(try SumOperator(a, dense), seed: 15) <= tolerance)
        #expect(adjointGap(try ProductOperator(a, c), seed: 16) <= tolerance)
        #expect(adjointGap(try VerticalStackOperator(a, b), seed: 17) <= tolerance)
        #expect(adjointGap(try VerticalStackOperator(a, diagonal), seed: 18) <= tolerance)
        #expect(adjointGap(try ProductOperator(diagonal, a.adjoint.scaled(by: 3)), seed: 19) <= tolerance)
    }

    @Test("Combinators compute what they say (against dense products)")
    func combinatorValues() throws {
        let a = try randomSparse(rows: 6, columns: 4, perRow: 2, seed: 7)
        let c = try randomSparse(rows: 4, columns: 3, perRow: 2, seed: 8)
        let x = Tensor<Double>.normal([3], seed: 9)
        let product = try ProductOperator(a, c).apply(x)
        let expected = a.apply(c.apply(x))
        #expect(maxAbsoluteError(product, expected) <= 1e-15)
        let stack = try VerticalStackOperator(a, a.scaled(by: 2)).apply(c.apply(x))
        #expect(stack.count == 12)
        #expect(maxAbsoluteError(Tensor(Array(stack.elements[0..<6])), expected) <= 1e-15)
        let dense = try DenseMatrixOperator(a.toDense())
        #expect(maxAbsoluteError(dense.apply(c.apply(x)), expected) <= 1e-14)
    }

    @Test("Shape mismatches are typed errors")
    func shapes() throws {
        let a = try randomSparse(rows: 6, columns: 4, perRow: 2, seed: 7)
        #expect(throws: ArgumentError.self) { _ = try SumOperator(a, a.adjoint) }
        #expect(throws: ArgumentError.self) { _ = try ProductOperator(a, a) }
        #expect(throws: ArgumentError.self) { _ = try VerticalStackOperator(a, a.adjoint) }
        #expect(throws: ArgumentError.self) { _ = try DenseMatrixOperator(Tensor<Double>([1, 2])) }
        #expect(throws: ArgumentError.nonFiniteValues(argument: "diagonal")) { _ = try DiagonalOperator(Tensor([1.0, .infinity])) }
        #expect(throws: ArgumentError.shapeMismatch(argument: "x", expected: [4], received: [3])) {
            _ = try a.checkedApply(Tensor([1.0, 2, 3]))
        }
    }
}
