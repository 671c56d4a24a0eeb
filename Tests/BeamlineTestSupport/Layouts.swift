import BeamlineTensor

/// One memory layout of a tensor's logical values: the view to test and a
/// freshly built C-contiguous tensor holding the same logical values, made
/// by plain index arithmetic (not by Tensor's own copy loops), so that a
/// kernel that reads a view with the wrong offset or stride disagrees with it.
public struct LayoutCase<Element: TensorElement> {
    /// What the layout is: "contiguous", "transposed", "strided", "flipped",
    /// "broadcast", "offset".
    public let name: String
    /// The tensor in this layout.
    public let view: Tensor<Element>
    /// The same logical values, C-contiguous.
    public let expected: Tensor<Element>
}

/// The layouts that kernels must read correctly, in the manner of
/// swift-collections' `withEveryDeque`: every case has the logical shape
/// `shape` (rank ≥ 1) and values `value(i)` at C-order position `i`
/// (broadcast repeats the first slice along axis 0, so its values differ).
///
/// - contiguous: the plain tensor;
/// - transposed: `.transposed` of a C-contiguous tensor of the reversed shape;
/// - strided: every other element of the last axis of a larger tensor;
/// - flipped: `.flipped(axis: 0)` of a tensor holding the values reversed
///   along axis 0 (a negative stride);
/// - offset: a view starting after a prefix of the storage (`[1...]` of a
///   tensor one longer on axis 0);
/// - broadcast: the first slice along axis 0 broadcast back to `shape`
///   (a zero stride).
public func everyLayout<Element: TensorElement>(shape: [Int], value: (Int) -> Element) throws -> [LayoutCase<Element>] {
    precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "everyLayout: shape \(shape) needs rank ≥ 1 and no empty axis")
    let count = shape.reduce(1, *)
    let rank = shape.count
    let values = (0..<count).map(value)
    let expected = Tensor(shape: shape, elements: values)

    /// C-order strides of a shape.
    func strides(_ s: [Int]) -> [Int] {
        var out = [Int](repeating: 1, count: s.count)
        for axis in stride(from: s.count - 2, through: 0, by: -1) { out[axis] = out[axis + 1] * s[axis + 1] }
        return out
    }
    /// The multi-index of C-order position `i` in `shape`.
    func index(_ i: Int) -> [Int] {
        var rest = i
        return strides(shape).map { stride in defer { rest %= stride }; return rest / stride }
    }
    func position(_ idx: [Int], in s: [Int]) -> Int { zip(idx, strides(s)).reduce(0) { $0 + $1.0 * $1.1 } }

    var cases = [LayoutCase(name: "contiguous", view: Tensor(shape: shape, elements: values), expected: expected)]

    let reversed = Array(shape.reversed())
    var transposedStorage = values
    for i in 0..<count { transposedStorage[position(index(i).reversed(), in: reversed)] = values[i] }
    cases.append(LayoutCase(name: "transposed", view: Tensor(shape: reversed, elements: transposedStorage).transposed,
                            expected: expected))

    var wide = shape
    wide[rank - 1] *= 2
    var wideStorage = [Element](repeating: values[0], count: count * 2)
    for i in 0..<count {
        var idx = index(i)
        idx[rank - 1] *= 2
        wideStorage[position(idx, in: wide)] = values[i]
    }
    let everyOther: [any TensorIndexExpression] = Array(repeating: TensorIndex.all, count: rank - 1) + [TensorIndex.stride(by: 2)]
    cases.append(LayoutCase(name: "strided", view: try Tensor(shape: wide, elements: wideStorage).view(everyOther), expected: expected))

    var flippedStorage = values
    for i in 0..<count {
        var idx = index(i)
        idx[0] = shape[0] - 1 - idx[0]
        flippedStorage[position(idx, in: shape)] = values[i]
    }
    cases.append(LayoutCase(name: "flipped", view: Tensor(shape: shape, elements: flippedStorage).flipped(axis: 0),
                            expected: expected))

    var longer = shape
    longer[0] += 1
    let sliceCount = count / shape[0]
    let offsetStorage = Array(values.prefix(sliceCount)) + values
    cases.append(LayoutCase(name: "offset", view: Tensor(shape: longer, elements: offsetStorage)[1...],
                            expected: expected))

    var one = shape
    one[0] = 1
    let firstSlice = Array(values.prefix(sliceCount))
    let broadcastValues = (0..<count).map { firstSlice[$0 % sliceCount] }
    cases.append(LayoutCase(name: "broadcast", view: Tensor(shape: one, elements: firstSlice).broadcast(to: shape),
                            expected: Tensor(shape: shape, elements: broadcastValues)))
    return cases
}
