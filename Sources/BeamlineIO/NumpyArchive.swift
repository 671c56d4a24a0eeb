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
///
/// Reading is bounded: the central directory and each member's bytes are
/// located with every offset and size checked against the archive's length
/// (ZIP64 included, as NumPy writes it); before a member is extracted its
/// declared sizes are checked (a stored member's two sizes agree, a
/// deflated one cannot expand more than deflate's 1032 : 1) and compared
/// with ``memberSizeLimit``; a deflated member is decoded from its own
/// bytes only, and decoding stops as soon as it produces more bytes than
/// it declared or needs more input than it has. So a ZIP bomb, a header
/// that lies about its sizes or a stream that runs past its member is
/// refused with a typed error, before the memory is allocated and without
/// looping.
public final class NumpyArchive {
    /// How archive members are stored when writing.
    public enum Compression: Sendable, Equatable {
        /// No compression (`numpy.savez`).
        case stored
        /// Deflate (`numpy.savez_compressed`).
        case deflated
    }

    /// The file path, or the `source` given to ``init(data:source:memberSizeLimit:)``; used
    /// in error messages.
    public let source: String
    /// The largest uncompressed member, in bytes, that ``read(_:)`` and its
    /// relatives extract; larger members throw
    /// ``NumpyFileError/sizeLimitExceeded(source:member:size:limit:)``.
    public let memberSizeLimit: Int
    /// The default ``memberSizeLimit``: the machine's physical memory (a
    /// member larger than that cannot be read into memory anyway).
    public static var defaultMemberSizeLimit: Int {
        Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }
    /// Deflate's largest expansion: 1032 output bytes per input byte
    /// (zlib's technical notes), plus a little for the stream's framing.
    static let maximumDeflateRatio: UInt64 = 1032
    /// Size of the archive in bytes.
    private var archiveSize: UInt64 { bytes.size }
    /// The archive's bytes.
    private let bytes: ZipByteSource
    /// File members in central-directory order.
    private let entries: [ZipMember]

    /// Opens the `.npz` file at `url` for reading.
    ///
    /// - Parameters:
    ///   - url: the archive.
    ///   - memberSizeLimit: the largest uncompressed member read, in bytes
    ///     (default: the machine's physical memory).
    /// - Throws: ``NumpyFileError/ioFailure(path:operation:reason:)`` when
    ///   the file cannot be opened, ``NumpyFileError/notZipArchive(source:reason:)``
    ///   when it is not a ZIP archive.
    public init(contentsOf url: URL, memberSizeLimit: Int = NumpyArchive.defaultMemberSizeLimit) throws(NumpyFileError) {
        source = url.path
        self.memberSizeLimit = max(0, memberSizeLimit)
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
        bytes = try ZipByteSource(path: url.path, size: UInt64(max(0, status.st_size)))
        entries = try Self.members(of: bytes, source: url.path)
    }

    /// Opens an in-memory `.npz` archive for reading.
    ///
    /// - Parameters:
    ///   - data: the bytes of the `.npz` archive.
    ///   - source: names the data in error messages.
    ///   - memberSizeLimit: the largest uncompressed member read, in bytes
    ///     (default: the machine's physical memory).
    public init(data: Data, source: String = "<memory>",
                memberSizeLimit: Int = NumpyArchive.defaultMemberSizeLimit) throws(NumpyFileError) {
        self.source = source
        self.memberSizeLimit = max(0, memberSizeLimit)
        bytes = ZipByteSource(data: data)
        entries = try Self.members(of: bytes, source: source)
    }

    /// The file members of the archive in `bytes`.
    private static func members(of bytes: ZipByteSource, source: String) throws(NumpyFileError) -> [ZipMember] {
        do {
            return try ZipDirectory(bytes).members
        } catch {
            throw .notZipArchive(source: source, reason: error.reason)
        }
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

    private func entry(named name: String) throws(NumpyFileError) -> ZipMember {
        if let entry = entries.first(where: { $0.path == name + ".npy" }) ?? entries.first(where: { $0.path == name }) {
            return entry
        }
        throw .missingMember(archive: source, member: name, available: names)
    }

    /// Checks the sizes `entry` declares before anything is allocated: a
    /// stored member's two sizes agree and fit in the archive, a deflated
    /// one expands no more than deflate can, and the uncompressed size is
    /// within ``memberSizeLimit``.
    private func checkDeclaredSizes(_ entry: ZipMember) throws(NumpyFileError) {
        let compressed = entry.compressedSize, uncompressed = entry.uncompressedSize
        guard compressed <= archiveSize else {
            throw .corruptArchive(source: source, member: entry.path,
                                  reason: "declares \(compressed) compressed bytes, more than the archive's \(archiveSize)")
        }
        if entry.isCompressed {
            let (bound, overflow) = compressed.multipliedReportingOverflow(by: Self.maximumDeflateRatio)
            guard overflow || uncompressed <= bound + 64 else {
                throw .corruptArchive(source: source, member: entry.path,
                                      reason: "declares \(uncompressed) uncompressed bytes, more than its \(compressed) "
                                          + "compressed bytes can hold (deflate expands at most \(Self.maximumDeflateRatio):1)")
            }
        } else {
            guard uncompressed == compressed else {
                throw .corruptArchive(source: source, member: entry.path,
                                      reason: "stored member declares \(uncompressed) bytes but \(compressed) stored bytes")
            }
        }
        guard uncompressed <= UInt64(memberSizeLimit) else {
            throw .sizeLimitExceeded(source: source, member: entry.path, size: uncompressed,
                                     limit: UInt64(memberSizeLimit))
        }
    }

    /// The uncompressed bytes of `entry`, checked against its declared
    /// sizes (before extraction, and while it is decoded) and its CRC-32.
    private func extract(_ entry: ZipMember) throws(NumpyFileError) -> Data {
        try checkDeclaredSizes(entry)
        guard entry.flags & 1 == 0 else {
            throw .corruptArchive(source: source, member: entry.path, reason: "encrypted members are not supported")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw .corruptArchive(source: source, member: entry.path,
                                  reason: "unsupported compression method \(entry.method) (stored, 0, and deflate, 8, are read)")
        }
        let payload: Data
        do {
            payload = try ZipDirectory.payload(of: entry, in: bytes)
        } catch {
            throw .corruptArchive(source: source, member: entry.path, reason: error.reason)
        }
        let declared = entry.uncompressedSize
        var data = payload
        if entry.isCompressed {
            do {
                data = try Inflate.raw(payload, limit: declared)
            } catch {
                let reason = switch error {
                case .overrun: "decompresses to more than the \(declared) bytes it declares"
                case .truncated: "its deflate stream does not end within its \(entry.compressedSize) compressed bytes"
                case let .corrupt(message): "invalid deflate data: \(message)"
                }
                throw .corruptArchive(source: source, member: entry.path, reason: reason)
            }
        }
        guard Inflate.checksum(data) == entry.checksum else {
            throw .corruptArchive(source: source, member: entry.path, reason: "CRC-32 checksum mismatch")
        }
        guard UInt64(data.count) == declared else {
            throw .corruptArchive(source: source, member: entry.path,
                                  reason: "expected \(declared) bytes, extracted \(data.count)")
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
