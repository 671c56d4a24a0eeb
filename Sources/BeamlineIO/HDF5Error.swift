import BeamlineTensor

/// Errors thrown while reading or writing HDF5 (and NeXus) files.
///
/// Every case names the file and, where there is one, the object path
/// inside it (`/entry/data/data`), and says what was expected and what was
/// found, so that ``description`` is useful on its own. libhdf5's own error
/// stack is never printed: its innermost message, where it helps, is
/// carried in a `reason`. A damaged or unexpected file always ends in one
/// of these errors, never in a crash.
public enum HDF5Error: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use (a chunk shape, a
    /// selection, a parameter); see `ArgumentError`.
    case argument(ArgumentError)
    /// There is no file at `file` (or it cannot be opened: `reason`).
    case fileNotFound(file: String, reason: String)
    /// The file exists but is not an HDF5 file (no HDF5 signature).
    case notHDF5(file: String)
    /// The file has the HDF5 signature but libhdf5 cannot read it
    /// (truncated or corrupt); `reason` is libhdf5's message.
    case corruptFile(file: String, path: String, reason: String)
    /// No object (group, dataset or link target) at `path`.
    case missingObject(file: String, path: String)
    /// The object at `path` is a `found` (group, named datatype, ...), not
    /// a dataset.
    case notADataset(file: String, path: String, found: String)
    /// The object at `path` is a `found`, not a group.
    case notAGroup(file: String, path: String, found: String)
    /// The stored element type (`stored`, h5py's name where there is one)
    /// cannot be read as `requested`, or written.
    case typeNotSupported(file: String, path: String, stored: String, requested: String)
    /// A typed read would change values (`stored` into `requested`, for
    /// example uint32 into Float or float64 into Float) and the read asked
    /// for ``DTypeConversion/valuePreserving`` (the default) or
    /// ``DTypeConversion/exact``.
    case conversionChangesValues(file: String, path: String, stored: String, requested: String)
    /// The data at `path` has shape `found` where `expected` was needed
    /// (a rank, or two datasets whose lengths must agree).
    case shapeMismatch(file: String, path: String, expected: String, found: [Int])
    /// A hyperslab selection does not fit the dataset's shape; `reason`
    /// names the axis and the bounds.
    case hyperslabOutOfRange(file: String, path: String, shape: [Int], reason: String)
    /// The dataset is compressed with a filter that no loaded plugin
    /// provides (`id` and its registered `name`, such as 32008 bitshuffle).
    case missingFilter(file: String, path: String, id: Int, name: String)
    /// An object already exists at `path` and overwriting was not asked for.
    case alreadyExists(file: String, path: String)
    /// The object at `path` has no attribute `name`.
    case missingAttribute(file: String, path: String, name: String)
    /// libhdf5 failed to read `path` (`reason` is its message).
    case readFailure(file: String, path: String, reason: String)
    /// libhdf5 failed to create or write `path` (`reason` is its message);
    /// an atomic write leaves no file behind.
    case writeFailure(file: String, path: String, reason: String)
    /// The operating system refused an operation (`"rename"`, `"copy"`,
    /// ...) on `file`.
    case ioFailure(file: String, operation: String, reason: String)

    /// A one-line message naming the file, the object and the problem.
    public var description: String {
        func at(_ file: String, _ path: String) -> String { path.isEmpty ? file : "\(file):\(path)" }
        switch self {
        case let .argument(error):
            return error.description
        case let .fileNotFound(file, reason):
            return "\(file): cannot open HDF5 file (\(reason))"
        case let .notHDF5(file):
            return "\(file): not an HDF5 file (no HDF5 signature)"
        case let .corruptFile(file, path, reason):
            return "\(at(file, path)): truncated or corrupt HDF5 file (\(reason))"
        case let .missingObject(file, path):
            return "\(file): no object at \(path)"
        case let .notADataset(file, path, found):
            return "\(at(file, path)): expected a dataset, found a \(found)"
        case let .notAGroup(file, path, found):
            return "\(at(file, path)): expected a group, found a \(found)"
        case let .typeNotSupported(file, path, stored, requested):
            return "\(at(file, path)): stored type \(stored) cannot be read or written as \(requested)"
        case let .conversionChangesValues(file, path, stored, requested):
            return "\(at(file, path)): reading stored \(stored) as \(requested) can change values; "
                + "read it as its own type or pass conversion: .numpyCast (libhdf5 rounds and saturates)"
        case let .shapeMismatch(file, path, expected, found):
            return "\(at(file, path)): expected \(expected), found shape \(found)"
        case let .hyperslabOutOfRange(file, path, shape, reason):
            return "\(at(file, path)): selection does not fit shape \(shape): \(reason)"
        case let .missingFilter(file, path, id, name):
            return "\(at(file, path)): compression filter \(id) (\(name)) is not available; "
                + "install its plugin (Debian: hdf5-filter-plugin; bitshuffle: the hdf5plugin Python package) "
                + "and point HDF5_PLUGIN_PATH at its folder"
        case let .alreadyExists(file, path):
            return "\(at(file, path)): already exists (pass overwrite: true to replace it)"
        case let .missingAttribute(file, path, name):
            return "\(at(file, path)): no attribute '\(name)'"
        case let .readFailure(file, path, reason):
            return "\(at(file, path)): read failed (\(reason))"
        case let .writeFailure(file, path, reason):
            return "\(at(file, path)): write failed (\(reason))"
        case let .ioFailure(file, operation, reason):
            return "\(file): \(operation) failed: \(reason)"
        }
    }
}
