import ArgumentParser
import Beamline
import Foundation

/// `beamline align phase-matching`: mumott's phase-matching alignment on a
/// mumott data file, on the absorbances (default) or, with
/// `--segment-mean`, on the segment means of the scattering data through a
/// tensor reconstruction (mumott's `use_absorbances=False`).
struct AlignPhaseMatchingCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "phase-matching",
        abstract: "Phase-matching alignment (mumott's run_phase_matching_alignment) of a mumott DataContainer HDF5 file.",
        discussion: """
            Reconstructs the absorbances (MITRA) from the offsets in the file, registers each sampled \
            projection of the reconstruction against the data, and updates the offsets; repeats. Writes \
            JSON with j_offsets and k_offsets in mumott's geometry convention (ready for \
            geometry.j_offsets / k_offsets), the history per iteration (offsets and largest shift), \
            and the stop reason.

            With --segment-mean (mumott's use_absorbances=False) the scattering data themselves are \
            aligned: each iteration reconstructs basis-set coefficients from the data (divided by the \
            diode unless --no-transmission-correction; weights from the file) with --pipeline (default \
            mitra), models the intensities, and registers the mean over the detector segments of the \
            model against the mean of the data. The basis options are those of tensor-reconstruct \
            (--basis sh|gk|nn|trivial, --ell-max, --grid-scale, --directions); the default is mumott's \
            for this mode, Gaussian kernels with grid scale segments/2 + 1. Example: \
            beamline align phase-matching data.h5 --segment-mean --basis gk --grid-scale 1 \
            --upsampling 4 --out offsets.json
            """
    )

    @Argument(help: "mumott DataContainer HDF5 file (diode for the absorbances, geometry and offsets).",
              completion: .file(extensions: ["h5", "hdf5"]))
    var data: String

    @Option(name: .customLong("max-iterations"), help: "Alignment iterations (mumott's maxiter).")
    var maxIterations = 20

    @Option(help: "Upsampling factor of the registration (1: masked cross-correlation).")
    var upsampling = 1

    @Option(name: .customLong("shift-tolerance"), help: "Stop when the largest shift is below this (pixels; default 1/upsampling).")
    var shiftTolerance: Double?

    @Option(name: .customLong("shift-cutoff"), help: "Longer shifts are rescaled to this (pixels; default 5/upsampling).")
    var shiftCutoff: Double?

    @Option(name: .customLong("relative-sample-size"), help: "Fraction of the projections registered per iteration, in (0, 1].")
    var relativeSampleSize = 1.0

    @Option(name: .customLong("relaxation-weight"), help: "Stochastic relaxation toward the mean offset.")
    var relaxationWeight = 0.0

    @Option(name: .customLong("center-of-mass-shift-weight"), help: "Pull toward the reconstruction's centre of mass.")
    var centerOfMassShiftWeight = 0.0

    @Option(name: .customLong("reconstruction-iterations"), help: "Reconstruction iterations per alignment iteration (MITRA, or --pipeline with --segment-mean).")
    var reconstructionIterations = 20

    @Option(help: "Seed of the sampling and relaxation.")
    var seed: UInt64 = 0

    @Option(name: .customLong("ignore"), help: "Projection indices whose offsets stay fixed, e.g. 0,5,9.")
    var ignore: NumberList<Int>?

    @Flag(name: .customLong("no-align-j"), help: "Do not align along j.")
    var noAlignJ = false

    @Flag(name: .customLong("no-align-k"), help: "Do not align along k.")
    var noAlignK = false

    @Flag(name: .customLong("segment-mean"),
          help: "Align the segment means of the scattering data through a tensor reconstruction (mumott's use_absorbances=False) instead of the absorbances.")
    var segmentMean = false

    /// `--basis`, `--directions`, `--grid-scale`, `--ell-max` (as in
    /// tensor-reconstruct; with --segment-mean only).
    @OptionGroup var basisOptions: TensorBasisOptions

    @Option(help: "With --segment-mean: the tensor reconstruction run each iteration (default mitra, mumott's).")
    var pipeline: TensorPipeline?

    @Flag(help: "With --segment-mean: do not divide the data by the diode.")
    var noTransmissionCorrection = false

    @Option(help: "Output JSON file with j_offsets, k_offsets and the history.")
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try basisOptions.validate()
        guard !segmentMean else { return }
        var misplaced = basisOptions.givenFlags
        if pipeline != nil { misplaced.append("--pipeline") }
        if noTransmissionCorrection { misplaced.append("--no-transmission-correction") }
        if let first = misplaced.first {
            throw ValidationError("\(first) is for --segment-mean only (the absorbance mode reconstructs the absorbances with MITRA, no basis); add --segment-mean or drop \(misplaced.joined(separator: ", "))")
        }
    }

    struct Report: Encodable {
        let data: String
        let out: String
        let iterations: Int
        let stopReason: String
        let maximumShiftHistory: [Double]
        /// `absorbances` or `segment_mean`.
        let mode: String
        /// The basis of the segment-mean mode (absent in the absorbance mode).
        let basis: String?
        enum CodingKeys: String, CodingKey {
            case data, out, iterations, mode, basis
            case stopReason = "stop_reason", maximumShiftHistory = "max_shift_history"
        }
    }

    struct OffsetsFile: Encodable {
        let jOffsets: [Double]
        let kOffsets: [Double]
        let jOffsetHistory: [[Double]]
        let kOffsetHistory: [[Double]]
        let maximumShiftHistory: [Double]
        let stopReason: String
        enum CodingKeys: String, CodingKey {
            case jOffsets = "j_offsets", kOffsets = "k_offsets", jOffsetHistory = "j_offsets_history"
            case kOffsetHistory = "k_offsets_history", maximumShiftHistory = "max_shift_history", stopReason = "stop_reason"
        }
    }

    func execute() throws -> Report {
        _ = try OutputCheck(inputs: [("DATA", data)], output: ("--out", out), outputIsArray: false)
        let container: TensorTomographyData
        do {
            container = try TensorTomographyData(contentsOf: URL(fileURLWithPath: data))
        } catch {
            throw CommandError(argument: "DATA", value: data, error)
        }
        var reconstruction = Reconstruction.Options.mitra
        reconstruction.iterations = reconstructionIterations
        let options = PhaseMatchingAlignment.Options(
            ignoredSubset: Set(ignore?.values ?? []), reconstruction: reconstruction, maximumIterations: maxIterations,
            upsampling: upsampling, shiftTolerance: shiftTolerance, shiftCutoff: shiftCutoff,
            relativeSampleSize: relativeSampleSize, relaxationWeight: relaxationWeight,
            centerOfMassShiftWeight: centerOfMassShiftWeight, alignJ: !noAlignJ, alignK: !noAlignK, seed: seed)
        let progress = CommandProgress(label: "phase-matching")
        let result: PhaseMatchingAlignment.Result<Double>
        var basisName: String?
        if segmentMean {
            let segments = container.geometry.segmentCount
            // mumott's default for use_absorbances=False: GaussianKernels(grid_scale=segments // 2 + 1).
            let basisSet = try basisOptions.makeBasis(defaultBasis: "gk", defaultGridScale: segments / 2 + 1,
                                                      segments: segments)
            basisName = basisOptions.basis ?? "gk"
            let values: Tensor<Double>
            do {
                values = noTransmissionCorrection || container.diode == nil
                    ? container.data : try container.correctedForTransmission()
            } catch {
                throw CommandError(argument: "DATA", value: data, error)
            }
            var tensorOptions = TensorReconstructionOptions()
            tensorOptions.iterations = reconstructionIterations
            do {
                defer { progress.finish() }
                result = try PhaseMatchingAlignment.align(segmentData: values, weights: container.weights,
                                                          basisSet: basisSet, geometry: container.geometry,
                                                          options: options, pipeline: pipeline ?? .mitra,
                                                          reconstruction: tensorOptions, progress: progress.handler)
            } catch {
                throw CommandError(argument: "DATA", value: data, error)
            }
        } else {
            let absorbances: Tensor<Double>
            do { absorbances = try container.absorbances() } catch { throw CommandError(argument: "DATA", value: data, error) }
            // mumott masks the rays whose weights are zero in every segment.
            let (n, nj, nk) = (container.geometry.count, container.geometry.projectionShape[0],
                               container.geometry.projectionShape[1])
            let segments = container.weights.count / max(1, n * nj * nk)
            let w = container.weights.elements
            let mask = (0..<(n * nj * nk)).map { ray in (0..<segments).allSatisfy { w[ray * segments + $0] > 0 } ? 1.0 : 0.0 }
            do {
                defer { progress.finish() }
                result = try PhaseMatchingAlignment.align(absorbances: absorbances.reshaped([n, nj, nk]),
                                                          weights: Tensor(shape: [n, nj, nk], elements: mask),
                                                          geometry: container.geometry, options: options,
                                                          progress: progress.handler)
            } catch {
                throw CommandError(argument: "DATA", value: data, error)
            }
        }
        if result.stopReason == .cancelled { throw Interrupted() }
        try Interrupt.check()
        let file = OffsetsFile(jOffsets: result.geometry.jOffsets, kOffsets: result.geometry.kOffsets,
                               jOffsetHistory: result.jOffsetHistory, kOffsetHistory: result.kOffsetHistory,
                               maximumShiftHistory: result.maximumShiftHistory, stopReason: result.stopReason.description)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(file)
        let written: Result<Void, AtomicFile.Failure> = bytes.withUnsafeBytes { raw in
            Result { () throws(AtomicFile.Failure) in try AtomicFile.write(raw, to: out) }
        }
        if case .failure(let failure) = written { throw CommandError("--out \(out): \(failure)") }
        return Report(data: data, out: out, iterations: result.iterations, stopReason: result.stopReason.description,
                      maximumShiftHistory: result.maximumShiftHistory, mode: segmentMean ? "segment_mean" : "absorbances",
                      basis: basisName)
    }
}
