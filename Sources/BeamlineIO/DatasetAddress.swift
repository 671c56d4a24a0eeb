import BeamlineTensor
import Foundation

/// Where an array lives: a file, the dataset or member inside it, and an
/// optional selection, written as one string the way beamline scientists
/// name data:
///
/// | address | meaning |
/// |---|---|
/// | `scan.h5:/entry/data/data` | the HDF5 dataset `/entry/data/data` |
/// | `scan.nxs:/entry/data/data[10:20]` | frames 10 to 19 of it (a hyperslab) |
/// | `scan.h5:/x[0:5, 100:200, :]` | a region of interest (Python slices) |
/// | `scan.h5:/x[-1]` | the last frame (an integer index drops its axis) |
/// | `image.npy`, `image.npy[::2]` | a NumPy file (and a selection of it) |
/// | `arrays.npz:weights` | a member of a NumPy archive |
///
/// HDF5 files are recognised by the extensions `.h5`, `.hdf5`, `.hdf`,
/// `.he5`, `.nxs`, `.nx5` and `.nx`; a selection follows Python's rules
/// (`start:stop:step`, each part optional, negative values counting from
/// the end, slices clamped to the axis, steps positive for HDF5 as in
/// h5py, `...` for the remaining axes).
///
/// ```swift
/// let address = try DatasetAddress("scan.nxs:/entry/data/data[10:20]")
/// let frames = try address.load(Float.self)
/// try DatasetAddress("result.h5:/reconstruction").write(frames)
/// ```
public struct DatasetAddress: Sendable, Equatable, CustomStringConvertible {
    /// The kind of file an address points into.
    public enum Format: Sendable, Equatable {
        /// A NumPy `.npy` file.
        case npy
        /// A NumPy `.npz` archive (the member names the array).
        case npz
        /// An HDF5 (or NeXus) file (the member is the dataset path).
        case hdf5
    }

    /// The address as written.
    public let text: String
    /// The file's path.
    public var file: String
    /// The kind of file, from its extension.
    public var format: Format
    /// The HDF5 dataset path (absolute) or the `.npz` member name; `nil`
    /// for a `.npy` file.
    public var member: String?
    /// One index per axis (empty: everything).
    public var selection: [TensorIndex]

    /// The file as a URL.
    public var url: URL { URL(fileURLWithPath: file) }

    /// The address as written.
    public var description: String { text }

    /// HDF5 extensions (lowercase).
    static let hdf5Extensions: Set<String> = ["h5", "hdf5", "hdf", "he5", "nxs", "nx5", "nx"]

    /// Parses an address (see the table above).
    ///
    /// - Throws: ``DatasetAddressError/invalidAddress(address:reason:)``
    ///   for an unknown extension, a missing dataset path or member, or a
    ///   malformed selection.
    public init(_ text: String) throws(DatasetAddressError) {
        self.text = text
        // No file name holds a NUL (the first input the address fuzzer
        // stopped on had one: Tests/BeamlineIOTests/Fixtures/fuzz/address-nul.txt).
        guard !text.unicodeScalars.contains("\0") else {
            throw .invalidAddress(address: text.replacingOccurrences(of: "\0", with: "\\0"),
                                  reason: "a NUL character (\\0) cannot be part of a file name")
        }
        var rest = text.trimmingCharacters(in: .whitespaces)
        var selection: [TensorIndex] = []
        if rest.hasSuffix("]"), let open = rest.lastIndex(of: "[") {
            let inner = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            selection = try DatasetAddress.parseSelection(inner, address: text)
            rest = String(rest[..<open])
        }
        self.selection = selection
        func format(of path: String) -> Format? {
            let ext = DatasetAddress.pathExtension(of: path).lowercased()
            if ext == "npy" { return .npy }
            if ext == "npz" { return .npz }
            return DatasetAddress.hdf5Extensions.contains(ext) ? .hdf5 : nil
        }
        // The first ':' after a file name with a known extension splits file and member.
        var split: (String, String)?
        var search = rest.startIndex
        while let colon = rest[search...].firstIndex(of: ":") {
            let candidate = String(rest[..<colon])
            if let kind = format(of: candidate), kind != .npy {
                split = (candidate, String(rest[rest.index(after: colon)...]))
                break
            }
            search = rest.index(after: colon)
        }
        if let (path, member) = split {
            self.file = path
            self.format = format(of: path)!
            guard !member.isEmpty else {
                throw .invalidAddress(address: text, reason: "nothing after ':' (expected a dataset path or member)")
            }
            self.member = self.format == .hdf5 ? HDF5File.normalise(member) : member
        } else {
            guard let kind = format(of: rest) else {
                throw .invalidAddress(address: text,
                                      reason: "unknown file type (expected .npy, .npz:member, or .h5/.hdf5/.nxs/.nx5:/dataset)")
            }
            guard kind == .npy else {
                let example = kind == .npz ? "\(rest):member" : "\(rest):/entry/data/data"
                throw .invalidAddress(address: text, reason: "no \(kind == .npz ? "member" : "dataset path") (write \(example))")
            }
            self.file = rest
            self.format = .npy
            self.member = nil
        }
        guard !file.isEmpty else { throw .invalidAddress(address: text, reason: "empty file name") }
    }

    /// The extension of the last component of `path` (what
    /// `NSString.pathExtension` returns: trailing slashes ignored, nothing
    /// for a name that starts with its only dot), in plain Swift:
    /// Foundation's traps on some paths with non-ASCII characters after
    /// slashes (found by fuzzing: Tests/BeamlineIOTests/Fixtures/fuzz/
    /// address-pathextension.txt).
    static func pathExtension(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.last == "/" { trimmed.removeLast() }
        let name = trimmed.lastIndex(of: "/").map { trimmed[trimmed.index(after: $0)...] } ?? trimmed
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// Parses `10:20, :, -1, ::2, ...` into indices.
    static func parseSelection(_ text: String, address: String) throws(DatasetAddressError) -> [TensorIndex] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [] }
        var result: [TensorIndex] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item == "..." { result.append(.ellipsis); continue }
            let fields = item.split(separator: ":", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            func number(_ field: String) throws(DatasetAddressError) -> Int? {
                if field.isEmpty { return nil }
                guard let value = Int(field) else {
                    throw .invalidAddress(address: address, reason: "'\(field)' in [\(text)] is not an integer")
                }
                return value
            }
            switch fields.count {
            case 1:
                guard let index = try number(fields[0]) else {
                    throw .invalidAddress(address: address, reason: "empty index in [\(text)]")
                }
                result.append(.index(index))
            case 2, 3:
                let step = fields.count == 3 ? try number(fields[2]) ?? 1 : 1
                guard step != 0 else {
                    throw .invalidAddress(address: address, reason: "slice step cannot be zero in [\(text)]")
                }
                let start = try number(fields[0]), stop = try number(fields[1])
                result.append(start == nil && stop == nil && step == 1 ? .all : .slice(start, stop, step: step))
            default:
                throw .invalidAddress(address: address, reason: "'\(item)' in [\(text)] is not start:stop:step")
            }
        }
        return result
    }

    // MARK: - Loading

    /// Loads the addressed array (its selection only) whatever the file
    /// type, in its natural element type (for HDF5, see
    /// ``HDF5ElementType/naturalDType``).
    public func load() throws(DatasetAddressError) -> AnyTensor {
        switch format {
        case .hdf5:
            do {
                let file = try HDF5File(contentsOf: url)
                return try file.read(member ?? "/", selection: selection)
            } catch { throw .hdf5(address: text, error) }
        case .npy, .npz:
            let whole: AnyTensor
            do {
                whole = format == .npy ? try NumpyFile.read(from: url)
                    : try NumpyArchive(contentsOf: url).read(member ?? "")
            } catch { throw .numpy(address: text, error) }
            return try select(whole)
        }
    }

    /// Loads the addressed array as a `Tensor<T>`. HDF5 data is converted
    /// by libhdf5 as ``HDF5File/read(_:from:selection:conversion:)`` says; NumPy data
    /// is converted only where no value changes (``DTypeConversion/valuePreserving``,
    /// the default of ``NumpyFile``), or as `conversion` says.
    public func load<T: TensorElement>(_ type: T.Type,
                                       conversion: DTypeConversion = .valuePreserving) throws(DatasetAddressError) -> Tensor<T> {
        switch format {
        case .hdf5:
            do {
                let file = try HDF5File(contentsOf: url)
                return try file.read(type, from: member ?? "/", selection: selection, conversion: conversion)
            } catch { throw .hdf5(address: text, error) }
        case .npy, .npz:
            let tensor = try load()
            do { return try tensor.tensor(as: type, conversion: conversion, source: text) } catch {
                throw .numpy(address: text, error)
            }
        }
    }

    /// Applies the selection to an array read whole.
    private func select(_ tensor: AnyTensor) throws(DatasetAddressError) -> AnyTensor {
        guard !selection.isEmpty else { return tensor }
        func apply<E: TensorElement>(_ t: Tensor<E>) throws(DatasetAddressError) -> Tensor<E> {
            do { return try t.view(selection).contiguous() } catch {
                throw .selectionOutOfRange(address: text, shape: t.shape, reason: error.description)
            }
        }
        switch tensor {
        case let .float32(t): return .float32(try apply(t))
        case let .float64(t): return .float64(try apply(t))
        case let .complex64(t): return .complex64(try apply(t))
        case let .complex128(t): return .complex128(try apply(t))
        case let .int32(t): return .int32(try apply(t))
        case let .int64(t): return .int64(try apply(t))
        case let .uint8(t): return .uint8(try apply(t))
        case let .int8(t): return .int8(try apply(t))
        case let .int16(t): return .int16(try apply(t))
        case let .uint16(t): return .uint16(try apply(t))
        case let .uint32(t): return .uint32(try apply(t))
        case let .uint64(t): return .uint64(try apply(t))
        case let .bool(t): return .bool(try apply(t))
        }
    }

    // MARK: - Writing

    /// Writes `tensor` to the address: a `.npy` file, a member of a new
    /// `.npz` archive (other members of an existing archive are kept), or
    /// a dataset of an HDF5 file (created if missing, groups created as
    /// needed, `storage` its layout). Every write is atomic: the file is
    /// replaced only when complete.
    ///
    /// - Parameters:
    ///   - tensor: the array to write.
    ///   - storage: the HDF5 dataset's layout (ignored for NumPy files).
    ///   - overwrite: replace an existing HDF5 dataset or `.npz` member
    ///     (otherwise ``DatasetAddressError/alreadyExists(address:)``); a
    ///     `.npy` file is always replaced, as `numpy.save` does.
    /// - Throws: ``DatasetAddressError``: an address with a selection
    ///   (writes take whole arrays), or the file's own errors.
    public func write(_ tensor: AnyTensor, storage: HDF5Storage = .contiguous,
                      overwrite: Bool = false) throws(DatasetAddressError) {
        guard selection.isEmpty else {
            throw .invalidAddress(address: text, reason: "a write cannot take a selection ([...])")
        }
        switch format {
        case .npy:
            do { try NumpyFile.write(tensor, to: url) } catch { throw .numpy(address: text, error) }
        case .npz:
            let name = member ?? ""
            var members: [(String, AnyTensor)] = []
            if FileManager.default.fileExists(atPath: file) {
                do {
                    let archive = try NumpyArchive(contentsOf: url)
                    if archive.contains(name) && !overwrite { throw DatasetAddressError.alreadyExists(address: text) }
                    members = try archive.readAll().filter { $0.key != name }.sorted { $0.key < $1.key }
                } catch let error as DatasetAddressError {
                    throw error
                } catch let error as NumpyFileError {
                    throw .numpy(address: text, error)
                } catch {
                    throw .invalidAddress(address: text, reason: "\(error)")
                }
            }
            members.append((name, tensor))
            do { try NumpyArchive.write(members, to: url) } catch { throw .numpy(address: text, error) }
        case .hdf5:
            let path = member ?? "/"
            do {
                try HDF5File.update(at: url) { file throws(HDF5Error) in
                    try file.write(tensor, to: path, storage: storage, overwrite: overwrite)
                }
            } catch {
                if case .alreadyExists = error { throw .alreadyExists(address: text) }
                throw .hdf5(address: text, error)
            }
        }
    }

    /// Writes a `Tensor<T>` to the address (see the ``AnyTensor``
    /// overload).
    public func write<T: TensorElement>(_ tensor: Tensor<T>, storage: HDF5Storage = .contiguous,
                                        overwrite: Bool = false) throws(DatasetAddressError) {
        try write(AnyTensor(tensor), storage: storage, overwrite: overwrite)
    }
}

/// Errors of parsing, loading or writing a ``DatasetAddress``; each names
/// the address as written.
public enum DatasetAddressError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use; see `ArgumentError`.
    case argument(ArgumentError)
    /// The address cannot be parsed (`reason` says why).
    case invalidAddress(address: String, reason: String)
    /// The selection does not fit the array's shape.
    case selectionOutOfRange(address: String, shape: [Int], reason: String)
    /// The dataset or archive member exists and overwriting was not asked
    /// for.
    case alreadyExists(address: String)
    /// Reading or writing the HDF5 file failed.
    case hdf5(address: String, HDF5Error)
    /// Reading or writing the NumPy file failed.
    case numpy(address: String, NumpyFileError)

    /// A one-line message naming the address and the problem.
    public var description: String {
        switch self {
        case let .argument(error): return error.description
        case let .invalidAddress(address, reason): return "\(address): invalid dataset address: \(reason)"
        case let .selectionOutOfRange(address, shape, reason):
            return "\(address): selection does not fit shape \(shape): \(reason)"
        case let .alreadyExists(address): return "\(address): already exists (pass overwrite to replace it)"
        case let .hdf5(address, error): return "\(address): \(error)"
        case let .numpy(address, error): return "\(address): \(error)"
        }
    }
}
