import BeamlineTestSupport
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

// Expected values: Tests/Fixtures/generate_tensor.py (NumPy 2.4) → Fixtures/tensor.json.

/// The exactly representable test vector of generate_tensor.py:
/// `((arange(n) * 7919) % 10007) / 1024 - 4.1`.
func exactVector(_ n: Int) -> Tensor<Double> {
    Tensor(unsafeUninitializedShape: [n]) { buffer in
        for i in 0..<n { buffer[i] = Double((i * 7919) % 10007) / 1024.0 - 4.1 }
    }
}

@Suite struct ReductionTests {
    let f: Fixtures
    let x: Tensor<Double>
    init() throws {
        f = try Fixtures.load("tensor.json")
        x = try f.real("x")
    }

    /// NumPy's pairwise summation order is reproduced exactly, so these
    /// compare bit for bit.
    @Test func sumsMatchNumPyBitForBit() throws {
        #expect(exactVector(100_003).sum() == (try f.real("exact.sum()")).scalar)
        #expect(exactVector(100_003)[.stride(by: 3)].sum() == (try f.real("exact[::3].sum()")).scalar)
        #expect(x.sum() == (try f.real("x.sum()")).scalar)
        #expect(x.sum(axis: 2) == (try f.real("x.sum(2)")))
        let m = try f.real("m")
        #expect(m.sum(axis: 1) == (try f.real("m.sum(1)")))
        #expect(m.sum(axis: 0) == (try f.real("m.sum(0)")))
        #expect(x.sum(axis: 0) == (try f.real("x.sum(0)")))
    }

    /// Whole reductions of a contiguous tensor take a shortcut (one run, no
    /// loop plan); they must give the bits of the general path, which a
    /// reduction over all axes listed explicitly still takes, and NumPy's
    /// `keepdims` shape (`np.sum(x, keepdims=True).shape == (1, 1, 1)`).
    @Test func wholeReductionShortcutMatchesTheGeneralPath() throws {
        #expect(x.sum() == (try x.checkedSum(axes: [0, 1, 2])).scalar)
        #expect(x.max() == (try x.checkedMax(axes: [0, 1, 2])).scalar)
        #expect(x.min() == (try x.checkedMin(axes: [0, 1, 2])).scalar)
        let kept = try x.checkedSum(axes: nil, keepingDimensions: true)
        #expect(kept.shape == [1, 1, 1] && kept[at: 0, 0, 0] == x.sum())
        #expect(Tensor<Double>(shape: [], repeating: 2.5).sum() == 2.5)
        var withNaN = x
        withNaN[at: 1, 2, 3] = .nan
        #expect(withNaN.max().isNaN && withNaN.min().isNaN)   // NumPy propagates NaN
    }

    @Test func sumsAlongOtherAxes() throws {
        #expect(maxRelativeError(x.sum(axis: 1), try f.real("x.sum(1)")) <= reorderTolerance)
        #expect(maxRelativeError(x.sum(axes: [0, 2]), try f.real("x.sum((0,2))")) <= reorderTolerance)
        #expect(maxRelativeError(x.permuted([2, 0, 1]).sum(axis: 1), try f.real("x.transpose(2,0,1).sum(1)"))
                <= reorderTolerance)
        let kept = x.sum(axis: 1, keepingDimensions: true)
        #expect(kept.shape == [3, 1, 5])
        #expect(maxRelativeError(kept, try f.real("x.sum(1,keepdims)")) <= reorderTolerance)
        #expect(x.sum(axis: -1) == x.sum(axis: 2))
    }

    @Test func meanVarianceStandardDeviation() throws {
        #expect(maxRelativeError(Tensor(scalar: x.mean()), try f.real("x.mean()")) <= reorderTolerance)
        #expect(maxRelativeError(x.mean(axis: 1), try f.real("x.mean(1)")) <= reorderTolerance)
        #expect(maxRelativeError(Tensor(scalar: x.variance()), try f.real("x.var()")) <= reorderTolerance)
        #expect(maxRelativeError(x.variance(axis: 0, ddof: 1), try f.real("x.var(0,ddof=1)")) <= reorderTolerance)
        #expect(maxRelativeError(x.standardDeviation(axis: 2), try f.real("x.std(2)")) <= reorderTolerance)
        let c = try f.complex("c")
        #expect(maxRelativeError(Tensor(scalar: c.variance()), try f.real("c.var()")) <= reorderTolerance)
        #expect(maxRelativeError(c.sum(axis: 1), try f.complex("c.sum(1)")) <= reorderTolerance)
        #expect(maxRelativeError(Tensor(scalar: c.mean()), try f.complex("c.mean()")) <= reorderTolerance)
    }

    @Test func normsAndDot() throws {
        let v = try f.real("v")
        #expect(maxRelativeError(Tensor(scalar: x.norm()), try f.real("norm(x)")) <= reorderTolerance)
        #expect(maxRelativeError(Tensor(scalar: (try f.complex("c")).norm()), try f.real("norm(c)")) <= reorderTolerance)
        #expect(maxRelativeError(x.norm(axis: 1), try f.real("norm(x,axis=1)")) <= reorderTolerance)
        #expect(maxRelativeError(Tensor(scalar: v.norm(order: .one)), try f.real("norm(v,1)")) <= reorderTolerance)
        #expect(v.norm(order: .infinity) == (try f.real("norm(v,inf)")).scalar)
        #expect(maxRelativeError(Tensor(scalar: dot(v, v.flipped(axis: 0))), try f.real("dot(v,v[::-1])"))
                <= reorderTolerance)
    }

    @Test func extremaAndArgExtrema() throws {
        #expect(x.max(axis: 1) == (try f.real("x.max(1)")))
        #expect(x.min(axis: 2) == (try f.real("x.min(2)")))
        #expect(x.max() == (try f.real("x.max()")).scalar)
        #expect(x.argmax(axis: 0) == (try f.integer("x.argmax(0)")))
        #expect(x.argmin(axis: 2) == (try f.integer("x.argmin(2)")))
        #expect(Int64(x.argmax()) == (try f.integer("x.argmax()")).scalar)
        #expect(Int64(x.argmin()) == (try f.integer("x.argmin()")).scalar)
        // Ties: the first occurrence wins, as in NumPy.
        #expect(Tensor<Int32>([3, 7, 7, 1, 1]).argmax() == 1)
        #expect(Tensor<Int32>([3, 7, 7, 1, 1]).argmin() == 3)
    }

    @Test func resultsIdenticalWhateverTheThreadCount() {
        let big = exactVector(1 << 20) * 1.37
        let matrix = big.reshaped([1024, 1024])
        let one = Parallel.withThreadCount(1) {
            (big.sum(), matrix.sum(axis: 0), matrix.sum(axis: 1), matrix.max(axis: 0), exp(matrix))
        }
        let two = Parallel.withThreadCount(2) {
            (big.sum(), matrix.sum(axis: 0), matrix.sum(axis: 1), matrix.max(axis: 0), exp(matrix))
        }
        let seven = Parallel.withThreadCount(7) { big.sum() }
        #expect(one.0 == two.0 && one.0 == seven)
        #expect(one.1 == two.1 && one.2 == two.2 && one.3 == two.3 && one.4 == two.4)
        // And the parallel pairwise sum equals NumPy's serial pairwise result:
        // the serial pairwise sum of a strided view (the same algorithm without the split).
        #expect(one.0 == big[.stride(by: 1)].sum())
    }
}

@Suite struct LongExtremumTests {
    /// Long max/min runs are split across threads in blocks; the answer must
    /// be the serial one (extrema are exact), and a NaN anywhere must win.
    @Test func longExtremaMatchTheSerialScanAndPropagateNaN() {
        Parallel.withThreadCount(2) {
            var big = exactVector(1 << 19)
            let expectedMax = big.elements.max()!, expectedMin = big.elements.min()!
            #expect(big.max() == expectedMax && big.min() == expectedMin)
            #expect(big[.stride(by: 3)].max() == big[.stride(by: 3)].elements.max()!)
            big[at: 400_001] = .nan
            #expect(big.max().isNaN && big.min().isNaN)
            #expect(big.argmax() == 400_001)
        }
    }
}

@Suite struct CreationTests {
    let f: Fixtures
    init() throws { f = try Fixtures.load("tensor.json") }

    @Test func rangesMatchNumPy() throws {
        #expect(Tensor<Double>.linspace(0, 1, count: 7) == (try f.real("linspace(0,1,7)")))
        #expect(Tensor<Double>.linspace(-3, 5, count: 10, endpoint: false)
                == (try f.real("linspace(-3,5,10,endpoint=False)")))
        #expect(Tensor<Double>.arange(0.5, 3.2, step: 0.3) == (try f.real("arange(0.5,3.2,0.3)")))
        #expect(Tensor<Double>.arange(-2, 2, step: 0.5) == (try f.real("arange(-2,2,0.5)")))
        #expect(Tensor<Double>.identity(3) == (try f.real("eye(3)")))
        #expect(Tensor<Int32>.arange(4).elements == [0, 1, 2, 3])
    }

    @Test func fillsAndRandom() {
        #expect(Tensor<Float>.full([2, 2], 3).elements == [3, 3, 3, 3])
        #expect(Tensor<Complex<Double>>.ones([2]).elements == [Complex(1, 0), Complex(1, 0)])
        let a = Tensor<Double>.uniform([1000], in: 2..<5, seed: 42)
        let b = Tensor<Double>.uniform([1000], in: 2..<5, seed: 42)
        #expect(a == b)
        #expect(a.min() >= 2 && a.max() < 5)
        let n = Tensor<Double>.normal([200_000], mean: 1, standardDeviation: 2, seed: 7)
        // Sample mean and std of 2e5 normals: standard errors 0.0045 and 0.0032; 5σ bounds.
        #expect(Swift.abs(n.mean() - 1) < 0.023)
        #expect(Swift.abs(n.standardDeviation() - 2) < 0.016)
        #expect(Tensor<Double>.uniform([3], seed: 1) != Tensor<Double>.uniform([3], seed: 2))
    }
}
