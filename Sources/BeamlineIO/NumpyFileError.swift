import BeamlineTensor

/// Errors thrown while reading or writing NumPy `.npy` and `.npz` files.
///
/// Every case names its source (a file path, `"<memory>"` for in-memory
/// data, or `"archive.npz[member.npy]"` for an archive member) and says what
/// was expected and what was found, so that ``description`` is useful on its
/// own. A malformed, truncated or unsupported file always ends in one of
/// these errors, never in a crash.
public enum NumpyFileError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (its shape, its values
    /// or a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// The data does not start with the `.npy` magic string `\x93NUMPY`
    /// (`found` holds the first bytes, at most 6).
    case badMagic(source: String, found: [UInt8])
    /// The format version is not 1.0, 2.0 or 3.0.
    case unsupportedVersion(source: String, major: UInt8, minor: UInt8)
    /// The header is not the Python dict literal NumPy writes, or one of its
    /// values has the wrong form; `expected` says what the reader wanted.
    case malformedHeader(source: String, expected: String, found: String)
    /// The header's `descr` names an element type Beamline does not read
    /// (for example `<U3`, `|O`, `<m8`, `<f16` or a structured type).
    case unsupportedDType(source: String, descr: String)
    /// The data ended early: `part` (`"magic string"`, `"header length"`,
    /// `"header"` or `"array data"`) needed `expected` bytes and only
    /// `available` were left.
    case truncatedData(source: String, part: String, expected: Int, available: Int)
    /// The shape's element count or byte count does not fit in `Int`.
    case shapeOverflow(source: String, shape: String)
    /// An archive has no member of this name; `available` lists the names
    /// it does have (without the `.npy` suffix).
    case missingMember(archive: String, member: String, available: [String])
    /// The data is not a readable ZIP archive.
    case notZipArchive(source: String, reason: String)
    /// A ZIP archive member could not be extracted (bad CRC, bad
    /// compressed stream, unsupported compression method).
    case corruptArchive(source: String, member: String, reason: String)
    /// A member name cannot be written into an archive (empty or repeated).
    case invalidMemberName(archive: String, name: String, reason: String)
    /// A typed read asked for `expected` but the file stores `found`, which
    /// the conversion does not allow (``DTypeConversion/exact``, or a
    /// conversion that is not value-preserving); a mask read
    /// (``NumpyFile/readMask(from:)``) gives `expected` `bool` for a
    /// complex array.
    case dtypeMismatch(source: String, expected: DType, found: DType)
    /// The operating system refused an operation (`operation` is `"open"`,
    /// `"read"`, `"write"`, `"rename"`, ...) on `path`.
    case ioFailure(path: String, operation: String, reason: String)

    /// A one-line message naming the source and the problem.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .badMagic(source, found):
            let hex = found.map { byte -> String in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }
            let shown = hex.isEmpty ? "nothing" : hex.joined(separator: " ")
            let hint = found.starts(with: [0x50, 0x4B]) ? "; this looks like a ZIP (.npz) archive, open it with NumpyArchive" : ""
            return "\(source): not a NumPy .npy file (expected magic bytes 93 4e 55 4d 50 59, \"\\x93NUMPY\"; found \(shown)\(hint))"
        case let .unsupportedVersion(source, major, minor):
            return "\(source): unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)"
        case let .malformedHeader(source, expected, found):
            return "\(source): malformed .npy header: expected \(expected), found \(found)"
        case let .unsupportedDType(source, descr):
            return "\(source): unsupported dtype \(descr) (supported: i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8 c8 c16 b1, any byte order)"
        case let .truncatedData(source, part, expected, available):
            return "\(source): truncated \(part): expected \(expected) bytes, only \(available) available"
        case let .shapeOverflow(source, shape):
            return "\(source): shape \(shape) has more elements or bytes than an Int can count"
        case let .missingMember(archive, member, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(archive): no member named '\(member)' (available: \(list))"
        case let .notZipArchive(source, reason):
            return "\(source): not a ZIP (.npz) archive (\(reason))"
        case let .corruptArchive(source, member, reason):
            return "\(source): cannot extract member '\(member)': \(reason)"
        case let .invalidMemberName(archive, name, reason):
            return "\(archive): invalid member name '\(name)': \(reason)"
        case let .dtypeMismatch(source, expected, found):
            if expected == .bool && (found == .complex64 || found == .complex128) {
                return "\(source): a mask must hold integers, booleans or real numbers (non-zero = masked), found \(found)"
            }
            return "\(source): stored dtype \(found) is not the requested \(expected) (conversion .valuePreserving, the default, allows only widenings that keep every value; .numpyCast converts as NumPy's astype)"
        case let .ioFailure(path, operation, reason):
            return "\(path): \(operation) failed: \(reason)"
        }
    }
}
