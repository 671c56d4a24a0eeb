import ComplexModule

// Matrix products on BLAS: matmul (NumPy rules), matrix-vector, outer.

/// Converts a size or leading dimension to BLAS's `Int32`, or throws.
@usableFromInline
func blasInt(_ value: Int, _ name: String) throws(TensorError) -> Int32 {
    guard let v = Int32(exactly: value) else {
        throw TensorError.invalidArgument(name: name, expected: "at most \(Int32.max) (BLAS/LAPACK 32-bit sizes)",
                                          received: "\(value)")
    }
    return v
}

/// How a strided matrix can be handed to `gemm` without a copy.
struct BLASMatrixLayout {
    /// True when the matrix is column-major (pass it as the transpose of a row-major one).
    var transposed: Bool
    /// Leading dimension in elements.
    var leadingDimension: Int

    /// The layout of an `rows`×`columns` matrix with the given strides, or
    /// nil when BLAS cannot read it directly (negative, zero or
    /// overlapping strides, or both strides non-unit).
    init?(rows: Int, columns: Int, rowStride: Int, columnStride: Int) {
        // Strides of length-1 axes are never used; pick the ones BLAS accepts.
        let rs = rows == 1 ? Swift.max(columns, 1) : rowStride
        let cs = columns == 1 ? 1 : columnStride
        if cs == 1 && rs >= Swift.max(columns, 1) {
            self.init(transposed: false, leadingDimension: rs)
        } else if rs == 1 && columns == 1 {
            self.init(transposed: false, leadingDimension: 1)
        } else if rs == 1 && cs >= Swift.max(rows, 1) {
            self.init(transposed: true, leadingDimension: cs)
        } else {
            return nil
        }
    }

    init(transposed: Bool, leadingDimension: Int) {
        self.transposed = transposed
        self.leadingDimension = leadingDimension
    }
}

extension Tensor where Element: LinearAlgebraScalar {
    /// The matrix product with NumPy's `matmul` rules (`a @ b`).
    ///
    /// - Both operands 2-d: the ordinary product, `[m, k] × [k, n] → [m, n]`.
    /// - A 1-d operand is promoted to a matrix by adding a length-1 axis
    ///   (in front for `a`, behind for `b`), which is removed from the result,
    ///   so `[k] × [k, n] → [n]`, `[m, k] × [k] → [m]` and `[k] × [k] → []`.
    /// - More than 2 axes: a stack of matrices in the last two axes; the
    ///   leading (batch) axes broadcast against each other, so
    ///   `[b, m, k] × [k, n] → [b, m, n]` and `[2, 1, m, k] × [3, k, n] → [2, 3, m, n]`.
    ///
    /// Any strides are accepted. A matrix whose last two axes are row-major
    /// with unit column stride, or column-major (a transposed view), is passed
    /// straight to `?gemm` with its leading dimension and a transpose flag;
    /// other layouts (negative, zero or doubly non-unit strides) are copied
    /// once first. Large products use OpenBLAS's threads
    /// (``Parallel/threadCount``).
    ///
    /// Mismatched inner dimensions, unbroadcastable batch axes or a 0-d
    /// operand are programmer errors here and stop the program with both
    /// shapes in the message; use ``checkedMatmul(_:_:)`` for data of
    /// unknown shape.
    ///
    /// ```swift
    /// let a = Tensor<Double>(shape: [2, 3], elements: [1, 2, 3, 4, 5, 6])
    /// let c = Tensor.matmul(a, a.transposed)   // shape [2, 2]
    /// ```
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        do { return try checkedMatmul(a, b) } catch {
            preconditionFailure("matmul: shapes \(a.shape) and \(b.shape): \(error)")
        }
    }

    /// The throwing form of ``matmul(_:_:)``: throws
    /// ``TensorError/invalidArgument(name:expected:received:)`` for a 0-d
    /// operand or sizes beyond BLAS's 32-bit range,
    /// ``TensorError/shapeMismatch(argument:expected:received:)`` when the
    /// inner dimensions differ and
    /// ``TensorError/notBroadcastable(operation:lhs:rhs:)`` when the batch
    /// axes do not broadcast.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func checkedMatmul(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        guard a.rank >= 1 else {
            throw TensorError.invalidArgument(name: "a", expected: "at least 1 axis", received: "shape \(a.shape)")
        }
        guard b.rank >= 1 else {
            throw TensorError.invalidArgument(name: "b", expected: "at least 1 axis", received: "shape \(b.shape)")
        }
        let lhs = a.rank == 1 ? a.expanded(axis: 0) : a
        let rhs = b.rank == 1 ? b.expanded(axis: 1) : b
        let m = lhs.layout.length(lhs.rank - 2), k = lhs.layout.length(lhs.rank - 1)
        let k2 = rhs.layout.length(rhs.rank - 2), n = rhs.layout.length(rhs.rank - 1)
        guard k == k2 else {
            var expected = b.shape
            expected[b.rank == 1 ? 0 : b.rank - 2] = k
            throw TensorError.shapeMismatch(argument: "matmul(\(a.shape), \(b.shape)): rows of b",
                                            expected: expected, received: b.shape)
        }
        let batchA = lhs.rank > 2 ? Array(lhs.shape.dropLast(2)) : []
        let batchB = rhs.rank > 2 ? Array(rhs.shape.dropLast(2)) : []
        guard let batch = broadcastShape(batchA, batchB) else {
            throw TensorError.notBroadcastable(operation: "matmul batch axes", lhs: a.shape, rhs: b.shape)
        }
        var resultShape = batch + [m, n]
        var result = try matmulStack(lhs, rhs, batch: batch, m: m, n: n, k: k)
        // Remove the axes that promotion added.
        if b.rank == 1 { resultShape.removeLast() }
        if a.rank == 1 { resultShape.remove(at: resultShape.count - (b.rank == 1 ? 1 : 2)) }
        result = result.reshaped(resultShape)
        return result
    }

    /// Product of two stacks of matrices already promoted to rank >= 2.
    static func matmulStack(_ lhs: Tensor, _ rhs: Tensor, batch: [Int], m: Int, n: Int, k: Int) throws(TensorError) -> Tensor {
        let shape = batch + [m, n]
        let batchCount = batch.reduce(1, *)
        if m == 0 || n == 0 || batchCount == 0 { return Tensor(shape: shape, repeating: ._zeroValue) }
        if k == 0 { return Tensor(shape: shape, repeating: ._zeroValue) }
        let m32 = try blasInt(m, "rows of a"), n32 = try blasInt(n, "columns of b"), k32 = try blasInt(k, "columns of a")

        // One copy per operand at most, of its own (unbroadcast) shape.
        func usable(_ t: Tensor, _ rows: Int, _ cols: Int) throws(TensorError) -> (Tensor, BLASMatrixLayout) {
            let r = t.rank
            if let layout = BLASMatrixLayout(rows: rows, columns: cols, rowStride: t.layout.stride(r - 2),
                                             columnStride: t.layout.stride(r - 1)),
               Int32(exactly: layout.leadingDimension) != nil {
                return (t, layout)
            }
            let copy = t.copied()
            return (copy, BLASMatrixLayout(rows: rows, columns: cols, rowStride: copy.layout.stride(r - 2),
                                           columnStride: copy.layout.stride(r - 1))!)
        }
        let (left, layoutA) = try usable(lhs, m, k)
        let (right, layoutB) = try usable(rhs, k, n)
        let lda = try blasInt(layoutA.leadingDimension, "leading dimension of a")
        let ldb = try blasInt(layoutB.leadingDimension, "leading dimension of b")

        // Batch offsets (broadcast batch axes have stride 0).
        let batchStridesA = left.broadcastBatchStrides(to: batch)
        let batchStridesB = right.broadcastBatchStrides(to: batch)
        let result = Tensor(unsafeUninitializedShape: shape, initializingWith: { buffer in
            buffer.initialize(repeating: ._zeroValue)
        })
        let pa = left.storage.base + left.offset, pb = right.storage.base + right.offset
        let pc = result.storage.base
        withExtendedLifetime((left.storage, right.storage)) {
            var index = [Int](repeating: 0, count: batch.count)
            for item in 0..<batchCount {
                var oa = 0, ob = 0
                for axis in 0..<batch.count {
                    oa += index[axis] * batchStridesA[axis]
                    ob += index[axis] * batchStridesB[axis]
                }
                if n == 1 && !layoutB.transposed && layoutB.leadingDimension >= 1 {
                    // Matrix-vector: b is a column with stride ldb.
                    Element._blasGemv(transpose: layoutA.transposed, m: layoutA.transposed ? k32 : m32,
                                     n: layoutA.transposed ? m32 : k32, alpha: ._oneValue, a: pa + oa, lda: lda,
                                     x: pb + ob, incx: ldb, beta: ._zeroValue, y: pc + item * m, incy: 1)
                } else {
                    Element._blasGemm(transposeA: layoutA.transposed, transposeB: layoutB.transposed,
                                     m: m32, n: n32, k: k32, alpha: ._oneValue, a: pa + oa, lda: lda,
                                     b: pb + ob, ldb: ldb, beta: ._zeroValue, c: pc + item * m * n, ldc: n32)
                }
                // Odometer over the batch index.
                var axis = batch.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < batch[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return result
    }

    /// Strides of the batch axes (all but the last two) broadcast to `batch`.
    func broadcastBatchStrides(to batch: [Int]) -> [Int] {
        if rank == 2 && batch.isEmpty { return [] }
        let own = Tensor(storage: storage, shape: Array(shape.dropLast(2)), strides: Array(strides.dropLast(2)),
                         offset: offset)
        return own.broadcastStrides(to: batch)!
    }

    /// The product of a matrix `[m, n]` and a vector `[n]`, giving `[m]`
    /// (`numpy.matmul(a, x)` / `a @ x`), through `?gemv`.
    ///
    /// Stops when `a` is not 2-d, `x` not 1-d or the lengths differ; see
    /// ``checkedMatvec(_:_:)``.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func matvec(_ a: Tensor, _ x: Tensor) -> Tensor {
        do { return try checkedMatvec(a, x) } catch {
            preconditionFailure("matvec: shapes \(a.shape) and \(x.shape): \(error)")
        }
    }

    /// The throwing form of ``matvec(_:_:)``.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func checkedMatvec(_ a: Tensor, _ x: Tensor) throws(TensorError) -> Tensor {
        guard a.rank == 2 else {
            throw TensorError.invalidArgument(name: "a", expected: "a 2-d matrix", received: "shape \(a.shape)")
        }
        guard x.rank == 1 else {
            throw TensorError.invalidArgument(name: "x", expected: "a 1-d vector", received: "shape \(x.shape)")
        }
        return try checkedMatmul(a, x)
    }

    /// The outer product `x[i] * y[j]` of two vectors, shape `[m, n]`
    /// (`numpy.outer`; no conjugation). Inputs of higher rank are flattened,
    /// as NumPy does.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func outer(_ x: Tensor, _ y: Tensor) -> Tensor {
        let column = x.flattened.reshaped([x.count, 1])
        let row = y.flattened.reshaped([1, y.count])
        return column * row
    }
}
