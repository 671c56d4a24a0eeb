import ArgumentParser
import Beamline
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every numerical subcommand shares: it applies `--threads`, times
/// the run, stops cleanly on Ctrl-C, and prints one line of typed JSON whose
/// common keys (`command`, `seconds`, `threads`) are the same everywhere,
/// followed by the command's own ``Summary``.
///
/// A command implements ``execute()`` instead of `run()`.
protocol BeamlineSubcommand: ParsableCommand {
    /// The command's own summary keys (snake_case, through `CodingKeys`).
    associatedtype Summary: Encodable
    /// The `--threads` option.
    var threads: ThreadOptions { get }
    /// Does the work and returns the summary to print.
    func execute() throws -> Summary
}

extension BeamlineSubcommand {
    /// Applies the thread setting, installs the Ctrl-C handler, runs
    /// ``execute()`` and prints the summary; exits with status 130 when
    /// interrupted (no output file is written then).
    func run() throws {
        threads.apply()
        Interrupt.install()
        let start = ContinuousClock.now
        let report: Summary
        do {
            report = try execute()
        } catch is Interrupted {
            if !DistributedRun.quiet.load(ordering: .relaxed) {
                FileHandle.standardError.write(Data("\n\(Self.configuration.commandName ?? "beamline"): interrupted; no output written\n".utf8))
            }
            throw ExitCode(130)
        }
        // Ranks other than 0 of a distributed run print nothing.
        if DistributedRun.quiet.load(ordering: .relaxed) { return }
        try printJSON(CommandSummary(command: Self.configuration.commandName ?? "", seconds: seconds(since: start),
                                     threads: Parallel.threadCount, report: report))
    }
}

/// The JSON line a subcommand prints: the common keys and the command's own.
struct CommandSummary<Report: Encodable>: Encodable {
    let command: String
    let seconds: Double
    let threads: Int
    let report: Report

    enum CodingKeys: String, CodingKey { case command, seconds, threads }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(threads, forKey: .threads)
    }
}

/// Prints `value` as one line of JSON (sorted keys) on standard output.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Thrown by ``Interrupt/check()`` once Ctrl-C was pressed.
struct Interrupted: Error {}

/// Ctrl-C: the first SIGINT sets a flag that the running command polls
/// (between steps, and in every progress callback, which then asks the
/// solver to stop); the handler then restores the default action, so a
/// second Ctrl-C ends the process at once.
enum Interrupt {
    static let flag = Atomic<Bool>(false)

    /// Installs the handler (idempotent).
    static func install() {
        signal(SIGINT) { _ in
            Interrupt.flag.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
        }
    }

    /// Whether Ctrl-C was pressed (or is simulated on this thread).
    static var requested: Bool {
        flag.load(ordering: .relaxed) || Thread.current.threadDictionary[simulationKey] != nil
    }

    private static let simulationKey = "org.beamline.simulated-interrupt"

    /// Runs `body` as if Ctrl-C had been pressed, for this thread only (so
    /// that a test does not stop commands that other tests run meanwhile).
    static func simulate<R>(_ body: () throws -> R) rethrows -> R {
        Thread.current.threadDictionary[simulationKey] = true
        defer { Thread.current.threadDictionary.removeObject(forKey: simulationKey) }
        return try body()
    }

    /// Throws ``Interrupted`` once Ctrl-C was pressed.
    static func check() throws(Interrupted) {
        if requested { throw Interrupted() }
    }
}

/// A comma-separated list of numbers (`--by 3.25,-1.5`, `--shape 64,64`);
/// negative numbers need the options to be parsed `.unconditional`.
struct NumberList<Number: LosslessStringConvertible & Sendable>: ExpressibleByArgument, Sendable {
    let values: [Number]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Number] = []
        for part in parts {
            guard let value = Number(part) else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    /// The list as it is typed, for the help's "default:" (e.g. `32,32`).
    var defaultValueDescription: String { values.map { "\($0)" }.joined(separator: ",") }
}

/// Two summaries encoded side by side into one JSON object (an iterative
/// command's ``IterativeSummary`` beside its own keys).
struct Merged<First: Encodable, Second: Encodable>: Encodable {
    let first: First
    let second: Second

    init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    func encode(to encoder: any Encoder) throws {
        try first.encode(to: encoder)
        try second.encode(to: encoder)
    }
}

/// The keys every iterative command prints with the same names:
/// `iterations`, `stop_reason`, `residual_norm`.
struct IterativeSummary: Encodable {
    let iterations: Int
    let stopReason: String
    let residualNorm: Double

    init<Solution, Diagnostics>(_ result: IterativeResult<Solution, Diagnostics>) {
        iterations = result.iterations
        stopReason = "\(result.stopReason)"
        residualNorm = result.residualNorm
    }

    enum CodingKeys: String, CodingKey {
        case iterations, stopReason = "stop_reason", residualNorm = "residual_norm"
    }
}

/// One iteration flag for every command: `--max-iterations`, with the old
/// spellings `--iterations` and `--maxiter` kept as aliases.
let iterationFlagNames: NameSpecification = [.customLong("max-iterations"), .customLong("iterations"), .customLong("maxiter")]

/// Checks an iteration limit (named by the one flag).
func validateIterations(_ value: Int?) throws {
    if let value, value < 0 { throw ValidationError("--max-iterations must be ≥ 0, received \(value)") }
}

/// A command's progress callback: draws the bar on a terminal and asks
/// the work to stop once Ctrl-C was pressed. Safe to call from several
/// threads (the detector builders report from their workers).
final class CommandProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let bar: ProgressBar?

    /// A progress report labelled `label` (a bar only when standard error is a terminal).
    init(label: String) { bar = ProgressBar(label: label) }

    /// Draws `progress` and returns `.stop` once Ctrl-C was pressed.
    func report(_ progress: IterationProgress) -> ProgressAction {
        if let bar { lock.withLock { bar.draw(progress) } }
        return Interrupt.requested ? .stop : .continue
    }

    /// ``report(_:)`` as a callback.
    var handler: @Sendable (IterationProgress) -> ProgressAction { { [self] in report($0) } }

    /// Ends the bar's line.
    func finish() { bar?.finish() }
}
