import BeamlineTensor
import Foundation
import ZIPFoundation

/// A NumPy `.npz` archive: a ZIP file whose members `name.npy` are `.npy`
/// files, as `numpy.savez` (stored) and `numpy.savez_compressed`
/// (deflated) write them.
///
/// Open an archive, list its member ``names`` and read members by name;
/// members are read (and decompressed) only when asked for:
///
/// ```swift
/// let archive = try NumpyArchive(contentsOf: url)
/// print(archive.names)                                  // ["x", "y"]
/// let x = try archive.read("x", as: Double.self)
/// ```
///
/// Write a dictionary of tensors with `write(_:to:compression:)` (members
/// sorted by name) or an ordered list of `(name, tensor)` pairs with its
/// overload (members in list order). Each member is named `name.npy` and
/// holds the bytes `NumpyFile.encode(_:)` gives (what `numpy.save` writes); the archive is built in memory and written atomically (a
/// temporary file in the destination directory, then a rename). Member
/// timestamps are fixed (1980-01-01), so equal inputs give equal files.
///
/// An archive object reads from its file lazily and is not safe to share
/// between threads; open one per thread.
public final class NumpyArchive {
    /// How archive members are stored when writing.
    public enum Compression: Sendable, Equatable {
        /// No compression (`numpy.savez`).
        case stored
        /// Deflate (`numpy.savez_compressed`).
        case deflated
    }

    /// The file path, or the `source` given to ``init(data:source:)``; used
    /// in error messages.
    public let source: String
    private let archive: Archive
    /// Member entries in archive order, keyed by the full member path.
    private let entries: [Entry]

    /// Opens the `.npz` file at `url` for reading.
    ///
    /// - Throws: ``NumpyFileError/ioFailure(path:operation:reason:)`` when
    ///   the file cannot be opened, ``NumpyFileError/notZipArchive(source:reason:)``
    ///   when it is not a ZIP archive.
    public init(contentsOf url: URL) throws(NumpyFileError) {
        source = url.path
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            throw .ioFailure(path: url.path, operation: "open", reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .ioFailure(path: url.path, operation: "open", reason: "not a regular file")
        }
        guard access(url.path, R_OK) == 0 else {
            throw .ioFailure(path: url.path, operation: "open", reason: String(cString: strerror(errno)))
        }
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw .notZipArchive(source: url.path, reason: Self.describe(error))
        }
        entries = archive.filter { $0.type == .file }
    }

    /// Opens an in-memory `.npz` archive for reading.
    ///
    /// The bytes are copied to an unnamed temporary file (created in the
    /// system temporary directory and unlinked at once), because
    /// ZIPFoundation's in-memory backing traps on some corrupted archives
    /// while its file backing reports them as errors.
    ///
    /// - Parameters:
    ///   - data: the bytes of the `.npz` archive.
    ///   - source: names the data in error messages.
    public init(data: Data, source: String = "<memory>") throws(NumpyFileError) {
        self.source = source
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("beamline-npz-\(UUID().uuidString).npz")
        try FileIO.writeAtomically(data, to: scratch, durable: false)
        defer { unlink(scratch.path) }
        do {
            archive = try Archive(url: scratch, accessMode: .read)
        } catch {
            throw .notZipArchive(source: source, reason: Self.describe(error))
        }
        entries = archive.filter { $0.type == .file }
    }

    /// Member names in archive order, without the `.npy` suffix (the keys
    /// `numpy.load(...).files` lists). Members whose path does not end in
    /// `.npy` are listed with their full path.
    public var names: [String] {
        entries.map { Self.name(ofMemberPath: $0.path) }
    }

    /// Reads member `name` (`name.npy` in the archive; `name` may also be
    /// given with its `.npy` suffix).
    ///
    /// - Throws: ``NumpyFileError/missingMember(archive:member:available:)``
    ///   when there is no such member,
    ///   ``NumpyFileError/corruptArchive(source:member:reason:)`` when it
    ///   cannot be extracted, and the ``NumpyFile`` errors (with source
    ///   `"archive[member.npy]"`) when it is not a valid `.npy` file.
    public func read(_ name: String) throws(NumpyFileError) -> AnyTensor {
        let entry = try self.entry(named: name)
        let data = try extract(entry)
        return try NumpyFile.decode(data, source: "\(source)[\(entry.path)]")
    }

    /// The bytes of member `name` as stored in the archive once
    /// uncompressed (a whole `.npy` file for archives written by NumPy or by
    /// `NumpyArchive.write`), checked against its CRC-32.
    ///
    /// - Throws: ``NumpyFileError/missingMember(archive:member:available:)``
    ///   when there is no such member and
    ///   ``NumpyFileError/corruptArchive(source:member:reason:)`` when it
    ///   cannot be extracted.
    public func memberData(_ name: String) throws(NumpyFileError) -> Data {
        let entry = try self.entry(named: name)
        return try extract(entry)
    }

    /// Reads member `name` as a `Tensor<T>` (see
    /// ``NumpyFile/read(_:from:conversion:)`` for `conversion`).
    public func read<T: TensorElement>(_ name: String, as type: T.Type,
                                       conversion: DTypeConversion = .valuePreserving) throws(NumpyFileError) -> Tensor<T> {
        let entry = try self.entry(named: name)
        return try read(name).tensor(as: type, conversion: conversion, source: "\(source)[\(entry.path)]")
    }

    /// Reads every member, keyed by name (see ``names``).
    public func readAll() throws(NumpyFileError) -> [String: AnyTensor] {
        var result: [String: AnyTensor] = [:]
        for name in names { result[name] = try read(name) }
        return result
    }

    /// Reads member `name` as a string: a 0-d (or one-element) array of
    /// NumPy byte strings (`|S<n>`, what `numpy.save(np.array(b"csr"))`
    /// writes) or of Unicode strings (`<U<n>` / `>U<n>`), as
    /// `scipy.sparse.save_npz` stores its `format` member.
    ///
    /// - Throws: the errors of ``read(_:)``, and
    ///   ``NumpyFileError/unsupportedDType(source:descr:)`` when the member
    ///   is not a string array of one element.
    public func readString(_ name: String) throws(NumpyFileError) -> String {
        let entry = try self.entry(named: name)
        let data = try extract(entry)
        return try NumpyFile.decodeString(data, source: "\(source)[\(entry.path)]")
    }

    /// Whether the archive has a member `name` (or `name.npy`).
    public func contains(_ name: String) -> Bool {
        (try? entry(named: name)) != nil
    }

    // MARK: - Writing

    /// Writes `members` to `url` as an `.npz` archive, members in name
    /// order, replacing any existing file atomically.
    ///
    /// - Throws: ``NumpyFileError/invalidMemberName(archive:name:reason:)``
    ///   for an empty name, ``NumpyFileError/ioFailure(path:operation:reason:)``
    ///   when the file cannot be written (the destination is then left as
    ///   it was).
    public static func write(_ members: [String: AnyTensor], to url: URL,
                             compression: Compression = .stored) throws(NumpyFileError) {
        let data = try encode(members, compression: compression, source: url.path)
        try FileIO.writeAtomically(data, to: url)
    }

    /// Writes `members` to `url` as an `.npz` archive in the given order
    /// (as `numpy.savez(file, **members)` does), replacing any existing
    /// file atomically. Names must be non-empty and distinct.
    public static func write(_ members: [(String, AnyTensor)], to url: URL,
                             compression: Compression = .stored) throws(NumpyFileError) {
        let data = try encode(members, compression: compression, source: url.path)
        try FileIO.writeAtomically(data, to: url)
    }

    /// The bytes of an `.npz` archive holding `members` in name order.
    public static func encode(_ members: [String: AnyTensor],
                              compression: Compression = .stored) throws(NumpyFileError) -> Data {
        try encode(members, compression: compression, source: "<memory>")
    }

    /// The bytes of an `.npz` archive holding `members` in the given order.
    public static func encode(_ members: [(String, AnyTensor)],
                              compression: Compression = .stored) throws(NumpyFileError) -> Data {
        try encode(members, compression: compression, source: "<memory>")
    }

    static func encode(_ members: [String: AnyTensor], compression: Compression,
                       source: String) throws(NumpyFileError) -> Data {
        try encode(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                   compression: compression, source: source)
    }

    /// A fixed timestamp (the ZIP epoch, 1980-01-01 00:00 local time), so
    /// that equal inputs give byte-identical archives.
    private static var fixedDate: Date {
        var components = DateComponents()
        components.year = 1980
        components.month = 1
        components.day = 1
        return Calendar(identifier: .gregorian).date(from: components) ?? Date(timeIntervalSince1970: 315_532_800)
    }

    static func encode(_ members: [(String, AnyTensor)], compression: Compression,
                       source: String) throws(NumpyFileError) -> Data {
        try encode(npyMembers: members.map { ($0.0, NumpyFile.encode($0.1)) }, compression: compression, source: source)
    }

    /// Writes members given as complete `.npy` file contents (for example
    /// from ``NumpyFile/encode(_:)-(Tensor<T>)`` or
    /// ``NumpyFile/encodeByteString(_:)``) to `url` as an `.npz` archive in
    /// the given order, replacing any existing file atomically. Names must
    /// be non-empty and distinct; the bytes are stored as given.
    public static func write(npyMembers members: [(String, Data)], to url: URL,
                             compression: Compression = .stored) throws(NumpyFileError) {
        let data = try encode(npyMembers: members, compression: compression, source: url.path)
        try FileIO.writeAtomically(data, to: url)
    }

    static func encode(npyMembers members: [(String, Data)], compression: Compression,
                       source: String) throws(NumpyFileError) -> Data {
        var seen = Set<String>()
        for (name, _) in members {
            guard !name.isEmpty else {
                throw .invalidMemberName(archive: source, name: name, reason: "member names must not be empty")
            }
            guard seen.insert(name).inserted else {
                throw .invalidMemberName(archive: source, name: name, reason: "the name occurs more than once")
            }
        }
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            let date = fixedDate
            for (name, bytes) in members {
                try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
                                     modificationDate: date, permissions: 0o644,
                                     compressionMethod: compression == .stored ? .none : .deflate,
                                     bufferSize: 1 << 20) { position, size in
                    let start = Int(position)
                    return bytes.subdata(in: start..<min(bytes.count, start + size))
                }
            }
            guard let data = archive.data else {
                throw NumpyFileError.ioFailure(path: source, operation: "build archive", reason: "no archive data")
            }
            return data
        } catch let error as NumpyFileError {
            throw error
        } catch {
            throw .ioFailure(path: source, operation: "build archive", reason: describe(error))
        }
    }

    // MARK: - Helpers

    /// `name` without a trailing `.npy`.
    private static func name(ofMemberPath path: String) -> String {
        path.hasSuffix(".npy") && path.count > 4 ? String(path.dropLast(4)) : path
    }

    private func entry(named name: String) throws(NumpyFileError) -> Entry {
        if let entry = entries.first(where: { $0.path == name + ".npy" }) ?? entries.first(where: { $0.path == name }) {
            return entry
        }
        throw .missingMember(archive: source, member: name, available: names)
    }

    /// The uncompressed bytes of `entry`, checked against its CRC-32.
    private func extract(_ entry: Entry) throws(NumpyFileError) -> Data {
        var data = Data()
        if entry.uncompressedSize <= 1 << 30 { data.reserveCapacity(Int(entry.uncompressedSize)) }
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                data.append(chunk)
            }
        } catch {
            throw .corruptArchive(source: source, member: entry.path, reason: Self.describe(error))
        }
        guard checksum == entry.checksum else {
            throw .corruptArchive(source: source, member: entry.path, reason: "CRC-32 checksum mismatch")
        }
        guard UInt64(data.count) == entry.uncompressedSize else {
            throw .corruptArchive(source: source, member: entry.path,
                                  reason: "expected \(entry.uncompressedSize) bytes, extracted \(data.count)")
        }
        return data
    }

    /// A readable description of a ZIPFoundation or Foundation error.
    static func describe(_ error: any Error) -> String {
        if let archiveError = error as? Archive.ArchiveError {
            switch archiveError {
            case .unreadableArchive: return "damaged or unreadable archive"
            case .missingEndOfCentralDirectoryRecord: return "no end-of-central-directory record"
            case .invalidCRC32: return "CRC-32 checksum mismatch"
            case .invalidCompressionMethod: return "unsupported compression method"
            default: return "\(archiveError)"
            }
        }
        return "\(error)"
    }
}
