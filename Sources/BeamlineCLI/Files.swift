import ArgumentParser
import Beamline
import Foundation

// Every array argument of every command is a dataset address (docs/hdf5.md):
// `image.npy`, `arrays.npz:member`, `scan.h5:/entry/data/data`, with an
// optional selection (`scan.nxs:/entry/data/data[10:20]`, `x.npy[::2]`).
// Outputs take the same addresses (without a selection): a `.npy` file, a
// member of an `.npz` archive, or a dataset of an HDF5 file (other datasets
// of that file are kept). These are the only functions the commands use to
// read and write arrays, so every command accepts the same forms and reports
// problems the same way: the option, then the file's own message.

/// File extensions offered by shell completion for array arguments.
let arrayExtensions = ["npy", "npz", "h5", "hdf5", "nxs"]

/// Array inputs and outputs of the commands.
enum ArrayFiles {
    /// Parses `text`, the value of `option`.
    static func address(_ text: String, option: String) throws -> DatasetAddress {
        do { return try DatasetAddress(text) } catch { throw CommandError("\(option): \(message(error))") }
    }

    /// The array at `text`, in the type it is stored as.
    static func load(_ text: String, option: String) throws -> AnyTensor {
        let address = try address(text, option: option)
        do { return try address.load() } catch { throw CommandError("\(option): \(message(error))") }
    }

    /// The array at `text` as real numbers: float32 stays float32, every
    /// other real or integer type becomes float64; complex and Boolean
    /// arrays are refused.
    static func loadReal(_ text: String, option: String) throws -> RealArray {
        let any = try load(text, option: option)
        switch any {
        case .float32(let t): return .float(t)
        case .complex64, .complex128, .bool:
            throw CommandError("\(option) \(text): expected real numbers, found \(any.dtype)")
        default: return .double(any.cast(to: Double.self))
        }
    }

    /// The array at `text` as float64 (any real or integer type).
    static func loadDoubles(_ text: String, option: String) throws -> Tensor<Double> {
        switch try loadReal(text, option: option) {
        case .float(let t): return t.map { Double($0) }
        case .double(let t): return t
        }
    }

    /// A mask at `text`: any integer or Boolean array (non-zero = masked,
    /// as pyFAI), or real numbers (non-zero or NaN = masked).
    static func loadMask(_ text: String, option: String) throws -> Tensor<Bool> {
        let any = try load(text, option: option)
        do { return try any.maskFlags() } catch { throw CommandError(argument: option, value: text, error) }
    }

    /// Writes `tensor` to `text` unless the run was interrupted (Ctrl-C, or
    /// a solver that stopped with `stopReason` `.cancelled`: then nothing
    /// is written and ``Interrupted`` is thrown),
    /// replacing an existing `.npy` file, `.npz` member or HDF5 dataset of
    /// that name (atomically: the old file stays whole until the new one
    /// is complete).
    static func write(_ tensor: AnyTensor, to text: String, option: String = "--out",
                      stopReason: StopReason? = nil) throws {
        if stopReason == .cancelled { throw Interrupted() }
        try Interrupt.check()
        let address = try address(text, option: option)
        do { try address.write(tensor, overwrite: true) } catch { throw CommandError("\(option): \(message(error))") }
    }

    /// Writes a typed tensor (see ``write(_:to:option:)-(AnyTensor,_,_)``).
    static func write<T: TensorElement>(_ tensor: Tensor<T>, to text: String, option: String = "--out",
                                        stopReason: StopReason? = nil) throws {
        try write(AnyTensor(tensor), to: text, option: option, stopReason: stopReason)
    }

    /// The file's own message (which names the file and the dataset) for
    /// read and write failures; the address's for parse errors.
    static func message(_ error: DatasetAddressError) -> String {
        switch error {
        case let .hdf5(_, inner): return inner.description
        case let .numpy(_, inner): return inner.description
        default: return error.description
        }
    }
}

/// A real array as read by ``ArrayFiles/loadReal(_:option:)``.
enum RealArray {
    case float(Tensor<Float>)
    case double(Tensor<Double>)

    var shape: [Int] {
        switch self { case .float(let t): return t.shape; case .double(let t): return t.shape }
    }
}

/// Checks that a command's output is none of its inputs: the same `.npy`
/// file (after resolving symbolic links, or the same inode), the same
/// `.npz` member, or the same HDF5 dataset. Writing another dataset or
/// member of an input file is allowed: the input is read before the output
/// is written, and the write keeps the file's other contents.
struct OutputCheck {
    /// Throws when `output` (option, address) is one of `inputs`. An
    /// array output (`outputIsArray`) must be a valid address; other
    /// outputs (a SciPy matrix) are plain paths.
    init(inputs: [(String, String)], output: (String, String), outputIsArray: Bool = true) throws {
        // The comparison comes first: an output that is an input is refused
        // as such even when it is not an array address (`--out geometry.json`).
        let target = outputIsArray ? try? DatasetAddress(output.1) : nil
        let targetFile = target?.file ?? output.1
        for (option, text) in inputs {
            // Inputs that are not array addresses (a geometry JSON, a SciPy
            // matrix) are compared as whole files.
            let input = try? DatasetAddress(text)
            let inputFile = input?.file ?? text
            guard Self.sameFile(inputFile, targetFile) else { continue }
            if let input, let target, input.format == target.format, input.format != .npy,
               input.member != target.member { continue }
            throw CommandError("\(output.0) \(output.1) is the same file as \(option) \(text); refusing to overwrite an input")
        }
        if outputIsArray && target == nil { _ = try ArrayFiles.address(output.1, option: output.0) }
        // The output's folder must exist and be writable: checked before any
        // work is done rather than found when the result is written.
        let folder = URL(fileURLWithPath: targetFile).deletingLastPathComponent().path
        var status = stat()
        guard stat(folder, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw CommandError("\(output.0) \(output.1): the folder \(folder) does not exist")
        }
        guard access(folder, W_OK) == 0 else {
            throw CommandError("\(output.0) \(output.1): the folder \(folder) is not writable")
        }
    }

    /// True when `a` and `b` name one file (same path after resolving
    /// links, or the same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        if canonical(a) == canonical(b) { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
