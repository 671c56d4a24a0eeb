import BeamlineOperators
import BeamlineTensor

/// Builds a ``CSRMatrix`` row by row.
///
/// Add the entries of the current row with ``append(column:value:)`` in any
/// column order, then close the row with ``endRow()``, which sorts it and
/// sums repeated columns; rows are appended in order. ``build()`` returns
/// the matrix.
///
/// ```swift
/// var builder = CSRBuilder<Double>(columns: 4)
/// try builder.append(column: 2, value: 1.5)
/// try builder.append(column: 0, value: -1)
/// builder.endRow()                 // row 0: (0, -1), (2, 1.5)
/// builder.endRow()                 // row 1: empty
/// let matrix = try builder.build() // 2 × 4
/// ```
///
/// To fill rows from several threads, use
/// ``CSRMatrix/build(rows:columns:rowsPerBlock:_:)``: each block of rows
/// gets its own builder and the blocks are joined in row order.
public struct CSRBuilder<Element: OperatorScalar>: Sendable {
    /// Number of columns of the matrix being built.
    public let columns: Int
    @usableFromInline var rowPointers: [Int64] = [0]
    @usableFromInline var columnIndices: [Int32] = []
    @usableFromInline var values: [Element] = []
    /// Set when ``init(columns:reservingCapacity:)`` got a bad column count.
    var dimensionError: SparseError?

    /// A builder for a matrix with `columns` columns, with room for
    /// `reservingCapacity` entries.
    public init(columns: Int, reservingCapacity: Int = 0) {
        self.columns = columns
        do { try CSRMatrix<Element>.checkDimensions(rows: 0, columns: columns) } catch { dimensionError = error }
        columnIndices.reserveCapacity(Swift.max(0, reservingCapacity))
        values.reserveCapacity(Swift.max(0, reservingCapacity))
    }

    /// Number of rows closed so far.
    public var rowCount: Int { rowPointers.count - 1 }

    /// Number of entries appended so far (before duplicates are summed in
    /// the open row).
    public var entryCount: Int { values.count }

    /// Adds `value` at `column` of the open row.
    ///
    /// - Throws: ``SparseError/indexOutOfRange(argument:position:index:bound:)``
    ///   for a column outside `0..<columns`,
    ///   ``SparseError/nonFiniteValue(argument:position:)`` for NaN or
    ///   infinity (the entry is then not added).
    @inlinable
    public mutating func append(column: Int, value: Element) throws(SparseError) {
        guard column >= 0 && column < columns else {
            throw .indexOutOfRange(argument: "column of row \(rowCount)", position: values.count,
                                   index: Int64(column), bound: columns)
        }
        guard value.isFinite else {
            throw .nonFiniteValue(argument: "value of row \(rowCount)", position: values.count)
        }
        columnIndices.append(Int32(truncatingIfNeeded: column))
        values.append(value)
    }

    /// Closes the open row (which may be empty): sorts its entries by
    /// column and sums repeated columns in the order they were appended.
    public mutating func endRow() {
        let start = Int(rowPointers[rowPointers.count - 1])
        let end = values.count
        if end - start > 1 { canonicalizeRow(start, end) }
        rowPointers.append(Int64(values.count))
    }

    /// Appends a whole row: ``append(column:value:)`` for each pair, then
    /// ``endRow()``. On error the open row is discarded.
    public mutating func appendRow(columns rowColumns: [Int], values rowValues: [Element]) throws(SparseError) {
        guard rowColumns.count == rowValues.count else {
            throw .lengthMismatch(argument: "values of row \(rowCount)", expected: rowColumns.count,
                                  received: rowValues.count)
        }
        let start = Int(rowPointers[rowPointers.count - 1])
        do {
            for (column, value) in zip(rowColumns, rowValues) { try append(column: column, value: value) }
        } catch {
            columnIndices.removeSubrange(start...)
            values.removeSubrange(start...)
            throw error
        }
        endRow()
    }

    /// Sorts entries `start..<end` by column (stably) and sums duplicates.
    mutating func canonicalizeRow(_ start: Int, _ end: Int) {
        let kept = columnIndices.withUnsafeMutableBufferPointer { c in
            values.withUnsafeMutableBufferPointer { v in
                canonicalizeSparseRow(c.baseAddress! + start, v.baseAddress! + start, count: end - start)
            }
        }
        columnIndices.removeLast(end - start - kept)
        values.removeLast(end - start - kept)
    }

    /// The matrix of the closed rows.
    ///
    /// - Throws: ``SparseError/invalidArgument(name:expected:received:)``
    ///   when a row is still open (entries appended after the last
    ///   ``endRow()``), ``SparseError/invalidDimensions(rows:columns:reason:)``
    ///   for a bad column count, ``SparseError/nonFiniteValue(argument:position:)``
    ///   when summing duplicates overflowed to infinity.
    public func build() throws(SparseError) -> CSRMatrix<Element> {
        if let dimensionError { throw dimensionError }
        guard Int(rowPointers[rowPointers.count - 1]) == values.count else {
            throw .invalidArgument(name: "builder", expected: "every row closed with endRow()",
                                   received: "\(values.count - Int(rowPointers[rowPointers.count - 1])) entries in an open row")
        }
        try CSRMatrix<Element>.checkFinite(values, argument: "values")
        return CSRMatrix(uncheckedRows: rowCount, columns: columns, rowPointers: rowPointers,
                         columnIndices: columnIndices, values: values)
    }
}

extension CSRMatrix {
    /// Builds a `rows`×`columns` matrix in parallel: the rows are split into
    /// blocks of `rowsPerBlock`, `fill(range, &builder)` must close exactly
    /// `range.count` rows in the given builder, and the blocks are joined in
    /// row order. The block boundaries do not depend on the thread count, so
    /// the result is identical for any `Parallel.threadCount`.
    ///
    /// `fill` runs concurrently on different blocks; it must not share
    /// mutable state between calls.
    ///
    /// - Throws: the first error (in block order) thrown by `fill`, or
    ///   ``SparseError/lengthMismatch(argument:expected:received:)`` when a
    ///   block closed the wrong number of rows.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    public static func build(rows: Int, columns: Int, rowsPerBlock: Int = 1024,
                             _ fill: @Sendable (Range<Int>, inout CSRBuilder<Element>) throws -> Void) throws -> CSRMatrix {
        try checkDimensions(rows: rows, columns: columns)
        guard rowsPerBlock >= 1 else {
            throw SparseError.invalidArgument(name: "rowsPerBlock", expected: "at least 1", received: "\(rowsPerBlock)")
        }
        let blockCount = (rows + rowsPerBlock - 1) / rowsPerBlock
        var results = [Result<CSRBuilder<Element>, any Error>?](repeating: nil, count: blockCount)
        results.withUnsafeMutableBufferPointer { slots in
            let base = SendableMutableBuffer(slots)
            Parallel.forEachBlock(count: rows, blockSize: rowsPerBlock) { block, range in
                var builder = CSRBuilder<Element>(columns: columns)
                let outcome: Result<CSRBuilder<Element>, any Error>
                do {
                    try fill(range, &builder)
                    if builder.rowCount != range.count || Int(builder.rowPointers.last!) != builder.values.count {
                        throw SparseError.lengthMismatch(argument: "rows closed in block \(range)",
                                                         expected: range.count, received: builder.rowCount)
                    }
                    outcome = .success(builder)
                } catch {
                    outcome = .failure(error)
                }
                base[block] = outcome
            }
        }
        var blocks: [CSRBuilder<Element>] = []
        blocks.reserveCapacity(blockCount)
        var starts = [Int](repeating: 0, count: blockCount + 1)
        for (block, result) in results.enumerated() {
            let builder = try result!.get()
            starts[block + 1] = starts[block] + builder.values.count
            blocks.append(builder)
        }
        results.removeAll()
        // Join the blocks in parallel (each block copies its own slice, so
        // the large arrays are also first touched by several threads).
        let total = starts[blockCount]
        var pointers = [Int64](repeating: 0, count: rows + 1)
        var firstNonFinite = [Int](repeating: -1, count: blockCount)
        var outColumns = [Int32](unsafeUninitializedCapacity: total) { columnBuffer, columnCount in
            columnCount = total
        }
        var outValues = [Element](unsafeUninitializedCapacity: total) { valueBuffer, valueCount in
            valueCount = total
        }
        blocks.withUnsafeBufferPointer { bs in
            starts.withUnsafeBufferPointer { st in
                pointers.withUnsafeMutableBufferPointer { pp in
                    outColumns.withUnsafeMutableBufferPointer { oc in
                        outValues.withUnsafeMutableBufferPointer { ov in
                            firstNonFinite.withUnsafeMutableBufferPointer { bad in
                                let p = SendableMutableBuffer(pp), c = SendableMutableBuffer(oc), v = SendableMutableBuffer(ov)
                                let badp = SendableMutableBuffer(bad), bs = SendableBuffer(bs), st = SendableBuffer(st)
                                Parallel.forEachBlock(count: blockCount, blockSize: 1) { block, _ in
                                    let builder = bs[block]
                                    let start = st[block], firstRow = block * rowsPerBlock
                                    builder.rowPointers.withUnsafeBufferPointer { rp in
                                        for r in 1..<rp.count { p[firstRow + r] = rp[r] + Int64(start) }
                                    }
                                    let count = builder.values.count
                                    guard count > 0 else { return }
                                    builder.columnIndices.withUnsafeBufferPointer { src in
                                        c.pointer(at: start, count: count).initialize(from: src.baseAddress!, count: count)
                                    }
                                    builder.values.withUnsafeBufferPointer { src in
                                        v.pointer(at: start, count: count).initialize(from: src.baseAddress!, count: count)
                                        if !Tensor.allElementsFinite(src) {
                                            badp[block] = start + (src.firstIndex { !$0.isFinite } ?? 0)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bad = firstNonFinite.first(where: { $0 >= 0 }) {
            throw SparseError.nonFiniteValue(argument: "values", position: bad)
        }
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
                         values: outValues)
    }
}
