/// An argument that an entry point cannot use: which argument, what was
/// expected and what was received.
///
/// Every module's error type wraps this one value beside its own domain
/// cases (`case argument(ArgumentError)` in ``TensorError``, `SolverError`,
/// `TomographyError`, …), so code that handles bad input handles it the same
/// way whichever layer found it:
///
/// ```swift
/// do { _ = try LSMR.solve(a, rhs: b) }
/// catch .argument(let bad) { print("fix \(bad.argument): \(bad.expected)") }
/// ```
///
/// The three kinds differ only in how the message reads.
public struct ArgumentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the argument.
    public enum Kind: Hashable, Sendable {
        /// Its shape (or length) does not fit.
        case shape
        /// It holds NaN or infinity where finite values are required.
        case nonFinite
        /// Its value is outside what the entry point accepts.
        case value
    }

    /// What is wrong.
    public var kind: Kind
    /// The argument's name as the caller wrote it (a parameter label, a
    /// command-line flag, a file's role).
    public var argument: String
    /// What the entry point accepts, in words or as a shape.
    public var expected: String
    /// What it received.
    public var received: String

    /// An argument error of any kind.
    public init(_ kind: Kind, argument: String, expected: String, received: String) {
        self.kind = kind
        self.argument = argument
        self.expected = expected
        self.received = received
    }

    /// A shape (or length) mismatch.
    public static func shapeMismatch(argument: String, expected: [Int], received: [Int]) -> ArgumentError {
        ArgumentError(.shape, argument: argument, expected: "\(expected)", received: "\(received)")
    }

    /// NaN or infinity where finite values are required.
    public static func nonFiniteValues(argument: String) -> ArgumentError {
        ArgumentError(.nonFinite, argument: argument, expected: "finite values", received: "NaN or infinity")
    }

    /// A value outside the accepted range or set.
    public static func invalidArgument(name: String, expected: String, received: String) -> ArgumentError {
        ArgumentError(.value, argument: name, expected: expected, received: received)
    }

    /// One line naming the argument, what was expected and what was received.
    public var description: String {
        switch kind {
        case .shape: return "\(argument): expected shape \(expected), received \(received)"
        case .nonFinite: return "\(argument) contains NaN or infinite values"
        case .value: return "invalid \(argument): expected \(expected), received \(received)"
        }
    }
}

/// An error type with a case that wraps an ``ArgumentError`` (an enum's
/// `case argument(ArgumentError)` is the witness). Conforming gives it the
/// three argument-error constructors, so a throw site reads the same in
/// every module: `throw .shapeMismatch(argument: "x", expected: [3], received: [4])`.
public protocol ArgumentErrorWrapping: Error {
    /// Wraps `error`.
    static func argument(_ error: ArgumentError) -> Self
}

extension ArgumentErrorWrapping {
    /// A shape (or length) mismatch, as an ``ArgumentError``.
    public static func shapeMismatch(argument: String, expected: [Int], received: [Int]) -> Self {
        .argument(.shapeMismatch(argument: argument, expected: expected, received: received))
    }

    /// NaN or infinity where finite values are required, as an ``ArgumentError``.
    public static func nonFiniteValues(argument: String) -> Self {
        .argument(.nonFiniteValues(argument: argument))
    }

    /// A value outside the accepted range or set, as an ``ArgumentError``.
    public static func invalidArgument(name: String, expected: String, received: String) -> Self {
        .argument(.invalidArgument(name: name, expected: expected, received: received))
    }
}
