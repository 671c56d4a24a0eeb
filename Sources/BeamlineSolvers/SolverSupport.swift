import BeamlineOperators
import BeamlineTensor

/// Errors thrown by the solvers, optimisers, losses and operator
/// combinators when their input is unusable.
///
/// Each case names the argument and the expected and received values.
public enum SolverError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// The operator has no rows or no columns.
    case emptyOperator(rows: Int, columns: Int)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .emptyOperator(rows, columns):
            return "the operator is empty (shape (\(rows), \(columns))); solvers need at least one row and one column"
        }
    }
}

/// A zero-filled scratch array of `count` elements.
@inlinable
func zeroArray<S: RealElement>(_ count: Int) -> [S] {
    [S](repeating: 0, count: count)
}

/// Validates a vector argument: length and finiteness.
@inlinable
func checkedVector<S: RealElement>(_ tensor: Tensor<S>, count: Int, name: String) throws(SolverError) -> [S] {
    guard tensor.count == count && tensor.shape.filter({ $0 != 1 }).count <= 1 else {
        throw .shapeMismatch(argument: name, expected: [count], received: tensor.shape)
    }
    let values = tensor.elements
    for value in values where !value.isFinite { throw .nonFiniteValues(argument: name) }
    return values
}

/// Checks that an operator can be solved with.
@inlinable
func checkNonEmpty<Op: LinearOperator>(_ op: Op) throws(SolverError) {
    guard op.rows > 0 && op.columns > 0 else { throw .emptyOperator(rows: op.rows, columns: op.columns) }
}

/// Checks a finite, non-negative parameter.
@inlinable
func checkParameter(_ value: Double, _ name: String, positive: Bool = false) throws(SolverError) {
    guard value.isFinite && (positive ? value > 0 : value >= 0) else {
        throw .invalidArgument(name: name, expected: positive ? "a finite number > 0" : "a finite number ≥ 0",
                               received: "\(value)")
    }
}

