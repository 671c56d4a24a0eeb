#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one atomic whole-file writer of the package: every output file
/// (`.npy`, `.npz`, SciPy sparse `.npz`, PNG previews, geometry JSON) is
/// written through ``write(_:to:durable:writer:)`` (HDF5 files, which
/// libhdf5 writes, through ``commit(temporary:to:)``), which puts the bytes in
/// a new temporary file in the destination's folder, flushes it to disk
/// (`fsync`), renames it over the destination and flushes the folder, so
/// that a full disk, an I/O error or a killed process leaves either the old
/// file or the new one, never a truncated one.
///
/// `package` access: shared by the Beamline modules, not public API. Each
/// module turns ``AtomicFile/Failure`` into its own typed error.
package enum AtomicFile {
    /// A failed step: `operation` (`"create temporary file <path>"`,
    /// `"write"`, `"fsync"`, `"close"`, `"rename"`) and the system's
    /// reason.
    package struct Failure: Error, Equatable, Sendable {
        package var operation: String
        package var reason: String
        package init(operation: String, reason: String) {
            self.operation = operation
            self.reason = reason
        }
    }

    /// The `write(2)`-like function the writer calls: writes up to `count`
    /// bytes from the pointer to the descriptor, returns the number written
    /// or -1 with `errno` set. The seam for fault-injection tests.
    package typealias Writer = (_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int

    /// POSIX `write(2)`.
    package static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, bytes, count)
        #elseif canImport(Musl)
        return Musl.write(descriptor, bytes, count)
        #else
        return Darwin.write(descriptor, bytes, count)
        #endif
    }

    /// The system's message for `code`.
    package static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Writes `bytes` to `path` atomically (see ``AtomicFile``). On any
    /// failure the temporary file is removed and `path` is left as it was.
    ///
    /// - Parameters:
    ///   - durable: when false, neither the file nor the folder is flushed
    ///     to disk (scratch files).
    ///   - writer: the `write(2)` to use (fault injection in tests).
    package static func write(_ bytes: UnsafeRawBufferPointer, to path: String, durable: Bool = true,
                              writer: Writer = systemWrite) throws(Failure) {
        let directory = folder(of: path)
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        var descriptor: Int32 = -1
        var temporary = ""
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = (directory == "/" ? "" : directory) + "/.\(name).\(suffix).tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else {
            throw Failure(operation: "create temporary file \(temporary)", reason: reason(errno))
        }
        var failure: Failure?
        var written = 0
        while written < bytes.count, let base = bytes.baseAddress {
            let result = writer(descriptor, base + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                failure = Failure(operation: "write", reason: reason(errno))
                break
            }
            if result == 0 {
                failure = Failure(operation: "write", reason: "no bytes written (\(written) of \(bytes.count))")
                break
            }
            written += result
        }
        if failure == nil && durable && fsync(descriptor) != 0 {
            failure = Failure(operation: "fsync", reason: reason(errno))
        }
        if close(descriptor) != 0 && failure == nil {
            failure = Failure(operation: "close", reason: reason(errno))
        }
        if failure == nil && rename(temporary, path) != 0 {
            failure = Failure(operation: "rename", reason: reason(errno))
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        if durable { flushFolder(directory) }
    }

    /// The folder part of `path` (`.` when there is none).
    package static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Flushes a folder's entries to disk, so that a rename in it is
    /// durable. Failures are ignored: the renamed file is complete and in
    /// place either way, and some file systems cannot fsync a folder.
    package static func flushFolder(_ directory: String) {
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    /// Puts a complete temporary file written by another writer (libhdf5)
    /// in place the way ``write(_:to:durable:writer:)`` does: flushes it to
    /// disk, renames it over `path`, flushes the folder. On failure the
    /// temporary file is removed and `path` is left as it was.
    package static func commit(temporary: String, to path: String) throws(Failure) {
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let failure = Failure(operation: "open \(temporary)", reason: reason(errno))
            unlink(temporary)
            throw failure
        }
        if fsync(descriptor) != 0 {
            let failure = Failure(operation: "fsync", reason: reason(errno))
            close(descriptor)
            unlink(temporary)
            throw failure
        }
        close(descriptor)
        if rename(temporary, path) != 0 {
            let failure = Failure(operation: "rename from \(temporary)", reason: reason(errno))
            unlink(temporary)
            throw failure
        }
        flushFolder(folder(of: path))
    }
}
