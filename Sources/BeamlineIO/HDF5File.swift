import BeamlineTensor
import CHDF5
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file (or NeXus file, which is an HDF5 file): its groups,
/// datasets, attributes and links, addressed by absolute paths such as
/// `/entry/instrument/detector/data`.
///
/// Open an existing file with ``init(contentsOf:mode:)``. Create one with
/// ``write(to:_:)``, which builds the file under a temporary name in the
/// destination's folder and renames it over the destination only when the
/// closure returns, so a failed write leaves no file behind (and never
/// destroys the previous one); ``update(at:_:)`` changes an existing file
/// the same way, on a copy.
///
/// ```swift
/// let file = try HDF5File(contentsOf: url)
/// let frames = try file.read(Float.self, from: "/entry/data/data",
///                            selection: [.slice(10, 20)])   // frames 10..<20
/// ```
///
/// Every call into libhdf5 holds ``HDF5Library``'s global lock (libhdf5
/// builds without `--enable-threadsafe` must never be entered twice at
/// once), so a file may be shared between threads,
/// but HDF5 work never runs in parallel. The file is closed by ``close()``
/// or when the value is released.
public final class HDF5File: @unchecked Sendable {
    /// How an existing file is opened.
    public enum Mode: Sendable, Equatable {
        /// Reading only (`H5F_ACC_RDONLY`).
        case readOnly
        /// Reading and writing in place (`H5F_ACC_RDWR`): changes are not
        /// atomic; use ``HDF5File/update(at:_:)`` for that.
        case readWrite
    }

    /// The file's location (the destination, for a file being created).
    public let url: URL
    /// How the file was opened (``Mode/readWrite`` for a file being
    /// created).
    public let mode: Mode
    /// The libhdf5 file id, or -1 once closed.
    var id: hid_t
    /// For a file being created: where it is written until ``close()``
    /// renames it to ``url``.
    let temporaryPath: String?

    /// The file's path, as error messages name it.
    public var path: String { url.path }

    /// Opens the existing HDF5 file at `url`.
    ///
    /// - Throws: ``HDF5Error/fileNotFound(file:reason:)`` when there is no
    ///   readable file, ``HDF5Error/notHDF5(file:)`` when it has no HDF5
    ///   signature, ``HDF5Error/corruptFile(file:path:reason:)`` when it is
    ///   truncated or damaged.
    public init(contentsOf url: URL, mode: Mode = .readOnly) throws(HDF5Error) {
        self.url = url
        self.mode = mode
        self.temporaryPath = nil
        self.id = try HDF5File.open(path: url.path, mode: mode)
    }

    /// A new, empty file written at `temporaryPath`, renamed to `url` by
    /// ``close()``.
    private init(creating url: URL, temporaryPath: String, id: hid_t) {
        self.url = url
        self.mode = .readWrite
        self.temporaryPath = temporaryPath
        self.id = id
    }

    deinit {
        HDF5Library.withLock {
            if id >= 0 { _ = H5Fclose(id); HDF5Library.clearErrors() }
        }
        if let temporaryPath { unlink(temporaryPath) }
    }

    /// Creates a new HDF5 file at `url`, lets `body` fill it, and puts it
    /// in place atomically: the file is written under a temporary name in
    /// the same folder and renamed over `url` (replacing any file there)
    /// only after `body` returns and the file is closed. If `body` or the
    /// close throws, the temporary file is removed and `url` is untouched.
    ///
    /// ```swift
    /// try HDF5File.write(to: url) { file throws(HDF5Error) in
    ///     try file.write(image, to: "/entry/data/data")
    ///     try file.setAttribute("NX_class", .string("NXdata"), on: "/entry/data")
    /// }
    /// ```
    public static func write(to url: URL, _ body: (HDF5File) throws(HDF5Error) -> Void) throws(HDF5Error) {
        try commit(try create(at: url), body)
    }

    /// Runs `body` on a file being written at its temporary path, then
    /// renames it into place; if `body` throws, the temporary file is
    /// removed and the destination is left as it was.
    private static func commit(_ file: HDF5File, _ body: (HDF5File) throws(HDF5Error) -> Void) throws(HDF5Error) {
        do {
            try body(file)
        } catch {
            file.discard()
            throw error
        }
        try file.close()
    }

    /// Changes the existing file at `url` atomically: copies it to a
    /// temporary file in the same folder, opens the copy for writing, runs
    /// `body`, and renames the copy over `url` when `body` returns. If
    /// `body` throws, `url` is left as it was. When there is no file at
    /// `url` this is ``write(to:_:)``.
    public static func update(at url: URL, _ body: (HDF5File) throws(HDF5Error) -> Void) throws(HDF5Error) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            try write(to: url, body)
            return
        }
        // Check the original first, so that its errors name it.
        _ = try HDF5File(contentsOf: url)
        let temporary = temporaryPath(for: url)
        do {
            try FileManager.default.copyItem(atPath: url.path, toPath: temporary)
        } catch {
            throw .ioFailure(file: url.path, operation: "copy to \(temporary)", reason: FileIO.describe(error))
        }
        let id: hid_t
        do {
            id = try open(path: temporary, mode: .readWrite, reportedPath: url.path)
        } catch {
            unlink(temporary)
            throw error
        }
        try commit(HDF5File(creating: url, temporaryPath: temporary, id: id), body)
    }

    /// A new file being written at a temporary path beside `url`.
    static func create(at url: URL) throws(HDF5Error) -> HDF5File {
        let temporary = temporaryPath(for: url)
        let id = HDF5Library.withLock { () -> hid_t in
            let id = H5Fcreate(temporary, beamline_h5f_acc_excl(), beamline_h5p_default(), beamline_h5p_default())
            return id
        }
        guard id >= 0 else {
            let reason = HDF5Library.withLock { HDF5Library.lastError("cannot create \(temporary)") }
            unlink(temporary)
            throw .writeFailure(file: url.path, path: "", reason: reason)
        }
        return HDF5File(creating: url, temporaryPath: temporary, id: id)
    }

    /// `.name.UUID.tmp` beside `url`.
    private static func temporaryPath(for url: URL) -> String {
        let directory = url.deletingLastPathComponent().path
        return (directory as NSString).appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    }

    /// Opens `path` with libhdf5, classifying failures.
    private static func open(path: String, mode: Mode, reportedPath: String? = nil) throws(HDF5Error) -> hid_t {
        let name = reportedPath ?? path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .fileNotFound(file: name, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) != S_IFDIR else {
            throw .fileNotFound(file: name, reason: "is a directory")
        }
        guard access(path, mode == .readOnly ? R_OK : R_OK | W_OK) == 0 else {
            throw .fileNotFound(file: name, reason: String(cString: strerror(errno)))
        }
        let result: Result<hid_t, HDF5Error> = HDF5Library.withLock {
            let signature = H5Fis_hdf5(path)
            if signature == 0 { HDF5Library.clearErrors(); return .failure(.notHDF5(file: name)) }
            if signature < 0 {
                return .failure(.corruptFile(file: name, path: "", reason: HDF5Library.lastError()))
            }
            let flags = mode == .readOnly ? beamline_h5f_acc_rdonly() : beamline_h5f_acc_rdwr()
            let id = H5Fopen(path, flags, beamline_h5p_default())
            if id < 0 {
                return .failure(.corruptFile(file: name, path: "", reason: HDF5Library.lastError()))
            }
            return .success(id)
        }
        return try result.get()
    }

    /// Closes the file. For a file being created (``write(to:_:)``,
    /// ``update(at:_:)``) this flushes it and renames it to ``url``.
    /// Closing twice does nothing.
    public func close() throws(HDF5Error) {
        let failed: String? = HDF5Library.withLock {
            guard id >= 0 else { return nil }
            let status = H5Fclose(id)
            id = -1
            return status < 0 ? HDF5Library.lastError() : nil
        }
        guard let temporaryPath else {
            if let failed { throw .writeFailure(file: path, path: "", reason: failed) }
            return
        }
        if let failed {
            unlink(temporaryPath)
            throw .writeFailure(file: path, path: "", reason: failed)
        }
        guard FileManager.default.fileExists(atPath: temporaryPath) else { return }  // already renamed
        // Flushed to disk, renamed, folder flushed: the package's one atomic commit.
        do { try AtomicFile.commit(temporary: temporaryPath, to: path) } catch {
            throw .ioFailure(file: path, operation: error.operation, reason: error.reason)
        }
    }

    /// Closes the file without putting a file being created in place.
    func discard() {
        HDF5Library.withLock {
            if id >= 0 { _ = H5Fclose(id); HDF5Library.clearErrors() }
            id = -1
        }
        if let temporaryPath { unlink(temporaryPath) }
    }

    // MARK: - Paths and objects

    /// `path` as an absolute HDF5 path (a leading `/` added, repeated and
    /// trailing slashes removed).
    static func normalise(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return "/" + parts.joined(separator: "/")
    }

    /// The id of the open file, or a write failure if it was closed.
    func openID(_ path: String) throws(HDF5Error) -> hid_t {
        guard id >= 0 else { throw .readFailure(file: self.path, path: path, reason: "the file is closed") }
        return id
    }

    /// Whether every link along `path` exists and resolves (lock held).
    func resolves(_ path: String) -> Bool {
        guard id >= 0 else { return false }
        if path == "/" { return true }
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, beamline_h5p_default()) <= 0 { HDF5Library.clearErrors(); return false }
            if H5Oexists_by_name(id, prefix, beamline_h5p_default()) <= 0 { HDF5Library.clearErrors(); return false }
        }
        return true
    }

    /// True when an object (group or dataset) exists at `path`, following
    /// soft links (a dangling soft link does not count).
    public func contains(_ path: String) -> Bool {
        HDF5Library.withLock { resolves(HDF5File.normalise(path)) }
    }

    /// What kind of object is at `path`.
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)``.
    public func objectKind(at path: String) throws(HDF5Error) -> HDF5ObjectKind {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> HDF5ObjectKind in try kind(path) }
    }

    /// The kind of object at the normalised `path` (lock held).
    func kind(_ path: String) throws(HDF5Error) -> HDF5ObjectKind {
        let file = try openID(path)
        guard resolves(path) else { throw .missingObject(file: self.path, path: path) }
        let type = beamline_h5_object_type(file, path)
        switch type {
        case Int32(H5O_TYPE_GROUP.rawValue): return .group
        case Int32(H5O_TYPE_DATASET.rawValue): return .dataset
        case Int32(H5O_TYPE_NAMED_DATATYPE.rawValue): return .namedDatatype
        default:
            throw .corruptFile(file: self.path, path: path, reason: HDF5Library.lastError("unknown object type"))
        }
    }

    // MARK: - Groups

    /// Creates the group at `path` and any missing groups above it (as
    /// `h5py.Group.require_group` does); an existing group is left as it is.
    ///
    /// - Throws: ``HDF5Error/notAGroup(file:path:found:)`` when a dataset
    ///   is in the way, ``HDF5Error/writeFailure(file:path:reason:)``.
    public func createGroup(_ path: String) throws(HDF5Error) {
        let path = HDF5File.normalise(path)
        try HDF5Library.withLock { () throws(HDF5Error) in try requireGroup(path) }
    }

    /// ``createGroup(_:)`` with the lock held.
    func requireGroup(_ path: String) throws(HDF5Error) {
        let file = try openID(path)
        if path == "/" { return }
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if resolves(prefix) {
                let found = try kind(prefix)
                guard found == .group else { throw .notAGroup(file: self.path, path: prefix, found: found.description) }
                continue
            }
            let group = H5Gcreate2(file, prefix, beamline_h5p_default(), beamline_h5p_default(), beamline_h5p_default())
            guard group >= 0 else { throw .writeFailure(file: self.path, path: prefix, reason: HDF5Library.lastError()) }
            _ = H5Gclose(group)
        }
    }

    /// The names of the links in the group at `path` (groups, datasets and
    /// links), in name order, as `list(h5py.Group.keys())`.
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)``,
    ///   ``HDF5Error/notAGroup(file:path:found:)``.
    public func members(of path: String = "/") throws(HDF5Error) -> [String] {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> [String] in
            let found = try kind(path)
            guard found == .group else { throw .notAGroup(file: self.path, path: path, found: found.description) }
            let group = H5Gopen2(id, path, beamline_h5p_default())
            guard group >= 0 else { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            defer { _ = H5Gclose(group) }
            final class Names { var list: [String] = [] }
            let names = Names()
            let status = withExtendedLifetime(names) {
                beamline_h5_list_links(group, { name, context in
                    guard let name, let context else { return }
                    Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
                }, Unmanaged.passUnretained(names).toOpaque())
            }
            guard status >= 0 else { throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError()) }
            return names.list
        }
    }

    // MARK: - Links

    /// Creates a soft link at `path` pointing to the absolute path `target`
    /// (as `group[name] = h5py.SoftLink(target)`); the target need not
    /// exist yet. Missing groups above `path` are created.
    ///
    /// - Throws: ``HDF5Error/alreadyExists(file:path:)`` when a link is
    ///   already at `path`.
    public func createSoftLink(at path: String, pointingTo target: String) throws(HDF5Error) {
        let path = HDF5File.normalise(path)
        let target = HDF5File.normalise(target)
        try HDF5Library.withLock { () throws(HDF5Error) in
            let file = try openID(path)
            if beamline_h5_link_type(file, path) >= 0 { throw .alreadyExists(file: self.path, path: path) }
            HDF5Library.clearErrors()
            try requireGroup(HDF5File.parent(of: path))
            guard H5Lcreate_soft(target, file, path, beamline_h5p_default(), beamline_h5p_default()) >= 0 else {
                throw .writeFailure(file: self.path, path: path, reason: HDF5Library.lastError())
            }
        }
    }

    /// The target path of the soft link at `path`, or `nil` when `path` is
    /// a hard link (an ordinary group or dataset). Reads and
    /// ``contains(_:)`` follow soft links by themselves.
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)`` when there is no
    ///   link at `path`.
    public func softLinkTarget(of path: String) throws(HDF5Error) -> String? {
        let path = HDF5File.normalise(path)
        return try HDF5Library.withLock { () throws(HDF5Error) -> String? in
            let file = try openID(path)
            let parent = HDF5File.parent(of: path)
            guard path != "/", resolves(parent) else { throw .missingObject(file: self.path, path: path) }
            let length = beamline_h5_soft_link_value(file, path, nil, 0)
            if length == -2 { return nil }
            guard length >= 0 else { HDF5Library.clearErrors(); throw .missingObject(file: self.path, path: path) }
            var buffer = [CChar](repeating: 0, count: length + 1)
            guard beamline_h5_soft_link_value(file, path, &buffer, buffer.count) >= 0 else {
                throw .readFailure(file: self.path, path: path, reason: HDF5Library.lastError())
            }
            return HDF5Library.string(buffer)
        }
    }

    /// The group that holds `path` (`"/"` for top-level names).
    static func parent(of path: String) -> String {
        var parts = path.split(separator: "/")
        guard !parts.isEmpty else { return "/" }
        parts.removeLast()
        return "/" + parts.joined(separator: "/")
    }
}

/// The kind of object a path in an HDF5 file refers to.
public enum HDF5ObjectKind: Sendable, Equatable, CustomStringConvertible {
    /// A group (a folder of links).
    case group
    /// A dataset (an n-dimensional array).
    case dataset
    /// A named (committed) datatype.
    case namedDatatype

    /// `"group"`, `"dataset"` or `"named datatype"`.
    public var description: String {
        switch self {
        case .group: return "group"
        case .dataset: return "dataset"
        case .namedDatatype: return "named datatype"
        }
    }
}
