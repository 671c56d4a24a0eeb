import BeamlineTestSupport
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

// Expected values: Tests/Fixtures/generate_tensor.py (NumPy 2.4) → Fixtures/tensor.json.
// The key of each fixture entry is the NumPy expression that produced it.

/// Tolerances:
/// - +, -, *, / and copies are correctly rounded in IEEE arithmetic in both
///   NumPy and Swift: compared exactly.
/// - exp, log, sin, cos, tan, pow come from different libm implementations
///   (NumPy's SIMD kernels vs glibc): within 4 ulp → relative 1e-15.
/// - Complex division, sqrt, log, exp use different formulas in
///   swift-numerics and NumPy: relative 1e-14.
/// - Sums over non-innermost axes and norms may sum in another order than
///   NumPy: relative 1e-13 (inputs are O(1), sums of ≤ 129 terms).
let libmTolerance = 1e-15 * 4
let complexTolerance = 1e-14
let reorderTolerance = 1e-13

@Suite struct ViewTests {
    let f: Fixtures
    let x: Tensor<Double>
    init() throws {
        f = try Fixtures.load("tensor.json")
        x = try f.real("x")
    }

    @Test func integerRangeAndStridedIndexing() throws {
        #expect(x[1, 1..<3, .stride(by: -2)] == (try f.real("x[1,1:3,::-2]")))
        #expect(x[.ellipsis, 2] == (try f.real("x[...,2]")))
        #expect(x[.stride(by: 2), -1, .stride(1, 4, by: 2)] == (try f.real("x[::2,-1,1:4:2]")))
        #expect(x[.stride(-1, -4, by: -1), .stride(by: 3), .slice(-2, nil)] == (try f.real("x[-1:-4:-1,::3,-2:]")))
        #expect(x[.all, .newAxis, 1] == (try f.real("x[:,None,1]")))
    }

    @Test func viewsShareStorageAndDoNotCopy() {
        let view = x[1, 1..<3, .stride(by: -2)]
        #expect(view.strides == [5, -2])
        #expect(view.offset == 20 + 5 + 4)
        #expect(x.transposed.strides == [1, 5, 20])
        #expect(x.reshaped([12, 5]).strides == [5, 1])
        #expect(x.flipped(axis: 2).strides == [20, 5, -1])
    }

    @Test func transposeAndReshapeOfNonContiguousCopies() throws {
        let p = x.permuted([2, 0, 1])
        #expect(p == (try f.real("x.transpose(2,0,1)")))
        #expect(!p.isContiguous)
        let r = p.reshaped([5, 12])
        #expect(r == (try f.real("x.transpose(2,0,1).reshape(5,12)")))
        // Axes 1 and 2 of the permuted view merge (stride 20 = 4 × 5), so NumPy and we return a view.
        #expect(r.strides == [1, 5] && r.storageIdentical(to: x))
        let q = x.permuted([1, 0, 2]).reshaped([12, 5])  // cannot merge: a copy
        #expect(q.isContiguous && !q.storageIdentical(to: x))
        #expect(q == x.swappingAxes(0, 1).contiguous().reshaped([12, 5]))
        // A reshape that merges axes which stay compatible is still a view.
        let sliced = x[.all, 1..<3, .all]  // rows of 5 contiguous, stride 20 between blocks
        let merged = sliced.reshaped([3, 2, 5, 1])
        #expect(merged.offset == sliced.offset && merged.strides[0] == 20)
        #expect(merged.elements == sliced.elements)
        #expect(x.reshaped([-1, 10]).shape == [6, 10])
    }

    @Test func squeezeExpandBroadcast() {
        let column = Tensor<Double>(shape: [3, 1], elements: [1, 2, 3])
        #expect(column.squeezed().shape == [3])
        #expect(column.squeezed(axis: 1).shape == [3])
        #expect(column.expanded(axis: 0).shape == [1, 3, 1])
        #expect(column.expanded(axis: -1).shape == [3, 1, 1])
        let wide = column.broadcast(to: [2, 3, 4])
        #expect(wide.shape == [2, 3, 4] && wide.strides == [0, 1, 0])
        #expect(wide[at: 1, 2, 3] == 3)
        #expect(column.contiguous().storageIdentical(to: column))
        #expect(!wide.contiguous().storageIdentical(to: wide))
    }

    @Test func subscriptSetterWritesIntoBaseWithBroadcasting() {
        var a = Tensor<Double>.zeros([3, 4])
        a[1] = Tensor([1, 2, 3, 4])
        a[.all, 3] = Tensor(scalar: 9)
        a[.stride(by: -2), 0..<1] = Tensor(shape: [2, 1], elements: [7, 8])
        #expect(a.elements == [8, 0, 0, 9, 1, 2, 3, 9, 7, 0, 0, 9])
        // Assigning a view of itself is safe (the source is read first).
        a[0] = a[1].flipped(axis: 0)
        #expect(a[0].elements == [9, 3, 2, 1])
    }

    @Test func copyOnWriteKeepsValueSemantics() {
        let a = Tensor<Double>.arange(6).reshaped([2, 3])
        var b = a
        b[at: 0, 0] = 100
        #expect(a[at: 0, 0] == 0 && b[at: 0, 0] == 100)
        var view = a[1]
        view[at: 0] = -1
        #expect(a[at: 1, 0] == 3)
        var broadcast = Tensor<Double>(scalar: 1).broadcast(to: [2, 2])
        broadcast[at: 0, 1] = 5
        #expect(broadcast.elements == [1, 5, 1, 1])
    }

    @Test func negativeIndicesCountFromTheEnd() {
        let a = Tensor<Int64>.arange(10)
        #expect(a[at: -1] == 9)
        #expect(a[-3].scalar == 7)
        #expect(a[.slice(-3, nil)].elements == [7, 8, 9])
        #expect(a[.stride(nil, nil, by: -3)].elements == [9, 6, 3, 0])
        #expect(a[.slice(20, 30)].count == 0)  // Python clamps out-of-range slice bounds
    }

    @Test func emptyAndSizeOneAxes() {
        let empty = Tensor<Double>.zeros([0, 3])
        #expect(empty.isEmpty && empty.count == 0)
        #expect((empty + Tensor([1, 2, 3])).shape == [0, 3])
        #expect(empty.sum(axis: 0).elements == [0, 0, 0])
        #expect(empty.sum() == 0)
        #expect(empty.transposed.shape == [3, 0])
        let one = Tensor<Double>(shape: [1, 1, 1], elements: [4])
        #expect((one * Tensor.ones([2, 1, 3])).shape == [2, 1, 3])
        #expect(one.scalar == 4)
    }

    @Test func concatenateAndStack() throws {
        let a = Tensor<Double>.arange(6).reshaped([2, 3])
        let c = try Tensor.concatenated([a, a.transposed.transposed * 2], axis: 1)
        #expect(c.shape == [2, 6])
        #expect(c.elements == [0, 1, 2, 0, 2, 4, 3, 4, 5, 6, 8, 10])
        let s = try Tensor.stacked([a, a], axis: 2)
        #expect(s.shape == [2, 3, 2] && s[at: 1, 2, 1] == 5)
        #expect(throws: TensorError.self) { try Tensor.concatenated([a, Tensor.zeros([3, 3])], axis: 1) }
    }
}

extension Tensor {
    /// True when both tensors view one storage buffer (test helper).
    func storageIdentical(to other: Tensor) -> Bool {
        withUnsafeStridedPointer { p, _, _ in other.withUnsafeStridedPointer { q, _, _ in p == q } }
    }
}

@Suite struct CheckedFormTests {
    let a = Tensor<Double>.arange(12).reshaped([3, 4])

    @Test func badIndicesThrow() {
        #expect(throws: TensorError.indexOutOfRange(axis: 1, index: 4, size: 4)) { try a.view([0, 4]) }
        #expect(throws: TensorError.indexOutOfRange(axis: 0, index: -4, size: 3)) { try a.element(at: [-4, 0]) }
        #expect(throws: TensorError.self) { try a.view([0, 1, 2]) }
        #expect(throws: TensorError.self) { try a.view([0..<5]) }
    }

    @Test func shapeMismatchesThrow() {
        let b = Tensor<Double>.zeros([3])
        #expect(throws: TensorError.notBroadcastable(operation: "add", lhs: [3, 4], rhs: [3])) { try a.adding(b) }
        #expect(throws: TensorError.elementCountMismatch(shape: [5, 3], count: 12)) { try a.checkedReshaped([5, 3]) }
        #expect(throws: TensorError.elementCountMismatch(shape: [2, 3], count: 5)) {
            try Tensor<Double>(checkedShape: [2, 3], elements: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.notBroadcastable(operation: "broadcast(to:)", lhs: [3, 4], rhs: [4, 3])) {
            try a.checkedBroadcast(to: [4, 3])
        }
        #expect(throws: TensorError.axisOutOfRange(axis: 2, rank: 2)) { try a.checkedSum(axes: [2]) }
        #expect(throws: TensorError.self) { try a.checkedPermuted([0, 0]) }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([0]).checkedMax() }
        #expect(throws: TensorError.self) { try checkedDot(Tensor<Double>.zeros([3]), Tensor.zeros([4])) }
    }

    @Test func programmerErrorsStopWithBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([3, 4]) + Tensor<Double>.zeros([3])
        }
    }

    @Test func outOfRangeIndexStopsNamingTheIndex() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([3, 4])[at: 0, 7]
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("index 7 is out of range for axis 1 of size 4"))
    }
}

@Suite struct ElementwiseTests {
    let f: Fixtures
    let x: Tensor<Double>, y: Tensor<Double>, v: Tensor<Double>
    init() throws {
        f = try Fixtures.load("tensor.json")
        x = try f.real("x"); y = try f.real("y"); v = try f.real("v")
    }

    @Test func arithmeticWithBroadcastingIsExact() throws {
        #expect(x + y == (try f.real("x+y")))
        #expect(x * v == (try f.real("x*v")))
        #expect(x[.all, ..<1, .all] - y == (try f.real("x[:,:1,:]-y")))
        #expect(try f.real("col") * f.real("row") == (try f.real("col*row")))
        #expect(x / 2.5 == (try f.real("x/2.5")))
        #expect(2.5 - x == (try f.real("2.5-x")))
        #expect(v / x == (try f.real("v/x")))
        #expect(x.transposed + v.reshaped([5, 1, 1]) == (try f.real("x.T+v[:,None,None]")))
    }

    @Test func inPlaceOperators() throws {
        var a = x
        a += y
        #expect(a == (try f.real("x+y")))
        a -= y
        #expect(maxAbsoluteError(a, x) <= 4 * Double.ulpOfOne * 4)  // (x + y) - y: two roundings of O(4) values
        var p = x
        p *= v
        #expect(p == (try f.real("x*v")))
        var b = x
        b /= 2.5
        #expect(b == (try f.real("x/2.5")))
        #expect(x == (try f.real("x")))  // the original is untouched (copy-on-write)
    }

    @Test func mathFunctionsMatchNumPy() throws {
        let cases: [(Tensor<Double>, String)] = [
            (exp(x), "exp(x)"), (log(abs(x)), "log(abs(x))"), (sqrt(abs(x)), "sqrt(abs(x))"),
            (sin(x), "sin(x)"), (cos(x), "cos(x)"), (tan(x), "tan(x)"), (pow(abs(x), 1.7), "pow(abs(x),1.7)"),
        ]
        for (value, key) in cases {
            #expect(maxRelativeError(value, try f.real(key)) <= libmTolerance, "\(key)")
        }
        #expect(clip(x, -0.5, 0.5) == (try f.real("clip(x,-0.5,0.5)")))
        #expect(maximum(x, y) == (try f.real("maximum(x,y)")))
        #expect(minimum(x, v) == (try f.real("minimum(x,v)")))
        #expect(`where`(x .> 0, x, y) == (try f.real("where(x>0,x,y)")))
        #expect((x .> y) == (try f.bool("x>y")))
        #expect((x .<= 0.1) == (try f.bool("x<=0.1")))
    }

    @Test func nanPropagatesLikeNumPy() {
        let a = Tensor<Double>([1, .nan, 3]), b = Tensor<Double>([2, 2, .nan])
        #expect(maximum(a, b).elements.map { $0.isNaN } == [false, true, true])
        #expect(clip(a, 0, 2).elements[1].isNaN)
        #expect(a.max().isNaN && a.min().isNaN)
        #expect(a.argmax() == 1 && a.argmin() == 1)
        #expect((a .== a).elements == [true, false, true])
        #expect(!a.allFinite && a.isNaNMask.elements == [false, true, false])
    }

    @Test func castsFollowNumPy() throws {
        #expect((x * 10).cast(to: Int32.self).cast(to: Int64.self) == (try f.integer("(x*10).astype(int32)")))
        #expect((abs(x) * 50).cast(to: UInt8.self).cast(to: Int64.self) == (try f.integer("(abs(x)*50).astype(uint8)")))
        #expect((x .> 0).cast(to: Double.self) == (try f.real("(x>0).astype(float64)")))
        #expect((try f.complex("c")).cast(to: Double.self) == (try f.real("c.astype(float64)")))
        #expect(Tensor<Double>([.nan, 1e300, -1e300, -2.7]).cast(to: Int32.self).elements
                == [0, Int32.max, Int32.min, -2])
        #expect(Tensor<Double>([0, -0.0, 0.5]).cast(to: Bool.self).elements == [false, false, true])
        #expect(Tensor<Double>([1.5]).cast(to: Float.self).elements == [1.5])
    }

    @Test func complexPartsAndFunctions() throws {
        let c = try f.complex("c")
        #expect(c.real == (try f.real("c.real")))
        #expect(c.imaginary == (try f.real("c.imag")))
        #expect(c.conjugate == (try f.complex("conj(c)")))
        #expect(maxRelativeError(abs(c), try f.real("abs(c)")) <= complexTolerance)
        #expect(maxRelativeError(c.phase, try f.real("angle(c)")) <= complexTolerance)
        // Same formula (ac − bd, ad + bc); allow 1 ulp of the modulus for a fused multiply-add.
        #expect(maxRelativeError(c * c, try f.complex("c*c")) <= 2.3e-16)
        #expect(maxRelativeError(c / c.flipped(axis: 0), try f.complex("c/c[::-1]")) <= complexTolerance)
        for (value, key) in [(exp(c), "exp(c)"), (sqrt(c), "sqrt(c)"), (log(c), "log(c)")] {
            #expect(maxRelativeError(value, try f.complex(key)) <= complexTolerance, "\(key)")
        }
        let rebuilt = Tensor<Complex<Double>>(real: c.real, imaginary: c.imaginary)
        #expect(rebuilt == c)
    }

    @Test func floatElementsWork() throws {
        let xf: Tensor<Float> = try f.real("x", as: Float.self)
        let yf: Tensor<Float> = try f.real("y", as: Float.self)
        // x.astype(float32) + y.astype(float32) in NumPy: the same IEEE single-precision sums.
        #expect(xf + yf == (try f.real("x32+y32", as: Float.self)))
        #expect(maxRelativeError(exp(xf), try f.real("exp(x32)", as: Float.self)) <= 4 * Double(Float.ulpOfOne))
    }

    /// The element types added for NumPy's integer dtypes (issue 15) work
    /// in the generic kernels: arithmetic, reductions, comparisons, casts
    /// (NumPy: `np.array([1, 65535, 3], np.uint16).astype(np.int8)` is
    /// `[1, -1, 3]`; `np.uint64(2**64 - 1).astype(np.float32)` is
    /// `1.8446744e19`, `.astype(np.int64)` is `-1`).
    @Test func newIntegerElementTypes() throws {
        let u16 = Tensor<UInt16>([1, 65535, 3])
        #expect(u16.max() == 65535 && u16.argmax() == 1 && u16.min() == 1)
        #expect((u16 - 1).elements == [0, 65534, 2])
        #expect(u16.cast(to: Int8.self).elements == [1, -1, 3])
        #expect(u16.cast(to: Double.self).sum() == 65539)
        let i8 = Tensor<Int8>(shape: [2, 2], elements: [-128, -1, 0, 127])
        #expect(i8.sum(axis: 0).elements == [-128, 126])
        #expect(i8.cast(to: UInt16.self).elements == [65408, 65535, 0, 127])
        #expect(i8.cast(to: Bool.self).elements == [true, true, false, true])
        let u64 = Tensor<UInt64>([UInt64.max, 1 << 63, 5])
        #expect(u64.cast(to: Float.self).elements == [18446744073709551616, 9223372036854775808, 5])
        #expect(u64.cast(to: Int64.self).elements == [-1, Int64.min, 5])
        #expect(u64.cast(to: UInt32.self).elements == [UInt32.max, 0, 5])
        #expect(Tensor<Double>([-1, 70000, .nan, 2.9]).cast(to: UInt16.self).elements == [0, 65535, 0, 2])
        #expect(Tensor<Int16>.arange(4).elements == [0, 1, 2, 3])
        #expect(Tensor<UInt32>.zeros([2]).dtype == .uint32 && UInt32.dtype.byteCount == 4 && DType.uint16.description == "uint16")
    }
}
