import BeamlineTestSupport
import BeamlineIO
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

/// Fixture values come from Tests/Fixtures/generate_sparse.py (SciPy 1.17,
/// NumPy 2.4): `sparse.json` and the `.npz` files in Fixtures/.
@Suite("CSRMatrix construction, operations and products against SciPy")
struct CSRMatrixTests {
    let f: Fixtures
    init() throws { f = try Fixtures.load("sparse.json") }

    func ints(_ name: String) throws -> [Int] { try f.entry(name).data.map { Int($0) } }
    func doubles(_ name: String) throws -> [Double] { try f.entry(name).data }

    /// The matrix built from the COO triplets (with duplicates), as
    /// `coo_array(...).tocsr()` builds it.
    func matrix() throws -> CSRMatrix<Double> {
        let dense = try f.entry("dense")
        return try CSRMatrix(rows: dense.shape[0], columns: dense.shape[1], rowIndices: ints("coo_rows"),
                             columnIndices: ints("coo_cols"), values: doubles("coo_vals"))
    }

    @Test("COO with duplicates gives SciPy's canonical CSR (tocsr)")
    func cooMatchesSciPy() throws {
        let a = try matrix()
        #expect(a.rowPointers == (try ints("csr_indptr")).map { Int64($0) })
        #expect(a.columnIndices == (try ints("csr_indices")).map { Int32($0) })
        // Duplicates are pairs, so the sums are exact whatever the order.
        #expect(a.values == (try doubles("csr_data")))
        #expect(a.toDense() == (try f.real("dense")))
    }

    @Test("Dense round trip, subscript, builder and raw arrays agree")
    func constructionsAgree() throws {
        let a = try matrix().eliminatingZeros()
        let fromDense = try CSRMatrix(dense: f.real("dense"))
        #expect(fromDense == a)
        #expect(a.rowPointers == (try ints("nz_indptr")).map { Int64($0) })
        let raw = try CSRMatrix<Double>(rows: a.rows, columns: a.columns, rowPointers: a.rowPointers,
                                        columnIndices: a.columnIndices, values: a.values)
        #expect(raw == a)
        let dense = try f.real("dense")
        for r in 0..<a.rows { for c in 0..<a.columns { #expect(a[r, c] == dense[at: r, c]) } }
        // Builder fed in reverse column order per row sorts back.
        var builder = CSRBuilder<Double>(columns: a.columns)
        for r in 0..<a.rows {
            for k in (Int(a.rowPointers[r])..<Int(a.rowPointers[r + 1])).reversed() {
                try builder.append(column: Int(a.columnIndices[k]), value: a.values[k])
            }
            builder.endRow()
        }
        #expect(try builder.build() == a)
    }

    @Test("SpMV, transposed SpMV, alpha-beta and sparse × dense equal SciPy")
    func products() throws {
        let a = try matrix()
        let x = try f.real("x"), y = try f.real("y")
        // Each output is a short sum in storage order, as SciPy's csr_matvec sums; allow 1 ulp-level slack.
        #expect(maxAbsoluteError(a.apply(x), try f.real("Ax")) <= 1e-15)
        #expect(maxAbsoluteError(a.applyAdjoint(y), try f.real("ATy")) <= 1e-15)
        var out = y
        try a.multiply(x, into: &out, alpha: 2.5, beta: -0.5)
        #expect(maxAbsoluteError(out, try f.real("axpby")) <= 1e-14)
        let ab = try a.multiply(dense: f.real("B"))
        #expect(maxAbsoluteError(ab, try f.real("AB")) <= 1e-14)
        // float32: SciPy computes in float32 too.
        let a32 = try CSRMatrix<Float>(dense: f.real("dense", as: Float.self))
        let ax32 = a32.apply(try f.real("x32", as: Float.self))
        let aty32 = a32.applyAdjoint(try f.real("y32", as: Float.self))
        #expect(maxAbsoluteError(ax32, try f.real("Ax32", as: Float.self)) <= 1e-5)
        #expect(maxAbsoluteError(aty32, try f.real("ATy32", as: Float.self)) <= 1e-5)
    }

    @Test("Transpose, sums, diagonal, scaling and zero elimination equal SciPy")
    func operations() throws {
        let a = try matrix()
        let t = a.transposed()
        #expect(t.rowPointers == (try ints("T_indptr")).map { Int64($0) })
        #expect(t.columnIndices == (try ints("T_indices")).map { Int32($0) })
        #expect(t.values == (try doubles("T_data")))
        #expect(t.transposed() == a)
        #expect(maxAbsoluteError(a.rowSums(), try f.real("row_sums")) <= 1e-15)
        #expect(maxAbsoluteError(a.columnSums(), try f.real("col_sums")) <= 1e-15)
        #expect(a.diagonal() == (try f.real("diagonal")))
        let nz = a.eliminatingZeros()
        #expect(nz.values == (try doubles("nz_data")))
        #expect(nz.columnIndices == (try ints("nz_indices")).map { Int32($0) })
        let rowFactors = Tensor<Double>((0..<a.rows).map { Double($0) + 0.5 })
        let columnFactors = Tensor<Double>((0..<a.columns).map { 2 - Double($0) * 0.25 })
        let scaled = try a.scalingRows(by: rowFactors).scalingColumns(by: columnFactors)
        let dense = a.toDense()
        let expected = dense * rowFactors.reshaped([a.rows, 1]) * columnFactors.reshaped([1, a.columns])
        #expect(maxAbsoluteError(scaled.toDense(), expected) <= 1e-15)
        // Mutating after a transposed product must not reuse the stale transpose.
        var m = a
        let y = try f.real("y")
        _ = m.applyAdjoint(y)
        try m.scaleRows(by: rowFactors)
        #expect(maxAbsoluteError(m.applyAdjoint(y), m.transposed().apply(y)) == 0)
    }

    @Test("Parallel block builder gives the same matrix for any block size and thread count")
    func parallelBuilder() throws {
        func make(block: Int) throws -> CSRMatrix<Double> {
            try CSRMatrix<Double>.build(rows: 1000, columns: 700, rowsPerBlock: block) { range, builder in
                for r in range {
                    for j in 0..<(r % 5) { try builder.append(column: (r * 31 + j * 97) % 700, value: Double(r - j) * 0.5) }
                    try builder.append(column: r % 700, value: 1)  // may repeat a column: summed
                    builder.endRow()
                }
            }
        }
        let serial = try Parallel.withThreadCount(1) { try make(block: 1000) }
        try Parallel.withThreadCount(2) { () throws in
            #expect(try make(block: 7) == serial)
            #expect(try make(block: 128) == serial)
        }
        #expect(serial.rows == 1000 && serial.nonzeroCount > 2000)
        // A block that closes too few rows is a typed error.
        #expect(throws: SparseError.self) {
            _ = try CSRMatrix<Double>.build(rows: 10, columns: 3, rowsPerBlock: 4) { range, builder in
                if range.lowerBound != 4 { for _ in range { builder.endRow() } }
            }
        }
    }

    @Test("Bounded parallel build writes in place and equals the builder's matrix")
    func boundedBuild() throws {
        @Sendable func rowEntries(_ r: Int) -> [(Int, Double)] {
            var entries: [(Int, Double)] = []
            for j in 0..<(r % 5) { entries.append(((r * 31 + j * 97) % 700, Double(r - j) * 0.5)) }
            entries.append((r % 700, 1.0))
            return entries
        }
        @Sendable func bound(_ range: Range<Int>, _ slack: Int) -> Int {
            var total = 0
            for r in range { total += rowEntries(r).count + slack }
            return total
        }
        let reference = try CSRMatrix<Double>.build(rows: 1000, columns: 700, rowsPerBlock: 64) { range, builder in
            for r in range {
                for (c, v) in rowEntries(r) { try builder.append(column: c, value: v) }
                builder.endRow()
            }
        }
        func make(block: Int, slack: Int) throws -> CSRMatrix<Double> {
            try CSRMatrix<Double>.build(rows: 1000, columns: 700, rowsPerBlock: block,
                                        entryBound: { bound($0, slack) }) { range, writer in
                for r in range {
                    for (c, v) in rowEntries(r) { try writer.append(column: c, value: v) }  // unsorted, repeats summed
                    writer.endRow()
                }
            }
        }
        let serial = try Parallel.withThreadCount(1) { try make(block: 1000, slack: 0) }
        #expect(serial == reference)
        try Parallel.withThreadCount(2) { () throws in
            #expect(try make(block: 7, slack: 3) == reference)
            #expect(try make(block: 128, slack: 0) == reference)
        }
        // A bound that is too small and a block that closes too few rows are typed errors.
        #expect(throws: SparseError.self) {
            _ = try CSRMatrix<Double>.build(rows: 10, columns: 3, rowsPerBlock: 4, entryBound: { _ in 1 }) { range, writer in
                for _ in range { try writer.append(column: 0, value: 1); writer.endRow() }
            }
        }
        #expect(throws: SparseError.self) {
            _ = try CSRMatrix<Double>.build(rows: 10, columns: 3, rowsPerBlock: 4, entryBound: { _ in 0 }) { range, writer in
                if range.lowerBound != 4 { for _ in range { writer.endRow() } }
            }
        }
    }

    /// A row longer than the insertion-sort cut-off (32 entries), appended
    /// in reverse column order with every column twice: both builders sort
    /// it and sum the repeats as SciPy's `tocsr` does (expected values are
    /// exact by hand: 1 + 2 = 3 in every column 0..<40).
    @Test("Long unsorted rows with repeats: builder and bounded writer sort and sum them")
    func longUnsortedRows() throws {
        let order = (0..<40).reversed().flatMap { [($0, 1.0), ($0, 2.0)] }
        var builder = CSRBuilder<Double>(columns: 40)
        for (c, v) in order { try builder.append(column: c, value: v) }
        builder.endRow()
        let viaBuilder = try builder.build()
        let viaWriter = try CSRMatrix<Double>.build(rows: 1, columns: 40, rowsPerBlock: 1,
                                                    entryBound: { _ in order.count }) { range, writer in
            for _ in range {
                for (c, v) in order { try writer.append(column: c, value: v) }
                writer.endRow()
            }
        }
        for m in [viaBuilder, viaWriter] {
            #expect(m.rowPointers == [0, 40])
            #expect(m.columnIndices == (0..<40).map { Int32($0) })
            #expect(m.values == [Double](repeating: 3, count: 40))
        }
    }

    @Test("Products are bit-identical with 1 and 2 threads")
    func threadDeterminism() throws {
        // 60 000 rows: above the 4096-row chunk threshold, so 2 threads really split the work.
        let n = 60_000
        let a = try CSRMatrix<Double>.build(rows: n, columns: n, rowsPerBlock: 4096) { range, builder in
            for r in range {
                for j in 0..<4 { try builder.append(column: (r &* 7919 &+ j &* 104_729) % n, value: 1 / Double(r + j + 1)) }
                builder.endRow()
            }
        }
        let x = Tensor<Double>((0..<n).map { sin(Double($0)) })
        let (y1, t1, d1) = try Parallel.withThreadCount(1) {
            (a.apply(x), a.applyAdjoint(x),
             try a.multiply(dense: Tensor(shape: [n, 2], elements: (0..<2 * n).map { cos(Double($0)) })))
        }
        try Parallel.withThreadCount(2) {
            let fresh = try CSRMatrix(rows: a.rows, columns: a.columns, rowPointers: a.rowPointers,
                                      columnIndices: a.columnIndices, values: a.values)
            #expect(fresh.apply(x) == y1)
            #expect(fresh.applyAdjoint(x) == t1)
            #expect(try fresh.multiply(dense: Tensor(shape: [n, 2], elements: (0..<2 * n).map { cos(Double($0)) })) == d1)
        }
    }
}

@Suite("CSRMatrix bad input gives typed errors")
struct CSRValidationTests {
    @Test("Raw arrays: each defect is its own error")
    func rawArrays() {
        func make(_ p: [Int64], _ c: [Int32], _ v: [Double], rows: Int = 2, columns: Int = 3) throws(SparseError) {
            _ = try CSRMatrix<Double>(rows: rows, columns: columns, rowPointers: p, columnIndices: c, values: v)
        }
        #expect(throws: SparseError.rowPointerNotMonotone(row: 1, start: 2, end: 1)) { try make([0, 2, 1], [0], [1]) }
        #expect(throws: SparseError.rowPointerBounds(first: 1, last: 2, nonzeroCount: 2)) { try make([1, 1, 2], [0, 1], [1, 2]) }
        #expect(throws: SparseError.lengthMismatch(argument: "rowPointers (indptr)", expected: 3, received: 2)) {
            try make([0, 1], [0], [1])
        }
        #expect(throws: SparseError.unsortedColumnIndices(row: 0, position: 1)) { try make([0, 2, 2], [2, 0], [1, 2]) }
        #expect(throws: SparseError.unsortedColumnIndices(row: 1, position: 1)) { try make([0, 0, 2], [1, 1], [1, 2]) }
        #expect(throws: SparseError.indexOutOfRange(argument: "columnIndices (indices)", position: 1, index: 3, bound: 3)) {
            try make([0, 1, 2], [0, 3], [1, 2])
        }
        #expect(throws: SparseError.indexOutOfRange(argument: "columnIndices (indices)", position: 0, index: -1, bound: 3)) {
            try make([0, 1, 1], [-1], [1])
        }
        #expect(throws: SparseError.nonFiniteValue(argument: "values (data)", position: 1)) {
            try make([0, 1, 2], [0, 1], [1, .nan])
        }
        #expect(throws: SparseError.self) { try make([0], [], [], rows: -1) }
        // Canonicalising accepts unsorted and duplicate columns.
        let fixed = try? CSRMatrix<Double>(canonicalizingRows: 2, columns: 3, rowPointers: [0, 3, 3],
                                           columnIndices: [2, 0, 2], values: [1, 2, 3])
        #expect(fixed?.columnIndices == [0, 2] && fixed?.values == [2, 4])
    }

    @Test("COO, dense, builder and products")
    func otherEntryPoints() throws {
        #expect(throws: SparseError.indexOutOfRange(argument: "rowIndices", position: 0, index: 5, bound: 2)) {
            _ = try CSRMatrix<Double>(rows: 2, columns: 2, rowIndices: [5], columnIndices: [0], values: [1])
        }
        #expect(throws: SparseError.lengthMismatch(argument: "columnIndices", expected: 1, received: 2)) {
            _ = try CSRMatrix<Double>(rows: 2, columns: 2, rowIndices: [0], columnIndices: [0, 1], values: [1])
        }
        #expect(throws: SparseError.nonFiniteValue(argument: "values", position: 0)) {
            _ = try CSRMatrix<Float>(rows: 2, columns: 2, rowIndices: [0], columnIndices: [0], values: [.infinity])
        }
        // Summing duplicates can overflow to infinity: still an error.
        #expect(throws: SparseError.self) {
            _ = try CSRMatrix<Float>(rows: 1, columns: 1, rowIndices: [0, 0], columnIndices: [0, 0],
                                     values: [.greatestFiniteMagnitude, .greatestFiniteMagnitude])
        }
        #expect(throws: SparseError.self) { _ = try CSRMatrix<Double>(dense: Tensor([1.0, 2.0])) }
        #expect(throws: SparseError.nonFiniteValue(argument: "dense", position: 1)) {
            _ = try CSRMatrix<Double>(dense: Tensor(shape: [1, 2], elements: [1, .nan]))
        }
        var builder = CSRBuilder<Double>(columns: 2)
        #expect(throws: SparseError.self) { try builder.append(column: 2, value: 1) }
        #expect(throws: SparseError.self) { try builder.append(column: 0, value: .nan) }
        try builder.append(column: 1, value: 1)
        #expect(throws: SparseError.self) { _ = try builder.build() }  // row still open
        builder.endRow()
        #expect(try builder.build().nonzeroCount == 1)
        let a = try CSRMatrix<Double>.identity(3)
        #expect(throws: ArgumentError.shapeMismatch(argument: "x", expected: [3], received: [4])) {
            _ = try a.checkedApply(Tensor([1.0, 2, 3, 4]))
        }
        #expect(throws: ArgumentError.self) { _ = try a.checkedApplyAdjoint(Tensor([1.0])) }
        #expect(throws: SparseError.self) { _ = try a.multiply(dense: Tensor(shape: [2, 2], repeating: 1.0)) }
        var a2 = a
        #expect(throws: SparseError.self) { try a2.scaleRows(by: Tensor([1.0])) }
        // Empty matrices are valid values (as in SciPy); products on them are no-ops.
        let empty = try CSRMatrix<Double>(zeros: 0, columns: 4)
        #expect(empty.apply(Tensor([1.0, 2, 3, 4])).count == 0)
        #expect(empty.applyAdjoint(Tensor<Double>([])) == Tensor([0.0, 0, 0, 0]))
    }
}
