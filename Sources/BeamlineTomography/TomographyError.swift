import BeamlineSolvers
import BeamlineTensor

/// Errors thrown by BeamlineTomography for unusable input: geometry,
/// volumes, projections, sinograms, parameters and files.
///
/// Every case names the argument (or JSON field) and says what was
/// expected and what was received, so ``description`` is useful alone.
public enum TomographyError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// A solver from BeamlineSolvers rejected the problem.
    case solver(SolverError)
    /// A geometry without projections (or with a zero-sized volume or
    /// detector) cannot be projected.
    case emptyGeometry(String)
    /// A rotation matrix is not orthonormal with determinant +1.
    case notARotation(index: Int, deviation: Double)
    /// Geometry JSON that cannot be parsed or lacks a field.
    case malformedJSON(field: String, problem: String)
    /// A file could not be read or written.
    case file(path: String, problem: String)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .solver(error):
            return error.description
        case let .emptyGeometry(what):
            return "empty geometry: \(what)"
        case let .notARotation(index, deviation):
            return "rotations[\(index)] is not a rotation matrix (max |RᵀR − I| or |det R − 1| = \(deviation), tolerance 1e-6)"
        case let .malformedJSON(field, problem):
            return "malformed geometry JSON at \(field): \(problem)"
        case let .file(path, problem):
            // File errors from the IO layer name their file already.
            return problem.hasPrefix(path + ": ") ? problem : "\(path): \(problem)"
        }
    }
}

