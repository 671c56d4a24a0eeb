import CHDF5
import Foundation

/// The process-wide state of libhdf5: the one lock that serialises every
/// call into it, its error reporting and its plugin search path.
///
/// libhdf5 is thread-safe only when built with `--enable-threadsafe`
/// (Debian 12's serial build is; most self-built and many distribution
/// builds are not), and even then it runs one call at a time behind its
/// own global lock. Beamline therefore takes one global recursive lock
/// (``withLock(_:)``) around every call into libhdf5, whatever the build,
/// so ``HDF5File`` values may be used from any thread, and from several at
/// once, at the cost of HDF5 work never running in parallel. Code that
/// calls libhdf5 directly (through `CHDF5`) in the same process should do
/// so inside ``withLock(_:)`` too.
///
/// Inside the lock, libhdf5's automatic error printing is turned off for
/// the calling thread (`H5Eset_auto2(H5E_DEFAULT, NULL, NULL)`; a
/// thread-safe build keeps that setting per thread): failures come back as
/// ``HDF5Error`` values, and nothing is written to standard error.
public enum HDF5Library {
    /// The lock around every libhdf5 call (recursive, so that a locked
    /// helper may call another).
    private static let lock = NSRecursiveLock()

    /// Opens libhdf5 once.
    private static let initialised: Bool = {
        _ = H5open()
        return true
    }()

    /// Runs `body` holding the global libhdf5 lock, with libhdf5's error
    /// printing turned off for the calling thread.
    public static func withLock<R, Failure: Error>(_ body: () throws(Failure) -> R) throws(Failure) -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = initialised
        // Per thread in a thread-safe libhdf5, so set on every entry (a few stores).
        _ = beamline_h5_silence_errors()
        return try body()
    }

    /// libhdf5's version as `(major, minor, release)`, e.g. `(1, 10, 8)`.
    public static var version: (major: Int, minor: Int, release: Int) {
        withLock {
            var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
            _ = H5get_libversion(&major, &minor, &release)
            return (Int(major), Int(minor), Int(release))
        }
    }

    /// The folders libhdf5 searches for filter plugins, in order: the
    /// folders of `HDF5_PLUGIN_PATH` when it is set (else libhdf5's default,
    /// on Debian `/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins`, where
    /// `hdf5-filter-plugin` installs), then those added with
    /// ``appendPluginFolder(_:)``.
    public static var pluginFolders: [String] {
        withLock {
            var count: UInt32 = 0
            guard H5PLsize(&count) >= 0 else { clearErrors(); return [] }
            var folders: [String] = []
            for index in 0..<count {
                let length = H5PLget(index, nil, 0)
                guard length > 0 else { continue }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = H5PLget(index, &buffer, buffer.count)
                folders.append(HDF5Library.string(buffer))
            }
            return folders
        }
    }

    /// Adds `folder` to the end of libhdf5's plugin search path (as
    /// `H5PLappend` does), for plugins installed outside the default
    /// folder, such as the bitshuffle plugin shipped by the `hdf5plugin`
    /// Python package. Adding a folder twice has no further effect.
    public static func appendPluginFolder(_ folder: String) {
        withLock {
            guard !pluginFolders.contains(folder) else { return }
            if H5PLappend(folder) < 0 { clearErrors() }
        }
    }

    /// The plugin folder of the `hdf5plugin` Python package (pip), which
    /// ships filters Debian's `hdf5-filter-plugin` lacks (bitshuffle,
    /// 32008), asked from the `python3` on `PATH`
    /// (`hdf5plugin.PLUGIN_PATH`); nil when Python or the package is
    /// missing. Pass it to ``appendPluginFolder(_:)`` to use those filters.
    public static func pythonPluginFolder() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let folder = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return folder.isEmpty ? nil : folder
    }

    /// True when a filter with this id is registered or can be loaded from
    /// a plugin folder (`H5Zfilter_avail`).
    public static func isFilterAvailable(_ id: Int) -> Bool {
        withLock {
            let result = H5Zfilter_avail(H5Z_filter_t(id))
            if result < 0 { clearErrors() }
            return result > 0
        }
    }

    // MARK: - Internal helpers (call with the lock held)

    /// The innermost message on libhdf5's error stack (or `fallback` when
    /// the stack is empty), and clears the stack.
    static func lastError(_ fallback: String = "libhdf5 reported an error") -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let length = beamline_h5_error_message(&buffer, buffer.count)
        clearErrors()
        return length > 0 ? HDF5Library.string(buffer) : fallback
    }

    /// Empties libhdf5's error stack.
    static func clearErrors() {
        _ = H5Eclear2(0)  // H5E_DEFAULT
    }
}

/// The names of the registered HDF5 filter ids that beamline data uses
/// (from the HDF Group's registry), for error messages.
enum HDF5FilterNames {
    static func name(of id: Int) -> String? {
        switch id {
        case 1: return "deflate"
        case 2: return "shuffle"
        case 3: return "fletcher32"
        case 4: return "szip"
        case 5: return "nbit"
        case 6: return "scaleoffset"
        case 307: return "bzip2"
        case 32000: return "lzf"
        case 32001: return "blosc"
        case 32004: return "lz4"
        case 32008: return "bitshuffle"
        case 32013: return "zfp"
        case 32015: return "zstd"
        case 32026: return "blosc2"
        default: return nil
        }
    }
}

extension HDF5Library {
    /// The UTF-8 text in `buffer` up to its first NUL.
    static func string(_ buffer: [CChar]) -> String {
        let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
        return String(decoding: buffer[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
