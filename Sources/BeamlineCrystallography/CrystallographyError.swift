import BeamlineIO
import BeamlineSolvers
import BeamlineTensor

/// Errors of BeamlineCrystallography. Every case names the argument (a
/// table column, a parameter, a file) and says what was expected and what
/// was received.
public enum CrystallographyError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its length, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// The optimiser rejected the problem.
    case solver(SolverError)
    /// A point-group symmetry name that is not known.
    case unknownSymmetry(name: String, known: [String])
    /// A frame of the table without rows where one is required (the
    /// projection-map update needs at least one row per frame).
    case emptyFrame(frame: Int)
    /// The progress callback stopped the training.
    case cancelled(round: Int)
    /// A file could not be read, parsed or written.
    case file(path: String, problem: String)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .solver(error):
            return error.description
        case let .unknownSymmetry(name, known):
            return "symmetry: unknown point group \"\(name)\"; known: \(known.joined(separator: ", "))"
        case let .emptyFrame(frame):
            return "frames: frame \(frame) has no rows"
        case let .cancelled(round):
            return "cancelled during round \(round)"
        case let .file(path, problem):
            return "\(path): \(problem)"
        }
    }
}
