import BeamlineOperators
import BeamlineTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the rows of one block straight into the storage of the matrix
/// being built by ``CSRMatrix/build(rows:columns:rowsPerBlock:entryBound:_:)``.
///
/// Use it as ``CSRBuilder``: ``append(column:value:)`` the entries of the
/// open row in any column order, then ``endRow()``, which sorts the row and
/// sums repeated columns (nothing to do when the columns were appended in
/// increasing order). The block may hold at most the number of entries its
/// `entryBound` promised.
public struct CSRRowWriter<Element: OperatorScalar> {
    @usableFromInline let columnsOut: UnsafeMutablePointer<Int32>
    @usableFromInline let valuesOut: UnsafeMutablePointer<Element>
    /// End offset (within the block) of each closed row.
    @usableFromInline let rowEnds: UnsafeMutablePointer<Int64>
    @usableFromInline let capacity: Int
    @usableFromInline let columns: Int
    @usableFromInline let rowLimit: Int
    @usableFromInline var count = 0
    @usableFromInline var rowStart = 0
    @usableFromInline var rowsClosed = 0

    @usableFromInline
    init(columnsOut: UnsafeMutablePointer<Int32>, valuesOut: UnsafeMutablePointer<Element>,
         rowEnds: UnsafeMutablePointer<Int64>, capacity: Int, columns: Int, rowLimit: Int) {
        self.columnsOut = columnsOut
        self.valuesOut = valuesOut
        self.rowEnds = rowEnds
        self.capacity = capacity
        self.columns = columns
        self.rowLimit = rowLimit
    }

    /// Number of rows closed so far in this block.
    @inlinable public var rowCount: Int { rowsClosed }

    /// Number of entries written so far in this block.
    @inlinable public var entryCount: Int { count }

    /// Adds `value` at `column` of the open row.
    ///
    /// - Throws: ``SparseError/indexOutOfRange(argument:position:index:bound:)``
    ///   for a column outside `0..<columns`,
    ///   ``SparseError/nonFiniteValue(argument:position:)`` for NaN or
    ///   infinity, ``SparseError/invalidArgument(name:expected:received:)``
    ///   when the block's entry bound is exceeded (the entry is then not
    ///   added).
    @inlinable
    public mutating func append(column: Int, value: Element) throws(SparseError) {
        guard column >= 0 && column < columns else {
            throw .indexOutOfRange(argument: "column of block row \(rowsClosed)", position: count,
                                   index: Int64(column), bound: columns)
        }
        guard value.isFinite else {
            throw .nonFiniteValue(argument: "value of block row \(rowsClosed)", position: count)
        }
        guard count < capacity else {
            throw .invalidArgument(name: "entryBound", expected: "room for every entry of the block",
                                   received: "a bound of \(capacity) entries")
        }
        columnsOut[count] = Int32(truncatingIfNeeded: column)
        valuesOut[count] = value
        count &+= 1
    }

    /// Closes the open row (which may be empty): sorts its entries by
    /// column (stably) and sums repeated columns in the order they were
    /// appended.
    @inlinable
    public mutating func endRow() {
        if count - rowStart > 1 { canonicalize(rowStart) }
        if rowsClosed < rowLimit { rowEnds[rowsClosed] = Int64(count) }
        rowsClosed += 1
        rowStart = count
    }

    /// Sorts entries `start..<count` by column and sums duplicates.
    @usableFromInline
    mutating func canonicalize(_ start: Int) {
        count = start + canonicalizeSparseRow(columnsOut + start, valuesOut + start, count: count - start)
    }
}

/// Sorts one row's `count` entries by column, stably, and sums repeated
/// columns in their stored order, in place; returns the number of entries
/// left. The one routine behind ``CSRBuilder/endRow()`` and
/// ``CSRRowWriter/endRow()``: short rows by insertion, long rows through a
/// stable index sort (so an unsorted long row is not quadratic).
@usableFromInline
func canonicalizeSparseRow<Element: OperatorScalar>(_ c: UnsafeMutablePointer<Int32>, _ v: UnsafeMutablePointer<Element>,
                                                    count: Int) -> Int {
    var sorted = true
    for k in 1..<Swift.max(count, 1) where c[k] <= c[k - 1] { sorted = false; break }
    if sorted { return count }
    if count <= 32 {
        for i in 1..<count {
            let column = c[i], value = v[i]
            var j = i - 1
            while j >= 0 && c[j] > column { c[j + 1] = c[j]; v[j + 1] = v[j]; j -= 1 }
            c[j + 1] = column
            v[j + 1] = value
        }
    } else {
        let order = (0..<count).sorted { a, b in c[a] != c[b] ? c[a] < c[b] : a < b }
        let oldColumns = order.map { c[$0] }, oldValues = order.map { v[$0] }
        for k in 0..<count { c[k] = oldColumns[k]; v[k] = oldValues[k] }
    }
    var write = 0
    var k = 0
    while k < count {
        var sum = v[k]
        var j = k + 1
        while j < count && c[j] == c[k] { sum += v[j]; j += 1 }
        c[write] = c[k]
        v[write] = sum
        write += 1
        k = j
    }
    return write
}

extension CSRMatrix {
    /// Builds a `rows`×`columns` matrix in parallel, writing every block of
    /// rows straight into the result's storage (no per-block arrays joined
    /// afterwards, so the entries are written once and the memory touched
    /// is about that of the result).
    ///
    /// The rows are split into blocks of `rowsPerBlock` (boundaries
    /// independent of the thread count, so the result is identical for any
    /// `Parallel.threadCount`). `entryBound(range)` must return an upper
    /// bound on the number of entries `fill` writes for the rows in
    /// `range`; each block gets a slot of that size, and the blocks are
    /// moved together afterwards. `fill(range, &writer)` must close exactly
    /// `range.count` rows; it runs concurrently on different blocks.
    ///
    /// - Throws: the first error (in block order) thrown by `fill`,
    ///   ``SparseError/lengthMismatch(argument:expected:received:)`` when a
    ///   block closed the wrong number of rows,
    ///   ``SparseError/invalidArgument(name:expected:received:)`` for a
    ///   bad `rowsPerBlock` or a bound that was too small,
    ///   ``SparseError/nonFiniteValue(argument:position:)`` when summing
    ///   duplicates overflowed.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    public static func build(rows: Int, columns: Int, rowsPerBlock: Int, entryBound: @Sendable (Range<Int>) -> Int,
                             _ fill: @Sendable (Range<Int>, inout CSRRowWriter<Element>) throws -> Void) throws -> CSRMatrix {
        try checkDimensions(rows: rows, columns: columns)
        guard rowsPerBlock >= 1 else {
            throw SparseError.invalidArgument(name: "rowsPerBlock", expected: "at least 1", received: "\(rowsPerBlock)")
        }
        let blockCount = (rows + rowsPerBlock - 1) / rowsPerBlock
        @Sendable func blockRange(_ block: Int) -> Range<Int> { block * rowsPerBlock..<Swift.min(rows, (block + 1) * rowsPerBlock) }
        // Slots: prefix sums of the bounds.
        var slots = [Int](repeating: 0, count: blockCount + 1)
        slots.withUnsafeMutableBufferPointer { sp in
            let s = SendableMutableBuffer(sp)
            Parallel.forEachBlock(count: blockCount, blockSize: 1) { block, _ in
                s[block + 1] = Swift.max(0, entryBound(blockRange(block)))
            }
        }
        for block in 0..<blockCount { slots[block + 1] += slots[block] }
        let capacity = slots[blockCount]
        var counts = [Int](repeating: 0, count: blockCount)
        var failures = [(any Error)?](repeating: nil, count: blockCount)
        var outValues: [Element] = []
        var pointers = [Int64](unsafeUninitializedCapacity: rows + 1) { p, n in
            p[0] = 0
            n = rows + 1
        }
        var outColumns = [Int32](unsafeUninitializedCapacity: capacity) { columnBuffer, columnCount in
            outValues = [Element](unsafeUninitializedCapacity: capacity) { valueBuffer, valueCount in
                slots.withUnsafeBufferPointer { sp in
                    counts.withUnsafeMutableBufferPointer { cp in
                        failures.withUnsafeMutableBufferPointer { fp in
                            pointers.withUnsafeMutableBufferPointer { pp in
                                let cBase = SendableMutableBuffer(columnBuffer)
                                let vBase = SendableMutableBuffer(valueBuffer)
                                let countsOut = SendableMutableBuffer(cp), failuresOut = SendableMutableBuffer(fp)
                                let rowPointers = SendableMutableBuffer(pp)
                                let slot = SendableBuffer(sp)
                                Parallel.forEachBlock(count: rows, blockSize: rowsPerBlock) { block, range in
                                    var writer = CSRRowWriter<Element>(
                                        columnsOut: cBase.pointer(at: slot[block]), valuesOut: vBase.pointer(at: slot[block]),
                                        rowEnds: rowPointers.pointer(at: range.lowerBound + 1, count: range.count),
                                        capacity: slot[block + 1] - slot[block], columns: columns, rowLimit: range.count)
                                    do {
                                        try fill(range, &writer)
                                        if writer.rowCount != range.count || writer.rowStart != writer.count {
                                            throw SparseError.lengthMismatch(argument: "rows closed in block \(range)",
                                                                             expected: range.count, received: writer.rowCount)
                                        }
                                        let values = UnsafeBufferPointer(start: writer.valuesOut, count: writer.count)
                                        if !Tensor.allElementsFinite(values) {
                                            throw SparseError.nonFiniteValue(argument: "values of block \(range)",
                                                                             position: values.firstIndex { !$0.isFinite } ?? 0)
                                        }
                                        countsOut[block] = writer.count
                                    } catch {
                                        failuresOut[block] = error
                                    }
                                }
                            }
                        }
                    }
                }
                if failures.contains(where: { $0 != nil }) { valueCount = 0; return }
                // Move the blocks together, in block order (a block's
                // destination never overlaps a later block's slot).
                var offset = 0
                for block in 0..<blockCount {
                    let count = counts[block], from = slots[block]
                    if count > 0 && from != offset, let c = columnBuffer.baseAddress, let v = valueBuffer.baseAddress {
                        memmove(c + offset, c + from, count * MemoryLayout<Int32>.stride)
                        memmove(v + offset, v + from, count * MemoryLayout<Element>.stride)
                    }
                    offset += count
                }
                valueCount = offset
            }
            columnCount = outValues.count
        }
        if let failure = failures.first(where: { $0 != nil }) { throw failure! }
        // Local row ends → global row pointers.
        var starts = [Int](repeating: 0, count: blockCount + 1)
        for block in 0..<blockCount { starts[block + 1] = starts[block] + counts[block] }
        starts.withUnsafeBufferPointer { st in
            pointers.withUnsafeMutableBufferPointer { pp in
                let p = SendableMutableBuffer(pp), s = SendableBuffer(st)
                Parallel.forEachBlock(count: rows, blockSize: rowsPerBlock) { block, range in
                    let shift = Int64(s[block])
                    for row in range { p[row + 1] += shift }
                }
            }
        }
        releaseUnusedPages(&outColumns)
        releaseUnusedPages(&outValues)
        return CSRMatrix(uncheckedRows: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
                         values: outValues)
    }

    /// Hands the whole pages of `array`'s spare capacity back to the system
    /// (they held block slots before the blocks were moved together).
    static func releaseUnusedPages<T>(_ array: inout [T]) {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let used = array.count * MemoryLayout<T>.stride, total = array.capacity * MemoryLayout<T>.stride
        guard total - used >= 16 * page else { return }
        array.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let start = (Int(bitPattern: base) + used + page - 1) / page * page
            let end = (Int(bitPattern: base) + total) / page * page
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
        }
        #endif
    }
}
