import BeamlineTensor

/// The element types of linear operators, sparse matrices and projectors:
/// `Float` and `Double` (real types with BLAS and LAPACK back ends).
///
/// Every ``LinearOperator`` has an `OperatorScalar` as its ``LinearOperator/Scalar``,
/// and so do `CSRMatrix`, the projectors and the solvers that consume them.
public protocol OperatorScalar: RealElement, LinearAlgebraScalar, KernelScalar {}

extension Float: OperatorScalar {}
extension Double: OperatorScalar {}
