// The one finite check of Beamline: every entry point that rejects NaN or
// infinity (tensor, solver, registration, projector and sparse validation)
// calls ``Tensor/allFinite`` or ``Tensor/allFinite(_:)``.

extension Tensor where Element: FloatingElement {
    /// True when no element is NaN or infinite (for complex elements,
    /// neither part is).
    ///
    /// `x − x` is 0 for finite `x` and NaN for NaN or ±∞, so each block of
    /// 2¹⁶ elements is one NaN-propagating sum (vectorisable, no branch per
    /// element); blocks run in parallel. The answer does not depend on the
    /// thread count. A tensor that is not contiguous is copied first.
    @inlinable
    public var allFinite: Bool {
        withUnsafeBufferPointer { Self.allElementsFinite($0) }
    }

    /// True when no element of `values` is NaN or infinite: the check behind
    /// ``allFinite``, for code that holds a buffer rather than a tensor.
    @inlinable
    public static func allElementsFinite(_ values: UnsafeBufferPointer<Element>) -> Bool {
        let count = values.count, block = 1 << 16
        guard count > 0 else { return true }
        if count <= block { return finiteProbe(values.baseAddress!, count: count) }
        let blocks = (count + block - 1) / block
        var flags = [Bool](repeating: true, count: blocks)
        flags.withUnsafeMutableBufferPointer { out in
            let result = SendableMutableBuffer(out), input = SendableBuffer(values)
            Parallel.forEachBlock(count: count, blockSize: block) { index, range in
                result[index] = finiteProbe(input.pointer(at: range.lowerBound, count: range.count), count: range.count)
            }
        }
        return !flags.contains(false)
    }

    /// One block of ``allElementsFinite(_:)``.
    @inlinable
    static func finiteProbe(_ values: UnsafePointer<Element>, count: Int) -> Bool {
        var probe = Element.RealComponent.zero
        for i in 0..<count {
            let value = values[i]
            probe += (value.realComponent - value.realComponent)
                + (value.imaginaryComponent - value.imaginaryComponent)
        }
        return probe == 0
    }
}
