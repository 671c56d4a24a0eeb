@testable import BeamlineIO
import BeamlineTensor
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Writes that lose nothing: every writer goes through `AtomicFile.write`
/// (temporary file in the target folder, fsync, rename), so a write that
/// fails midway, or a process killed during a write, leaves the old file or
/// the complete new one.
@Suite("Atomic writes under failure")
struct AtomicWriteTests {
    /// A `write(2)` stand-in that writes `limit` bytes in total, then fails
    /// with ENOSPC (a full disk midway through the file).
    final class FailingWriter: @unchecked Sendable {
        var remaining: Int
        var calls = 0
        init(limit: Int) { remaining = limit }
        func write(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
            calls += 1
            guard remaining > 0 else {
                errno = ENOSPC
                return -1
            }
            let n = min(count, remaining, 4096)
            remaining -= n
            return AtomicFile.systemWrite(descriptor, bytes, n)
        }
    }

    /// Names in `directory` other than `keep`.
    static func leftovers(in directory: URL, keep: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != keep }
    }

    @Test("a .npy write that fails midway (disk full) leaves the old file and no temporary file")
    func failingWriteKeepsOldFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.npy")
        let old = Tensor<Double>(shape: [2, 3], elements: [1, 2, 3, 4, 5, 6])
        try NumpyFile.write(old, to: url)
        let oldBytes = try Data(contentsOf: url)

        let new = Tensor<Double>(shape: [256, 256], elements: (0..<65536).map { Double($0) })
        let newBytes = NumpyFile.encode(new)
        let writer = FailingWriter(limit: newBytes.count / 2)
        #expect(throws: NumpyFileError.ioFailure(path: url.path, operation: "write",
                                                 reason: String(cString: strerror(ENOSPC)))) {
            try FileIO.writeAtomically(newBytes, to: url, writer: writer.write)
        }
        #expect(writer.calls > 2)   // it failed after several partial writes
        #expect(try Data(contentsOf: url) == oldBytes)
        #expect(try NumpyFile.read(Double.self, from: url) == old)
        #expect(try Self.leftovers(in: directory, keep: "out.npy").isEmpty)

        // The same writer with room for everything succeeds and replaces the file.
        try FileIO.writeAtomically(newBytes, to: url, writer: FailingWriter(limit: newBytes.count).write)
        #expect(try NumpyFile.read(Double.self, from: url) == new)
        #expect(try Self.leftovers(in: directory, keep: "out.npy").isEmpty)
    }

    @Test("a write that makes no progress is an error, not a loop")
    func zeroProgressWrite() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.bin")
        #expect(throws: NumpyFileError.ioFailure(path: url.path, operation: "write", reason: "no bytes written (0 of 3)")) {
            try FileIO.writeAtomically(Data([1, 2, 3]), to: url, writer: { _, _, _ in 0 })
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(try Self.leftovers(in: directory, keep: "").isEmpty)
    }

    @Test("writing into a missing or read-only folder names the file and leaves nothing")
    func unwritableFolders() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("no/such/folder/out.npy")
        #expect {
            try NumpyFile.write(Tensor<Float>([1]), to: missing)
        } throws: { error in
            guard case let .ioFailure(path, operation, reason)? = error as? NumpyFileError else { return false }
            return path == missing.path && operation.hasPrefix("create temporary file")
                && reason == String(cString: strerror(ENOENT))
        }
        guard getuid() != 0 else { return }   // root writes into read-only folders
        let readOnly = directory.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: false)
        chmod(readOnly.path, 0o555)
        defer { chmod(readOnly.path, 0o755) }
        #expect(throws: NumpyFileError.self) {
            try NumpyFile.write(Tensor<Float>([1]), to: readOnly.appendingPathComponent("out.npy"))
        }
    }

    /// A child process writes a 64 MiB file over a 1 kB one again and again
    /// and is killed with SIGKILL: first while its temporary file is still
    /// growing, then at random moments. After every kill the target is the
    /// complete old file or the complete new one.
    @Test("SIGKILL during a large write leaves the old or the new file")
    func killDuringWrite() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("target.npy")
        let old = Tensor<UInt8>(shape: [1024], elements: [UInt8](repeating: 1, count: 1024))
        try NumpyFile.write(old, to: url)
        let oldBytes = try Data(contentsOf: url)
        let newBytes = NumpyFile.encode(Tensor<UInt8>(shape: [64 << 20], elements: [UInt8](repeating: 2, count: 64 << 20)))
        var sawOld = false, sawNew = false, killedMidWrite = false
        for round in 0..<6 {
            let child = fork()
            try #require(child >= 0)
            if child == 0 {
                // The child: write the new file for ever (only POSIX calls and
                // the already-built buffer), until it is killed.
                while true { try? FileIO.writeAtomically(newBytes, to: url) }
            }
            if round == 0 {
                // Wait until a temporary file exists and is partly written.
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    let partial = try FileManager.default.contentsOfDirectory(atPath: directory.path).contains { name in
                        guard name.hasSuffix(".tmp"),
                              let size = try? FileManager.default.attributesOfItem(
                                atPath: directory.appendingPathComponent(name).path)[.size] as? Int else { return false }
                        return size > 0 && size < newBytes.count
                    }
                    if partial { killedMidWrite = true; break }
                    usleep(200)
                }
            } else {
                usleep(UInt32.random(in: 1_000...200_000))
            }
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
            let contents = try Data(contentsOf: url)
            if contents == oldBytes { sawOld = true } else if contents == newBytes { sawNew = true } else {
                Issue.record("round \(round): the target holds \(contents.count) bytes, neither the old \(oldBytes.count) nor the new \(newBytes.count)")
            }
        }
        #expect(killedMidWrite)
        // Which of the two each kill leaves depends on timing; never anything else.
        #expect(sawOld || sawNew)
    }
}
