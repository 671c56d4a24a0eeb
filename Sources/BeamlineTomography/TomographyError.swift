/// Errors thrown by BeamlineTomography for unusable input: geometry,
/// volumes, projections, sinograms, parameters and files.
///
/// Every case names the argument (or JSON field) and says what was
/// expected and what was received, so ``description`` is useful alone.
public enum TomographyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An array's shape does not fit the geometry or the operator.
    case shapeMismatch(argument: String, expected: [Int], received: [Int])
    /// A geometry without projections (or with a zero-sized volume or
    /// detector) cannot be projected.
    case emptyGeometry(String)
    /// A rotation matrix is not orthonormal with determinant +1.
    case notARotation(index: Int, deviation: Double)
    /// An input held NaN or infinity.
    case nonFiniteValues(argument: String)
    /// A parameter is outside its allowed range.
    case invalidArgument(name: String, expected: String, received: String)
    /// Geometry JSON that cannot be parsed or lacks a field.
    case malformedJSON(field: String, problem: String)
    /// A file could not be read or written.
    case file(path: String, problem: String)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .shapeMismatch(argument, expected, received):
            return "\(argument): expected shape \(expected), received \(received)"
        case let .emptyGeometry(what):
            return "empty geometry: \(what)"
        case let .notARotation(index, deviation):
            return "rotations[\(index)] is not a rotation matrix (max |RᵀR − I| or |det R − 1| = \(deviation), tolerance 1e-6)"
        case let .nonFiniteValues(argument):
            return "\(argument) contains NaN or infinite values"
        case let .invalidArgument(name, expected, received):
            return "invalid \(name): expected \(expected), received \(received)"
        case let .malformedJSON(field, problem):
            return "malformed geometry JSON at \(field): \(problem)"
        case let .file(path, problem):
            return "\(path): \(problem)"
        }
    }
}
