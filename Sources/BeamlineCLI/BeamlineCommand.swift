import ArgumentParser
import Beamline
import Foundation

/// The `beamline` command: Beamline's solvers and jobs for scripts, on
/// NumPy files.
public struct BeamlineCommand: ParsableCommand {
    /// The command's name, summary, version and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "beamline",
        abstract: "Numerics for synchrotron X-ray imaging: tensors, FFT, linear algebra, registration, solvers and tomography on NumPy files.",
        version: BeamlineVersion.string,
        subcommands: [
            InfoCommand.self, DemoCommand.self,
            LSMRCommand.self, MLEMCommand.self,
            RegisterCommand.self, ShiftCommand.self,
            ProjectCommand.self, ReconstructCommand.self,
            RaytraceCommand.self, DeconvolveCommand.self,
            AlignCommand.self,
            CBCScaleCommand.self,
            TensorReconstructCommand.self,
            TensorFBPCommand.self,
        ]
    )

    /// Creates the command (argument parsing fills it in).
    public init() {}
}

/// Options shared by the subcommands that do numerical work.
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for Beamline, OpenBLAS and FFTW (default: BEAMLINE_NUM_THREADS or all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, received \(threads)")
        }
    }

    /// Applies the setting.
    func apply() {
        if let threads { Parallel.threadCount = threads }
    }
}

/// Errors the commands report (the message names the argument or file).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// "ARGUMENT VALUE: message" for a failure on an argument's value (a
    /// path, usually), without repeating the value where the error's own
    /// message already starts with it (file errors name their file).
    init(argument: String, value: String, _ error: any Error) {
        var message = String(describing: error)
        while message.hasPrefix(value + ": ") { message.removeFirst(value.count + 2) }
        self.init("\(argument) \(value): \(message)")
    }
}
