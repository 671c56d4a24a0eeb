import BeamlineTensor
import ComplexModule
import Testing

/// The inline layout (rank ≤ 4) and its heap fallback (rank > 4), the
/// fixed-arity element subscripts, and the one finite check. Expected values
/// are exact: positions computed by hand from row-major order.
@Suite struct InlineLayoutTests {
    @Test func fixedAritySubscriptsAgreeWithTheVariadicOne() {
        var t = Tensor<Double>(shape: [2, 3, 4, 5], elements: (0..<120).map(Double.init))
        #expect(t[at: 1, 2, 3, 4] == 119 && t[at: 0, 1, 2, 3] == 33)
        #expect(t[at: -1, -1, -1, -1] == 119)
        let m = t[1, 2]                         // a (4, 5) view
        #expect(m[at: 3, 4] == 119 && m[at: 0, 0] == 100)
        let v = m[0]                            // a (5,) view
        #expect(v[at: 4] == 104 && v[at: -5] == 100)
        let c = t[0]                            // (3, 4, 5)
        #expect(c[at: 2, 3, 4] == 59)
        t[at: 0, 0, 0, 1] = -1
        #expect(t.elements[1] == -1)
        let transposed = Tensor<Double>(shape: [2, 3], elements: [0, 1, 2, 3, 4, 5]).transposed
        #expect(transposed[at: 2, 1] == 5 && transposed[at: 0, 1] == 3)
    }

    @Test func ranksAboveTheInlineLimitUseTheHeapFallback() {
        let shape = [2, 1, 3, 1, 2, 2]
        let t = Tensor<Int64>(shape: shape, elements: (0..<24).map(Int64.init))
        #expect(t.shape == shape && t.count == 24 && t.rank == 6)
        #expect(t.strides == [12, 12, 4, 4, 2, 1])
        #expect(t[at: 1, 0, 2, 0, 1, 1] == 23)
        let flipped = t.flipped(axis: 5)
        #expect(flipped[at: 0, 0, 0, 0, 0, 0] == 1)
        #expect(flipped.contiguous().elements == t.elements.indices.map { Int64($0 ^ 1) })
        #expect(t.squeezed().shape == [2, 3, 2, 2])
        #expect(t.reshaped([24]).elements == t.elements)
        #expect(t + t == t * 2)
        #expect(t.sum() == 276)
    }

    @Test func countsAndEmptinessComeFromTheLayout() {
        #expect(Tensor<Float>(scalar: 2).count == 1 && !Tensor<Float>(scalar: 2).isEmpty)
        #expect(Tensor<Float>(shape: [3, 0, 2], repeating: 0).isEmpty)
        #expect(Tensor<Float>(shape: [3, 0, 2, 1, 1], repeating: 0).count == 0)
        let broadcast = Tensor<Double>([1, 2, 3]).broadcast(to: [4, 3])
        #expect(broadcast.count == 12 && broadcast.strides == [0, 1])
    }

    @Test func allFiniteChecksEveryBlockAndBothComplexParts() {
        var big = Tensor<Double>(shape: [200_001], repeating: 1)
        #expect(big.allFinite)
        big[at: 199_999] = .infinity
        #expect(!big.allFinite)
        big[at: 199_999] = 1
        big[at: 3] = .nan
        #expect(!big.allFinite)
        let z = Tensor<Complex<Float>>([Complex(1, 2), Complex(3, .nan)])
        #expect(!z.allFinite && z[0..<1].allFinite)
        #expect(Tensor<Double>(shape: [0], repeating: 0).allFinite)
    }
}
