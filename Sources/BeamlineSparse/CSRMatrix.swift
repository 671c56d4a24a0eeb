import BeamlineOperators
import BeamlineTensor
import Synchronization

/// A sparse matrix in compressed sparse row (CSR) form, as
/// `scipy.sparse.csr_array` stores it: per row, the column indices and
/// values of its stored entries.
///
/// - ``rowPointers`` (`indptr`, 64-bit, so the entry count may pass 2³¹):
///   row `i` holds the entries at storage positions
///   `rowPointers[i]..<rowPointers[i + 1]`.
/// - ``columnIndices`` (`indices`, 32-bit): the column of each entry.
/// - ``values`` (`data`): the value of each entry.
///
/// A `CSRMatrix` is always in SciPy's *canonical form*: within each row the
/// column indices are strictly increasing (sorted, no duplicates), and every
/// value is finite. The throwing initialisers check this and report a
/// ``SparseError`` otherwise; the COO initialiser and the builders sort and
/// sum duplicates as SciPy does. Explicit zeros may be stored (as in SciPy)
/// until ``eliminateZeros()`` removes them.
///
/// It is a value type (its arrays are copy-on-write). Products with vectors
/// run in parallel through `Parallel` and give identical bits for every
/// thread count; transposed products use a transposed copy built on first
/// use and kept with the matrix (see ``multiplyTransposed(_:into:alpha:beta:)``).
public struct CSRMatrix<Element: OperatorScalar>: Sendable {
    @usableFromInline var _rows: Int
    @usableFromInline var _columns: Int
    @usableFromInline var _rowPointers: [Int64]
    @usableFromInline var _columnIndices: [Int32]
    @usableFromInline var _values: [Element]
    /// Holds the transposed copy once built; replaced on every mutation.
    @usableFromInline var transposeCache: TransposeCache<Element>

    /// Number of rows.
    @inlinable public var rows: Int { _rows }
    /// Number of columns.
    @inlinable public var columns: Int { _columns }
    /// `[rows, columns]`.
    @inlinable public var shape: [Int] { [_rows, _columns] }
    /// Number of stored entries (SciPy's `nnz`; explicit zeros count).
    @inlinable public var nonzeroCount: Int { _values.count }
    /// Row pointers (`indptr`), `rows + 1` entries from 0 to ``nonzeroCount``.
    @inlinable public var rowPointers: [Int64] { _rowPointers }
    /// Column index of each stored entry (`indices`), sorted within rows.
    @inlinable public var columnIndices: [Int32] { _columnIndices }
    /// Value of each stored entry (`data`).
    @inlinable public var values: [Element] { _values }

    /// Assembles a matrix from parts that are known to be canonical.
    @usableFromInline
    init(uncheckedRows rows: Int, columns: Int, rowPointers: [Int64], columnIndices: [Int32], values: [Element]) {
        _rows = rows
        _columns = columns
        _rowPointers = rowPointers
        _columnIndices = columnIndices
        _values = values
        transposeCache = TransposeCache()
    }

    /// The largest number of columns: column indices are `Int32`.
    public static var maximumColumns: Int { Int(Int32.max) + 1 }

    /// Checks a shape.
    static func checkDimensions(rows: Int, columns: Int) throws(SparseError) {
        guard rows >= 0, columns >= 0 else {
            throw .invalidDimensions(rows: rows, columns: columns, reason: "lengths must be non-negative")
        }
        guard columns <= maximumColumns else {
            throw .invalidDimensions(rows: rows, columns: columns, reason: "at most 2^31 columns (32-bit column indices)")
        }
        // rows + 1 row pointers must be countable.
        guard rows < Int.max else {
            throw .invalidDimensions(rows: rows, columns: columns, reason: "at most Int.max - 1 rows")
        }
    }

    /// A matrix from its CSR arrays (SciPy's `csr_array((data, indices,
    /// indptr), shape=(rows, columns))`), checked.
    ///
    /// - Throws: ``SparseError/lengthMismatch(argument:expected:received:)``
    ///   when `rowPointers` does not have `rows + 1` entries or
    ///   `columnIndices` and `values` differ in length;
    ///   ``SparseError/rowPointerBounds(first:last:nonzeroCount:)``,
    ///   ``SparseError/rowPointerNotMonotone(row:start:end:)``,
    ///   ``SparseError/indexOutOfRange(argument:position:index:bound:)``,
    ///   ``SparseError/unsortedColumnIndices(row:position:)`` (use
    ///   ``init(canonicalizingRows:columns:rowPointers:columnIndices:values:)``
    ///   to sort and sum duplicates instead) and
    ///   ``SparseError/nonFiniteValue(argument:position:)``.
    public init(rows: Int, columns: Int, rowPointers: [Int64], columnIndices: [Int32],
                values: [Element]) throws(SparseError) {
        try Self.checkDimensions(rows: rows, columns: columns)
        try Self.checkStructure(rows: rows, columns: columns, rowPointers: rowPointers,
                                columnIndices: columnIndices, values: values, requireSorted: true)
        self.init(uncheckedRows: rows, columns: columns, rowPointers: rowPointers,
                  columnIndices: columnIndices, values: values)
    }

    /// A matrix from CSR arrays whose rows may be unsorted or hold
    /// duplicate columns: entries are sorted by column and duplicates summed,
    /// as SciPy's `sum_duplicates()` does. Other checks are those of
    /// ``init(rows:columns:rowPointers:columnIndices:values:)``.
    public init(canonicalizingRows rows: Int, columns: Int, rowPointers: [Int64], columnIndices: [Int32],
                values: [Element]) throws(SparseError) {
        try Self.checkDimensions(rows: rows, columns: columns)
        try Self.checkStructure(rows: rows, columns: columns, rowPointers: rowPointers,
                                columnIndices: columnIndices, values: values, requireSorted: false)
        var rowIndices = [Int](repeating: 0, count: values.count)
        for row in 0..<rows {
            for position in Int(rowPointers[row])..<Int(rowPointers[row + 1]) { rowIndices[position] = row }
        }
        try self.init(rows: rows, columns: columns, rowIndices: rowIndices,
                      columnIndices: columnIndices.map { Int($0) }, values: values)
    }

    /// Checks CSR arrays; throws the first problem found.
    static func checkStructure(rows: Int, columns: Int, rowPointers: [Int64], columnIndices: [Int32],
                               values: [Element], requireSorted: Bool) throws(SparseError) {
        guard rowPointers.count == rows + 1 else {
            throw .lengthMismatch(argument: "rowPointers (indptr)", expected: rows + 1, received: rowPointers.count)
        }
        guard columnIndices.count == values.count else {
            throw .lengthMismatch(argument: "columnIndices (indices)", expected: values.count,
                                  received: columnIndices.count)
        }
        guard rowPointers[0] == 0, rowPointers[rows] == Int64(values.count) else {
            throw .rowPointerBounds(first: rowPointers[0], last: rowPointers[rows], nonzeroCount: values.count)
        }
        for row in 0..<rows where rowPointers[row] > rowPointers[row + 1] {
            throw .rowPointerNotMonotone(row: row, start: rowPointers[row], end: rowPointers[row + 1])
        }
        for row in 0..<rows {
            let start = Int(rowPointers[row]), end = Int(rowPointers[row + 1])
            var previous: Int32 = -1
            for position in start..<end {
                let column = columnIndices[position]
                guard column >= 0 && Int(column) < columns else {
                    throw .indexOutOfRange(argument: "columnIndices (indices)", position: position,
                                           index: Int64(column), bound: columns)
                }
                if requireSorted && column <= previous {
                    throw .unsortedColumnIndices(row: row, position: position)
                }
                previous = column
            }
        }
        try checkFinite(values, argument: "values (data)")
    }

    /// Throws ``SparseError/nonFiniteValue(argument:position:)`` for the
    /// first NaN or infinity.
    static func checkFinite(_ values: [Element], argument: String) throws(SparseError) {
        let bad: Int? = values.withUnsafeBufferPointer { buffer in
            if Tensor.allElementsFinite(buffer) { return nil }
            return buffer.firstIndex { !$0.isFinite }
        }
        if let bad { throw .nonFiniteValue(argument: argument, position: bad) }
    }

    /// An all-zero matrix (no stored entries).
    public init(zeros rows: Int, columns: Int) throws(SparseError) {
        try Self.checkDimensions(rows: rows, columns: columns)
        self.init(uncheckedRows: rows, columns: columns, rowPointers: [Int64](repeating: 0, count: rows + 1),
                  columnIndices: [], values: [])
    }

    /// The `n`×`n` identity.
    public static func identity(_ n: Int) throws(SparseError) -> CSRMatrix {
        try checkDimensions(rows: n, columns: n)
        return CSRMatrix(uncheckedRows: n, columns: n, rowPointers: (0...n).map { Int64($0) },
                         columnIndices: (0..<n).map { Int32($0) }, values: [Element](repeating: 1, count: n))
    }

    // MARK: - COO

    /// A matrix from coordinate (COO) triplets: entry `k` adds `values[k]`
    /// at (`rowIndices[k]`, `columnIndices[k]`). Repeated coordinates are
    /// summed (in input order) and explicit zeros are kept, as
    /// `scipy.sparse.coo_array((values, (rows, cols)), shape).tocsr()` does.
    ///
    /// - Throws: ``SparseError/lengthMismatch(argument:expected:received:)``,
    ///   ``SparseError/indexOutOfRange(argument:position:index:bound:)`` and
    ///   ``SparseError/nonFiniteValue(argument:position:)``.
    public init(rows: Int, columns: Int, rowIndices: [Int], columnIndices: [Int],
                values: [Element]) throws(SparseError) {
        try Self.checkDimensions(rows: rows, columns: columns)
        let count = values.count
        guard rowIndices.count == count else {
            throw .lengthMismatch(argument: "rowIndices", expected: count, received: rowIndices.count)
        }
        guard columnIndices.count == count else {
            throw .lengthMismatch(argument: "columnIndices", expected: count, received: columnIndices.count)
        }
        for k in 0..<count {
            guard rowIndices[k] >= 0 && rowIndices[k] < rows else {
                throw .indexOutOfRange(argument: "rowIndices", position: k, index: Int64(rowIndices[k]), bound: rows)
            }
            guard columnIndices[k] >= 0 && columnIndices[k] < columns else {
                throw .indexOutOfRange(argument: "columnIndices", position: k, index: Int64(columnIndices[k]),
                                       bound: columns)
            }
        }
        try Self.checkFinite(values, argument: "values")
        // Two stable counting sorts (by column, then by row) order the
        // entries by (row, column) with ties in input order.
        var next = [Int](repeating: 0, count: columns + 1)
        for k in 0..<count { next[columnIndices[k] + 1] += 1 }
        for c in 0..<columns { next[c + 1] += next[c] }
        var byColumn = [Int](repeating: 0, count: count)
        for k in 0..<count {
            byColumn[next[columnIndices[k]]] = k
            next[columnIndices[k]] += 1
        }
        var rowStart = [Int](repeating: 0, count: rows + 1)
        for k in 0..<count { rowStart[rowIndices[k] + 1] += 1 }
        for r in 0..<rows { rowStart[r + 1] += rowStart[r] }
        var order = [Int](repeating: 0, count: count)
        var fill = rowStart
        for k in byColumn {
            order[fill[rowIndices[k]]] = k
            fill[rowIndices[k]] += 1
        }
        var pointers = [Int64](repeating: 0, count: rows + 1)
        var outColumns: [Int32] = []
        var outValues: [Element] = []
        outColumns.reserveCapacity(count)
        outValues.reserveCapacity(count)
        for r in 0..<rows {
            var position = rowStart[r]
            while position < rowStart[r + 1] {
                let column = columnIndices[order[position]]
                var sum = values[order[position]]
                position += 1
                while position < rowStart[r + 1] && columnIndices[order[position]] == column {
                    sum += values[order[position]]
                    position += 1
                }
                outColumns.append(Int32(column))
                outValues.append(sum)
            }
            pointers[r + 1] = Int64(outValues.count)
        }
        try Self.checkFinite(outValues, argument: "values (after summing duplicates)")
        self.init(uncheckedRows: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
                  values: outValues)
    }

    /// The stored entries as COO triplets in row-major order.
    public var coordinates: (rowIndices: [Int], columnIndices: [Int], values: [Element]) {
        var rowIndices = [Int](repeating: 0, count: nonzeroCount)
        for row in 0..<rows {
            for position in Int(_rowPointers[row])..<Int(_rowPointers[row + 1]) { rowIndices[position] = row }
        }
        return (rowIndices, _columnIndices.map { Int($0) }, _values)
    }

    // MARK: - Dense

    /// The non-zero elements of a 2-d tensor (`scipy.sparse.csr_array(dense)`).
    ///
    /// - Throws: ``SparseError/invalidArgument(name:expected:received:)`` when
    ///   `dense` is not 2-d, ``SparseError/nonFiniteValue(argument:position:)``
    ///   for NaN or infinity.
    public init(dense: Tensor<Element>) throws(SparseError) {
        guard dense.rank == 2 else {
            throw .invalidArgument(name: "dense", expected: "a 2-d tensor", received: "shape \(dense.shape)")
        }
        let rows = dense.shape[0], columns = dense.shape[1]
        try Self.checkDimensions(rows: rows, columns: columns)
        let elements = dense.elements
        try Self.checkFinite(elements, argument: "dense")
        var pointers = [Int64](repeating: 0, count: rows + 1)
        var outColumns: [Int32] = []
        var outValues: [Element] = []
        for r in 0..<rows {
            for c in 0..<columns where elements[r * columns + c] != 0 {
                outColumns.append(Int32(c))
                outValues.append(elements[r * columns + c])
            }
            pointers[r + 1] = Int64(outValues.count)
        }
        self.init(uncheckedRows: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
                  values: outValues)
    }

    /// The matrix as a dense `rows`×`columns` tensor (`toarray()`).
    public func toDense() -> Tensor<Element> {
        var result = Tensor<Element>(shape: [rows, columns], repeating: 0)
        result.withUnsafeMutableBufferPointer { out in
            for row in 0..<rows {
                for position in Int(_rowPointers[row])..<Int(_rowPointers[row + 1]) {
                    out[row * columns + Int(_columnIndices[position])] += _values[position]
                }
            }
        }
        return result
    }

    /// The value at (`row`, `column`) (0 when nothing is stored there).
    /// Out-of-range indices are a programmer error, as in `Array`.
    public subscript(row: Int, column: Int) -> Element {
        precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                     "CSRMatrix: index (\(row), \(column)) is out of range for shape (\(rows), \(columns))")
        let start = Int(_rowPointers[row]), end = Int(_rowPointers[row + 1])
        if let position = Self.find(Int32(column), in: _columnIndices, start..<end) { return _values[position] }
        return 0
    }

    /// Binary search for `column` among sorted indices in `range`.
    static func find(_ column: Int32, in indices: [Int32], _ range: Range<Int>) -> Int? {
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let mid = (low + high) / 2
            if indices[mid] < column { low = mid + 1 } else { high = mid }
        }
        return low < range.upperBound && indices[low] == column ? low : nil
    }
}

extension CSRMatrix: Equatable {
    /// Equal shapes and equal stored arrays (explicit zeros count, so a
    /// matrix with stored zeros differs from one without).
    public static func == (lhs: CSRMatrix, rhs: CSRMatrix) -> Bool {
        lhs._rows == rhs._rows && lhs._columns == rhs._columns && lhs._rowPointers == rhs._rowPointers
            && lhs._columnIndices == rhs._columnIndices && lhs._values == rhs._values
    }
}

extension CSRMatrix: CustomStringConvertible {
    /// A short summary: element type, shape and entry count.
    public var description: String {
        "CSRMatrix<\(Element.dtype)>(shape: (\(rows), \(columns)), nonzeros: \(nonzeroCount))"
    }
}

/// The transposed copy of a ``CSRMatrix``, built on first use and shared by
/// copies of the same (unmutated) matrix.
@usableFromInline
final class TransposeCache<Element: OperatorScalar>: Sendable {
    let stored = Mutex<CSRMatrix<Element>?>(nil)

    @usableFromInline init() {}

    /// The cached value, computing it with `make` (under the lock, so it is
    /// built once) when missing.
    @usableFromInline
    func value(_ make: () -> CSRMatrix<Element>) -> CSRMatrix<Element> {
        stored.withLock { cached in
            if let cached { return cached }
            let made = make()
            cached = made
            return made
        }
    }

    /// Whether the transpose has been built.
    var isBuilt: Bool { stored.withLock { $0 != nil } }
}
