import BeamlineTensor
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

    /// Writes `data` to `url` atomically through the package's one atomic
    /// writer (`AtomicFile`: a new temporary file in the same directory,
    /// flushed to disk, renamed over `url`, the directory flushed). On any
    /// failure the temporary file is removed and `url` is left unchanged.
    /// With `durable` false nothing is flushed to disk (for scratch files).
    /// `writer` replaces `write(2)` in fault-injection tests.
    static func writeAtomically(_ data: Data, to url: URL, durable: Bool = true,
                                writer: AtomicFile.Writer = AtomicFile.systemWrite) throws(NumpyFileError) {
        let path = url.path
        let result: Result<Void, AtomicFile.Failure> = data.withUnsafeBytes { bytes in
            Result { () throws(AtomicFile.Failure) in
                try AtomicFile.write(bytes, to: path, durable: durable, writer: writer)
            }
        }
        if case let .failure(failure) = result {
            throw .ioFailure(path: path, operation: failure.operation, reason: failure.reason)
        }
    }
}
