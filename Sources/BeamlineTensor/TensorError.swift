/// Errors thrown by the checked (`throws`) forms of tensor operations and by
/// the linear-algebra and FFT entry points.
///
/// Every case names the argument or operation and the expected and received
/// values, so that a message is useful on its own. An argument the entry
/// point cannot use (a shape that does not fit, a value out of range, NaN
/// or infinity) is ``argument(_:)``, the ``ArgumentError`` that every
/// Beamline module's error wraps; the other cases are the tensor layer's
/// own.
///
/// Every throwing entry point of `BeamlineTensor` throws exactly this type
/// (`throws(TensorError)`), so a `catch` needs no cast:
///
/// ```swift
/// do { _ = try Tensor<Double>(checkedShape: [2, 3], elements: values) }
/// catch .argument(let bad) { print(bad.argument, bad.expected) }
/// catch { print(error) }
/// ```
public enum TensorError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument had a shape, value or content the operation does not
    /// accept (its name, what was expected, what was received).
    case argument(ArgumentError)
    /// Two shapes could not be broadcast together under NumPy's rules.
    case notBroadcastable(operation: String, lhs: [Int], rhs: [Int])
    /// An index lay outside an axis.
    case indexOutOfRange(axis: Int, index: Int, size: Int)
    /// An axis number lay outside `-rank..<rank`.
    case axisOutOfRange(axis: Int, rank: Int)
    /// An element count did not match the product of a shape.
    case elementCountMismatch(shape: [Int], count: Int)
    /// A matrix was exactly singular (LAPACK `info > 0` in a factorisation).
    case singularMatrix(operation: String, pivot: Int)
    /// A matrix was not positive definite (Cholesky, LAPACK `info > 0`).
    case notPositiveDefinite(operation: String, minorOrder: Int)
    /// An iterative LAPACK routine (SVD, eigenvalues) did not converge.
    case noConvergence(operation: String, info: Int)
    /// A C back end reported an error code that has no better description.
    case backendFailure(routine: String, code: Int)

    /// The message: the operation or argument, what was expected and what was received.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .notBroadcastable(operation, lhs, rhs):
            return "\(operation): shapes \(lhs) and \(rhs) cannot be broadcast together"
        case let .indexOutOfRange(axis, index, size):
            return "index \(index) is out of range for axis \(axis) of size \(size)"
        case let .axisOutOfRange(axis, rank):
            return "axis \(axis) is out of range for a tensor of rank \(rank)"
        case let .elementCountMismatch(shape, count):
            return "shape \(shape) needs \(shape.reduce(1, *)) elements, received \(count)"
        case let .singularMatrix(operation, pivot):
            return "\(operation): the matrix is singular (zero pivot at position \(pivot))"
        case let .notPositiveDefinite(operation, minor):
            return "\(operation): the matrix is not positive definite (leading minor of order \(minor))"
        case let .noConvergence(operation, info):
            return "\(operation) did not converge (LAPACK info \(info))"
        case let .backendFailure(routine, code):
            return "\(routine) failed with code \(code)"
        }
    }
}
