import BeamlineOperators
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor

/// Errors of BeamlineDetector. Every case names the argument that was
/// checked and the expected and received values.
public enum DetectorError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// A solver from BeamlineSolvers rejected the problem.
    case solver(SolverError)
    /// Building a sparse matrix failed.
    case sparse(SparseError)
    /// The progress callback stopped the work (after `rowsDone` of `total`
    /// rows); nothing is returned.
    case cancelled(rowsDone: Int, total: Int)
    /// A detector name that is not in the catalogue.
    case unknownDetector(name: String, known: [String])
    /// An energy outside the tabulated range of the absorption tables (keV).
    case energyOutOfRange(argument: String, energy: Double, minimum: Double, maximum: Double)
    /// A geometry whose rays do not cross the sensor slab (parallel to it or
    /// coming from behind it).
    case raysParallelToSensor(argument: String, received: String)

    /// A readable message naming the argument.
    public var description: String {
        switch self {
        case let .argument(error):
            // Detector messages start with the argument's name (the CLI turns
            // it into its flag), also for out-of-range values.
            if error.kind == .value { return "\(error.argument): expected \(error.expected), received \(error.received)" }
            return error.description
        case let .solver(error):
            return error.description
        case let .sparse(error):
            return error.description
        case let .cancelled(rowsDone, total):
            return "cancelled after \(rowsDone) of \(total) rows"
        case let .unknownDetector(name, known):
            return "detector: unknown detector name \"\(name)\"; known names: \(known.joined(separator: ", "))"
        case let .energyOutOfRange(argument, energy, minimum, maximum):
            return "\(argument): energy \(energy) keV is outside the tabulated range \(minimum)...\(maximum) keV"
        case let .raysParallelToSensor(argument, received):
            return "\(argument): rays from the sample must cross the sensor (distance > 0); received \(received)"
        }
    }
}

