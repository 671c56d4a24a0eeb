import BeamlineOperators
import BeamlineTensor

/// The element types of ``CSRMatrix`` before `OperatorScalar` existed.
@available(*, deprecated, renamed: "OperatorScalar")
public typealias SparseElement = OperatorScalar

extension CSRMatrix: LinearOperator {
    /// `y = A x` (the parallel SpMV).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Element>, into y: UnsafeMutableBufferPointer<Element>) {
        multiply(x, into: y)
    }

    /// `x = Aᵀ y` (an SpMV with the cached transpose).
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Element>, into x: UnsafeMutableBufferPointer<Element>) {
        multiplyTransposed(y, into: x)
    }
}
