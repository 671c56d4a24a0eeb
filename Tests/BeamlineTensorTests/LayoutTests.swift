import BeamlineTensor
import BeamlineTestSupport
import Testing

/// The elementwise and reduction kernels read every layout correctly:
/// contiguous, transposed, strided, flipped (negative stride), offset and
/// broadcast (zero stride) views give the same results as the C-contiguous
/// tensor of the same logical values (`everyLayout`, BeamlineTestSupport).
///
/// The values are multiples of 1/4 below 2⁹ in magnitude, so every sum of a
/// few hundred of them is exact in any order: elementwise results and sums,
/// extrema and arg-extrema are compared bit for bit. Mean, variance and norm
/// divide or take roots, and a kernel may sum in another order for another
/// layout, so those are compared to 4 ulp-scale (1e-15 relative).
@Suite struct LayoutTests {
    static let shapes: [[Int]] = [[7], [3, 5], [4, 3, 5], [2, 3, 2, 4]]

    static func value(_ i: Int) -> Double { Double((i * 7919 + 13) % 997 - 498) / 4 }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-15 * max(abs(a), abs(b), 1) }

    @Test(arguments: shapes)
    func elementwise(shape: [Int]) throws {
        let other = try everyLayout(shape: shape) { Self.value($0 + 5) }
        for (c, o) in zip(try everyLayout(shape: shape, value: Self.value), other) {
            let (v, e) = (c.view, c.expected)
            #expect(v.elements == e.elements, "\(c.name): elements")
            #expect(v.contiguous().elements == e.elements, "\(c.name): contiguous()")
            #expect((v + o.view).elements == (e + o.expected).elements, "\(c.name): + another layout")
            #expect((v * 2.5 - 1).elements == (e * 2.5 - 1).elements, "\(c.name): scalar arithmetic")
            #expect((-v).elements == (-e).elements, "\(c.name): negation")
            #expect(exp(v * 0.01).elements == exp(e * 0.01).elements, "\(c.name): exp")
            #expect(sqrt(abs(v)).elements == sqrt(abs(e)).elements, "\(c.name): sqrt(abs)")
            #expect(v.map { $0 * $0 }.elements == e.map { $0 * $0 }.elements, "\(c.name): map")
            #expect(Tensor.zip(v, o.view, { max($0, $1) }).elements == Tensor.zip(e, o.expected, { max($0, $1) }).elements,
                    "\(c.name): zip")
            var written = v
            written += o.view
            #expect(written.elements == (e + o.expected).elements, "\(c.name): += writes through a unique copy")
            #expect(v.elements == e.elements, "\(c.name): the original view is unchanged by +=")
        }
    }

    @Test(arguments: shapes)
    func reductions(shape: [Int]) throws {
        for c in try everyLayout(shape: shape, value: Self.value) {
            let (v, e) = (c.view, c.expected)
            #expect(v.sum() == e.sum(), "\(c.name): sum")
            #expect(v.max() == e.max() && v.min() == e.min(), "\(c.name): max/min")
            #expect(v.argmax() == e.argmax() && v.argmin() == e.argmin(), "\(c.name): argmax/argmin")
            #expect(Self.close(v.mean(), e.mean()), "\(c.name): mean")
            #expect(Self.close(v.variance(ddof: 1), e.variance(ddof: 1)), "\(c.name): variance")
            #expect(Self.close(v.norm(), e.norm()), "\(c.name): norm")
            for axis in 0..<shape.count {
                #expect(v.sum(axis: axis).elements == e.sum(axis: axis).elements, "\(c.name): sum(axis: \(axis))")
                #expect(v.max(axis: axis).elements == e.max(axis: axis).elements, "\(c.name): max(axis: \(axis))")
                #expect(v.argmin(axis: axis).elements == e.argmin(axis: axis).elements, "\(c.name): argmin(axis: \(axis))")
                let (mv, me) = (v.mean(axis: axis, keepingDimensions: true), e.mean(axis: axis, keepingDimensions: true))
                #expect(mv.shape == me.shape && zip(mv.elements, me.elements).allSatisfy(Self.close),
                        "\(c.name): mean(axis: \(axis), keepingDimensions: true)")
            }
        }
    }

    /// The harness itself: the views really have the layouts they are named for.
    @Test func layoutsAreWhatTheySay() throws {
        let cases = try everyLayout(shape: [3, 4]) { Double($0) }
        #expect(cases.map(\.name) == ["contiguous", "transposed", "strided", "flipped", "offset", "broadcast"])
        let strides = Dictionary(uniqueKeysWithValues: cases.map { ($0.name, $0.view.strides) })
        #expect(strides["contiguous"] == [4, 1])
        #expect(strides["transposed"] == [1, 3])
        #expect(strides["strided"] == [8, 2])
        #expect(strides["flipped"] == [-4, 1])
        #expect(strides["offset"] == [4, 1])
        #expect(strides["broadcast"] == [0, 1])
    }
}

/// The shape queries that build no array agree with `shape` (NumPy's
/// `a.shape[i]`, `a.shape == s`), on inline and spilled (rank > 4) layouts.
@Suite struct ShapeQueryTests {
    @Test func lengthAndShapeComparisons() {
        for shape in [[5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [2, 1, 2, 1, 3, 2]] {
            let t = Tensor<Double>.zeros(shape)
            for axis in 0..<shape.count {
                #expect(t.length(ofAxis: axis) == shape[axis])
                #expect(t.length(ofAxis: axis - shape.count) == shape[axis], "negative axis counts from the end")
            }
            #expect(t.hasShape(shape))
            #expect(!t.hasShape(shape + [1]) && !t.hasShape(Array(shape.dropLast())))
            #expect(t.hasSameShape(as: Tensor<Float>.ones(shape)))
            #expect(t.transposed.hasShape(shape.reversed()))
            #expect(t.hasSameShape(as: t.transposed) == (shape == shape.reversed()))
        }
        #expect(!Tensor<Double>.zeros([3, 4]).hasShape([4, 3]))
    }
}
