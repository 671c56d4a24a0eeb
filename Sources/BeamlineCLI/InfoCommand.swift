import ArgumentParser
import Beamline
import Foundation

/// `beamline info`: the back ends found, their versions and thread counts.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the C back ends found, their versions and thread counts (JSON with --json)."
    )

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        let report: [(String, Any)] = [
            ("beamline", BeamlineVersion.string),
            ("threads", Parallel.threadCount),
            ("processors", Parallel.processorCount),
            ("openblas", BackendInfo.openBLASConfiguration),
            ("openblas_threads", BackendInfo.openBLASThreads),
            ("openblas_parallelism", BackendInfo.openBLASParallelism),
            ("lapack", BackendInfo.lapackVersion),
            ("fftw", BackendInfo.fftwVersion),
            ("fftw_threads", Parallel.threadCount),
        ]
        if json {
            try printJSON(Dictionary(uniqueKeysWithValues: report))
        } else {
            for (key, value) in report { print("\(key.padding(toLength: 22, withPad: " ", startingAt: 0)) \(value)") }
        }
    }
}
