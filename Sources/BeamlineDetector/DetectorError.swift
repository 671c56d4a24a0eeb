/// Errors of BeamlineDetector. Every case names the argument that was
/// checked and the expected and received values.
public enum DetectorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument outside its valid range (a zero or negative thickness, a
    /// non-finite PONI, a bad oversampling factor, ...).
    case invalidArgument(name: String, expected: String, received: String)
    /// A detector name that is not in the catalogue.
    case unknownDetector(name: String, known: [String])
    /// An energy outside the tabulated range of the absorption tables (keV).
    case energyOutOfRange(argument: String, energy: Double, minimum: Double, maximum: Double)
    /// An array whose shape does not match the detector.
    case shapeMismatch(argument: String, expected: [Int], received: [Int])
    /// A geometry whose rays do not cross the sensor slab (parallel to it or
    /// coming from behind it).
    case raysParallelToSensor(argument: String, received: String)

    /// A readable message naming the argument.
    public var description: String {
        switch self {
        case let .invalidArgument(name, expected, received):
            return "\(name): expected \(expected), received \(received)"
        case let .unknownDetector(name, known):
            return "detector: unknown detector name \"\(name)\"; known names: \(known.joined(separator: ", "))"
        case let .energyOutOfRange(argument, energy, minimum, maximum):
            return "\(argument): energy \(energy) keV is outside the tabulated range \(minimum)...\(maximum) keV"
        case let .shapeMismatch(argument, expected, received):
            return "\(argument): expected shape \(expected), received \(received)"
        case let .raysParallelToSensor(argument, received):
            return "\(argument): rays from the sample must cross the sensor (distance > 0); received \(received)"
        }
    }
}
