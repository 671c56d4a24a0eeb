import BeamlineIO
import BeamlineOperators
import BeamlineTensor

/// Errors thrown while building, reading, writing or multiplying sparse
/// matrices.
///
/// Every case names what was checked and the expected and received values,
/// so that ``description`` is useful on its own. Bad input (from files, from
/// COO triplets, from builders) always ends in one of these errors, never in
/// a trap.
public enum SparseError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// A row or column count was negative or too large (column indices are
    /// 32-bit, so at most 2³¹ columns).
    case invalidDimensions(rows: Int, columns: Int, reason: String)
    /// An array had the wrong length (`argument` names it).
    case lengthMismatch(argument: String, expected: Int, received: Int)
    /// The row pointers (`indptr`) did not start at 0 or did not end at the
    /// number of stored entries.
    case rowPointerBounds(first: Int64, last: Int64, nonzeroCount: Int)
    /// The row pointers decrease at `row` (`indptr[row] > indptr[row + 1]`).
    case rowPointerNotMonotone(row: Int, start: Int64, end: Int64)
    /// A column (or row) index lies outside `0..<bound`.
    case indexOutOfRange(argument: String, position: Int, index: Int64, bound: Int)
    /// The column indices of `row` are not strictly increasing at storage
    /// position `position` (unsorted, or a duplicate entry).
    case unsortedColumnIndices(row: Int, position: Int)
    /// A stored value is NaN or infinite (`position` is its storage index).
    case nonFiniteValue(argument: String, position: Int)
    /// An argument that the operation cannot use (shape or value).
    case argument(ArgumentError)
    /// A SciPy `.npz` file holds a sparse format Beamline does not read.
    case unsupportedFormat(source: String, format: String)
    /// A file member had an unusable type or shape.
    case badMember(source: String, member: String, expected: String, found: String)
    /// Reading or writing the file failed.
    case file(NumpyFileError)

    /// A one-line message naming the argument or file and the problem.
    public var description: String {
        switch self {
        case let .invalidDimensions(rows, columns, reason):
            return "invalid sparse matrix shape (\(rows), \(columns)): \(reason)"
        case let .lengthMismatch(argument, expected, received):
            return "\(argument): expected \(expected) elements, received \(received)"
        case let .rowPointerBounds(first, last, nonzeroCount):
            return "row pointers (indptr) must start at 0 and end at the \(nonzeroCount) stored entries, found first \(first) and last \(last)"
        case let .rowPointerNotMonotone(row, start, end):
            return "row pointers (indptr) decrease at row \(row): \(start) > \(end)"
        case let .indexOutOfRange(argument, position, index, bound):
            return "\(argument)[\(position)] = \(index) is out of range 0..<\(bound)"
        case let .unsortedColumnIndices(row, position):
            return "column indices of row \(row) are not strictly increasing at position \(position) (unsorted or duplicate; load with canonicalize: true to sort and sum duplicates)"
        case let .nonFiniteValue(argument, position):
            return "\(argument)[\(position)] is NaN or infinite"
        case let .argument(error):
            return error.description
        case let .unsupportedFormat(source, format):
            return "\(source): unsupported sparse format '\(format)' (supported: csr, csc, coo)"
        case let .badMember(source, member, expected, found):
            return "\(source): member '\(member)': expected \(expected), found \(found)"
        case let .file(error):
            return error.description
        }
    }
}

extension SparseError {
    /// Two shapes had to agree and did not (an ``argument(_:)`` error).
    public static func shapeMismatch(operation: String, expected: [Int], received: [Int]) -> SparseError {
        .argument(.shapeMismatch(argument: operation, expected: expected, received: received))
    }

}
