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

    /// What `info` reports (the JSON keys in snake_case).
    struct Report: Encodable {
        let beamline: String
        let threads, processors: Int
        let openblas: String
        let openblasThreads: Int
        let openblasParallelism: String
        let lapack, fftw: String
        let fftwThreads: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case beamline, threads, processors, openblas, openblasThreads = "openblas_threads"
            case openblasParallelism = "openblas_parallelism", lapack, fftw, fftwThreads = "fftw_threads"
        }

        /// The values as text, in key order, for the plain output.
        var lines: [(String, String)] {
            let values: [CodingKeys: String] = [
                .beamline: beamline, .threads: "\(threads)", .processors: "\(processors)", .openblas: openblas,
                .openblasThreads: "\(openblasThreads)", .openblasParallelism: openblasParallelism, .lapack: lapack,
                .fftw: fftw, .fftwThreads: "\(fftwThreads)",
            ]
            return CodingKeys.allCases.map { ($0.rawValue, values[$0]!) }
        }
    }

    func run() throws {
        threads.apply()
        let report = Report(beamline: BeamlineVersion.string, threads: Parallel.threadCount, processors: Parallel.processorCount,
                            openblas: BackendInfo.openBLASConfiguration, openblasThreads: Int(BackendInfo.openBLASThreads),
                            openblasParallelism: "\(BackendInfo.openBLASParallelism)", lapack: BackendInfo.lapackVersion,
                            fftw: BackendInfo.fftwVersion, fftwThreads: Parallel.threadCount)
        if json {
            try printJSON(report)
        } else {
            for (key, value) in report.lines { print("\(key.padding(toLength: 22, withPad: " ", startingAt: 0)) \(value)") }
        }
    }
}
