import BeamlineOperators
import BeamlineTensor

extension CSRMatrix {
    /// The CSR form of the transpose (SciPy's `A.T.tocsr()`), canonical:
    /// the entries of each new row are in increasing order of the original
    /// row. Runs in O(nnz + rows + columns).
    public func transposed() -> CSRMatrix {
        let count = nonzeroCount
        var pointers = [Int64](repeating: 0, count: columns + 1)
        var outColumns = [Int32](repeating: 0, count: count)
        var outValues = [Element](repeating: 0, count: count)
        _columnIndices.withUnsafeBufferPointer { indices in
            _values.withUnsafeBufferPointer { values in
                _rowPointers.withUnsafeBufferPointer { rp in
                    pointers.withUnsafeMutableBufferPointer { tp in
                        for k in 0..<count { tp[Int(indices[k]) + 1] &+= 1 }
                        for c in 0..<columns { tp[c + 1] &+= tp[c] }
                        var next = Array(tp.dropLast())
                        outColumns.withUnsafeMutableBufferPointer { oc in
                            outValues.withUnsafeMutableBufferPointer { ov in
                                for row in 0..<rows {
                                    for k in Int(rp[row])..<Int(rp[row + 1]) {
                                        let c = Int(indices[k])
                                        let slot = Int(next[c])
                                        oc[slot] = Int32(truncatingIfNeeded: row)
                                        ov[slot] = values[k]
                                        next[c] = Int64(slot + 1)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return CSRMatrix(uncheckedRows: columns, columns: rows, rowPointers: pointers, columnIndices: outColumns,
                         values: outValues)
    }

    /// The transposed copy that ``multiplyTransposed(_:into:alpha:beta:)``
    /// uses, built on first use and kept (shared by copies of this matrix
    /// until one of them is mutated). Call it once ahead of time to take
    /// the cost out of the first transposed product. Transposes with more
    /// than 2³¹ columns (this matrix's rows) cannot be built.
    public var cachedTranspose: CSRMatrix {
        transposeCache.value { self.transposed() }
    }

    /// Sum of each row (`A.sum(axis=1)`), length ``rows``, each summed in
    /// storage order.
    public func rowSums() -> Tensor<Element> {
        Tensor(unsafeUninitializedShape: [rows]) { out in
            for row in 0..<rows {
                var sum: Element = 0
                for k in Int(_rowPointers[row])..<Int(_rowPointers[row + 1]) { sum += _values[k] }
                out[row] = sum
            }
        }
    }

    /// Sum of each column (`A.sum(axis=0)`), length ``columns``, each summed
    /// in row order (so the result does not depend on the thread count).
    public func columnSums() -> Tensor<Element> {
        Tensor(unsafeUninitializedShape: [columns]) { out in
            out.initialize(repeating: 0)
            for k in 0..<nonzeroCount { out[Int(_columnIndices[k])] += _values[k] }
        }
    }

    /// The main diagonal (`A.diagonal()`), length `min(rows, columns)`.
    public func diagonal() -> Tensor<Element> {
        let n = Swift.min(rows, columns)
        return Tensor(unsafeUninitializedShape: [n]) { out in
            for i in 0..<n {
                let range = Int(_rowPointers[i])..<Int(_rowPointers[i + 1])
                out[i] = Self.find(Int32(i), in: _columnIndices, range).map { _values[$0] } ?? 0
            }
        }
    }

    /// Multiplies row `i` by `factors[i]` (`diag(factors) @ A`).
    ///
    /// - Throws: ``SparseError/shapeMismatch(operation:expected:received:)``
    ///   when `factors` does not hold ``rows`` elements,
    ///   ``SparseError/nonFiniteValue(argument:position:)`` for a
    ///   non-finite factor.
    public mutating func scaleRows(by factors: Tensor<Element>) throws(SparseError) {
        guard factors.count == rows else {
            throw .shapeMismatch(operation: "scaleRows", expected: [rows], received: factors.shape)
        }
        let f = factors.elements
        try Self.checkFinite(f, argument: "factors")
        transposeCache = TransposeCache()
        for row in 0..<rows {
            for k in Int(_rowPointers[row])..<Int(_rowPointers[row + 1]) { _values[k] *= f[row] }
        }
    }

    /// Multiplies column `j` by `factors[j]` (`A @ diag(factors)`).
    ///
    /// - Throws: as ``scaleRows(by:)``, with ``columns`` factors.
    public mutating func scaleColumns(by factors: Tensor<Element>) throws(SparseError) {
        guard factors.count == columns else {
            throw .shapeMismatch(operation: "scaleColumns", expected: [columns], received: factors.shape)
        }
        let f = factors.elements
        try Self.checkFinite(f, argument: "factors")
        transposeCache = TransposeCache()
        for k in 0..<nonzeroCount { _values[k] *= f[Int(_columnIndices[k])] }
    }

    /// A copy with rows scaled (see ``scaleRows(by:)``).
    public func scalingRows(by factors: Tensor<Element>) throws(SparseError) -> CSRMatrix {
        var copy = self
        try copy.scaleRows(by: factors)
        return copy
    }

    /// A copy with columns scaled (see ``scaleColumns(by:)``).
    public func scalingColumns(by factors: Tensor<Element>) throws(SparseError) -> CSRMatrix {
        var copy = self
        try copy.scaleColumns(by: factors)
        return copy
    }

    /// Removes stored entries equal to zero (`eliminate_zeros()`).
    public mutating func eliminateZeros() {
        guard _values.contains(0) else { return }
        transposeCache = TransposeCache()
        var write = 0
        var start = 0
        for row in 0..<rows {
            let end = Int(_rowPointers[row + 1])
            for k in start..<end where _values[k] != 0 {
                _values[write] = _values[k]
                _columnIndices[write] = _columnIndices[k]
                write += 1
            }
            start = end
            _rowPointers[row + 1] = Int64(write)
        }
        _values.removeSubrange(write...)
        _columnIndices.removeSubrange(write...)
    }

    /// A copy without stored zeros (see ``eliminateZeros()``).
    public func eliminatingZeros() -> CSRMatrix {
        var copy = self
        copy.eliminateZeros()
        return copy
    }
}
