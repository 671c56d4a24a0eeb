import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography

/// Errors thrown by BeamlineAlignment for unusable input: stacks, angles,
/// regions of interest, shifts and options.
///
/// Every case names the argument and says what was expected and what was
/// received, so ``description`` is useful alone.
public enum AlignmentError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or an option); see `ArgumentError`.
    case argument(ArgumentError)
    /// The optimiser from BeamlineSolvers rejected the problem.
    case solver(SolverError)
    /// The tomography layer rejected a sinogram or geometry.
    case tomography(TomographyError)

    /// A one-line message naming the argument and the problem.
    public var description: String {
        switch self {
        case let .argument(error): return error.description
        case let .solver(error): return error.description
        case let .tomography(error): return error.description
        }
    }
}
