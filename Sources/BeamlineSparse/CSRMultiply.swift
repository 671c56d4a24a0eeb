import BeamlineOperators
import BeamlineTensor

extension CSRMatrix {
    /// Rows per parallel chunk below which a product runs on one thread.
    @usableFromInline static var minimumRowsPerChunk: Int { 4096 }

    /// `y = alpha * A x + beta * y` on raw buffers (the SpMV kernel).
    ///
    /// `x` must hold ``columns`` elements and `y` ``rows`` (a programmer
    /// error otherwise). With `beta == 0`, `y` is only written, never read
    /// (as BLAS does), so it may hold anything. Rows are split over
    /// `Parallel` threads; each row is summed in storage order by one
    /// thread, so the result is identical for any thread count. `x` and `y`
    /// must not overlap.
    @inlinable
    public func multiply(_ x: UnsafeBufferPointer<Element>, into y: UnsafeMutableBufferPointer<Element>,
                         alpha: Element = 1, beta: Element = 0) {
        precondition(x.count == _columns && y.count == _rows,
                     "CSRMatrix.multiply: matrix (\(_rows), \(_columns)) needs x of \(_columns) and y of \(_rows) elements, received \(x.count) and \(y.count)")
        guard _rows > 0 else { return }
        _rowPointers.withUnsafeBufferPointer { rp in
            _columnIndices.withUnsafeBufferPointer { ci in
                _values.withUnsafeBufferPointer { va in
                    let p = SendableBuffer(rp), c = SendableBuffer(ci), v = SendableBuffer(va)
                    let xs = SendableBuffer(x), ys = SendableMutableBuffer(y)
                    Parallel.forEachChunk(count: _rows, minimumChunk: Self.minimumRowsPerChunk) { range in
                        Self.spmvRows(range, p.baseAddress, c.baseAddress, v.baseAddress, xs.baseAddress, ys.baseAddress,
                                      alpha, beta)
                    }
                }
            }
        }
    }

    /// The SpMV inner loop over `rows`.
    @inlinable @inline(__always)
    static func spmvRows(_ rows: Range<Int>, _ p: UnsafePointer<Int64>, _ c: UnsafePointer<Int32>,
                         _ v: UnsafePointer<Element>, _ x: UnsafePointer<Element>,
                         _ y: UnsafeMutablePointer<Element>, _ alpha: Element, _ beta: Element) {
        var k = Int(truncatingIfNeeded: p[rows.lowerBound])
        if beta == 0 && alpha == 1 {
            for i in rows {
                let end = Int(truncatingIfNeeded: p[i &+ 1])
                var sum: Element = 0
                while k < end {
                    sum += v[k] * x[Int(truncatingIfNeeded: c[k])]
                    k &+= 1
                }
                y[i] = sum
            }
        } else {
            for i in rows {
                let end = Int(truncatingIfNeeded: p[i &+ 1])
                var sum: Element = 0
                while k < end {
                    sum += v[k] * x[Int(truncatingIfNeeded: c[k])]
                    k &+= 1
                }
                y[i] = beta == 0 ? alpha * sum : alpha * sum + beta * y[i]
            }
        }
    }

    /// `y = alpha * Aᵀ x + beta * y` on raw buffers (transposed SpMV).
    ///
    /// `x` must hold ``rows`` elements and `y` ``columns``. The product runs
    /// as an SpMV with ``cachedTranspose`` (built on the first call), so it
    /// is parallel without atomics, and each output element sums its terms in
    /// increasing row order whatever the thread count.
    @inlinable
    public func multiplyTransposed(_ x: UnsafeBufferPointer<Element>, into y: UnsafeMutableBufferPointer<Element>,
                                   alpha: Element = 1, beta: Element = 0) {
        precondition(x.count == _rows && y.count == _columns,
                     "CSRMatrix.multiplyTransposed: matrix (\(_rows), \(_columns)) needs x of \(_rows) and y of \(_columns) elements, received \(x.count) and \(y.count)")
        cachedTranspose.multiply(x, into: y, alpha: alpha, beta: beta)
    }

    /// `A x` for a vector `x` of ``columns`` elements.
    @available(*, deprecated, renamed: "apply(_:)")
    @inlinable
    public func multiply(_ x: Tensor<Element>) -> Tensor<Element> { apply(x) }

    /// `Aᵀ x` for a vector `x` of ``rows`` elements.
    @available(*, deprecated, renamed: "applyAdjoint(_:)")
    @inlinable
    public func multiplyTransposed(_ x: Tensor<Element>) -> Tensor<Element> { applyAdjoint(x) }

    /// `A x`, throwing for a vector that does not fit.
    @available(*, deprecated, renamed: "checkedApply(_:)")
    @inlinable
    public func checkedMultiply(_ x: Tensor<Element>) throws(SparseError) -> Tensor<Element> {
        do { return try checkedApply(x) } catch { throw .argument(error) }
    }

    /// `Aᵀ x`, throwing for a vector that does not fit.
    @available(*, deprecated, renamed: "checkedApplyAdjoint(_:)")
    @inlinable
    public func checkedMultiplyTransposed(_ x: Tensor<Element>) throws(SparseError) -> Tensor<Element> {
        do { return try checkedApplyAdjoint(x) } catch { throw .argument(error) }
    }

    /// `y = alpha * A x + beta * y` with tensors (`y` updated in place).
    ///
    /// - Throws: ``SparseError/shapeMismatch(operation:expected:received:)``
    ///   when `x` is not a vector of ``columns`` or `y` of ``rows`` elements.
    @inlinable
    public func multiply(_ x: Tensor<Element>, into y: inout Tensor<Element>, alpha: Element = 1,
                         beta: Element = 0) throws(SparseError) {
        guard x.rank == 1 && x.count == _columns else {
            throw .shapeMismatch(operation: "CSRMatrix.multiply (x)", expected: [_columns], received: x.shape)
        }
        guard y.rank == 1 && y.count == _rows else {
            throw .shapeMismatch(operation: "CSRMatrix.multiply (y)", expected: [_rows], received: y.shape)
        }
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in multiply(xs, into: ys, alpha: alpha, beta: beta) }
        }
    }

    /// The sparse × dense product `A B` for a 2-d `B` of shape
    /// (``columns``, k); the result is a dense (``rows``, k) tensor. Rows
    /// run in parallel, each summed in storage order (deterministic).
    ///
    /// - Throws: ``SparseError/shapeMismatch(operation:expected:received:)``
    ///   when `B` is not 2-d with ``columns`` rows.
    @inlinable
    public func multiply(dense b: Tensor<Element>) throws(SparseError) -> Tensor<Element> {
        guard b.rank == 2 && b.shape[0] == _columns else {
            throw .shapeMismatch(operation: "CSRMatrix.multiply(dense:)", expected: [_columns, -1], received: b.shape)
        }
        let k = b.shape[1]
        var result = Tensor<Element>(shape: [_rows, k], repeating: 0)
        guard k > 0 && _rows > 0 && nonzeroCount > 0 else { return result }
        b.withUnsafeBufferPointer { bs in
            result.withUnsafeMutableBufferPointer { out in
                _rowPointers.withUnsafeBufferPointer { rp in
                    _columnIndices.withUnsafeBufferPointer { ci in
                        _values.withUnsafeBufferPointer { va in
                            let o = SendableMutableBuffer(out), bb = SendableBuffer(bs)
                            let (rp, ci, va) = (SendableBuffer(rp), SendableBuffer(ci), SendableBuffer(va))
                            Parallel.forEachChunk(count: _rows, minimumChunk: Swift.max(1, 65536 / (k + 8))) { range in
                                for i in range {
                                    let row = o.baseAddress + i &* k
                                    for e in Int(rp[i])..<Int(rp[i &+ 1]) {
                                        let value = va[e]
                                        let source = bb.baseAddress + Int(ci[e]) &* k
                                        for j in 0..<k { row[j] += value * source[j] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
