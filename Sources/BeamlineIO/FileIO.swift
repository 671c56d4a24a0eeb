import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic whole-file writes with POSIX calls, so that
/// every failure becomes a ``NumpyFileError/ioFailure(path:operation:reason:)``
/// that names the file and the system's reason.
enum FileIO {
    /// POSIX `write(2)`.
    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, buffer, count)
        #elseif canImport(Musl)
        return Musl.write(descriptor, buffer, count)
        #else
        return Darwin.write(descriptor, buffer, count)
        #endif
    }

    /// The system's message for `errno`.
    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The contents of the file at `url` (memory-mapped when the system
    /// allows it).
    static func readContents(of url: URL) throws(NumpyFileError) -> Data {
        let path = url.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .ioFailure(path: path, operation: "open", reason: reason(errno))
        }
        guard (status.st_mode & S_IFMT) != S_IFDIR else {
            throw .ioFailure(path: path, operation: "read", reason: "is a directory")
        }
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .ioFailure(path: path, operation: "read", reason: describe(error))
        }
    }

    /// A short description of a Foundation error.
    static func describe(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return (error as NSError).localizedDescription
    }

    /// Writes `data` to `url` atomically: into a new temporary file in the
    /// same directory, flushed to disk, then renamed over `url`. On any
    /// failure the temporary file is removed and `url` is left unchanged.
    /// With `durable` false the data is not flushed to disk before the
    /// rename (for scratch files).
    static func writeAtomically(_ data: Data, to url: URL, durable: Bool = true) throws(NumpyFileError) {
        let destination = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = (directory as NSString).appendingPathComponent(
            ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .ioFailure(path: destination, operation: "create temporary file \(temporary)", reason: reason(errno))
        }
        var failure: NumpyFileError?
        data.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                let result = systemWrite(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = .ioFailure(path: destination, operation: "write", reason: reason(errno))
                    return
                }
                written += result
            }
        }
        if failure == nil && durable && fsync(descriptor) != 0 {
            failure = .ioFailure(path: destination, operation: "fsync", reason: reason(errno))
        }
        if close(descriptor) != 0 && failure == nil {
            failure = .ioFailure(path: destination, operation: "close", reason: reason(errno))
        }
        if failure == nil && rename(temporary, destination) != 0 {
            failure = .ioFailure(path: destination, operation: "rename", reason: reason(errno))
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}
