import ArgumentParser
import Beamline
import Foundation

extension FBPWindow: ExpressibleByArgument {}

/// `beamline tensor-fbp`: mumott's `run_fbp`, a one-step absorptivity
/// reconstruction from the diode of a mumott DataContainer HDF5 file.
struct TensorFBPCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor-fbp",
        abstract: "Filtered back-projection of the absorbances of a mumott DataContainer HDF5 file (mumott's run_fbp).",
        discussion: """
            Uses the untilted projections (one per angle modulo π), filters the absorbances along the detector axis \
            perpendicular to the rotation axis and back-projects them; writes the (X, Y, Z) volume to --out \
            (FILE.npy, FILE.npz:name or FILE.h5:/path) and prints a JSON summary.
            """
    )

    @Argument(help: "mumott DataContainer HDF5 file with a diode.", completion: .file(extensions: ["h5", "hdf5"]))
    var data: String

    @Option(help: "The tomographic axis: inner (mumott's default, (0, 0, -1)) or outer ((1, 0, 0)).")
    var axis = "inner"

    @Option(help: "Window of the ramp filter: \(FBPWindow.allCases.map(\.rawValue).joined(separator: ", ")).")
    var filter: FBPWindow = .ramLak

    @Option(help: "Percentile of each projection's diode taken as full transmission.")
    var normalizationPercentile = 99.9

    @Option(help: "Output array: FILE.npy, FILE.npz:name or FILE.h5:/path.", completion: .file(extensions: arrayExtensions))
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard ["inner", "outer"].contains(axis) else { throw ValidationError("--axis must be inner or outer, received \(axis)") }
        guard normalizationPercentile > 0 && normalizationPercentile <= 100 else {
            throw ValidationError("--normalization-percentile must be in (0, 100], received \(normalizationPercentile)")
        }
    }

    struct Report: Encodable {
        let data, out, axis, filter: String
        let projectionsUsed: [Int]
        let volumeShape: [Int]
        enum CodingKeys: String, CodingKey {
            case data, out, axis, filter
            case projectionsUsed = "projections_used", volumeShape = "volume_shape"
        }
    }

    func execute() throws -> Report {
        _ = try OutputCheck(inputs: [("DATA", data)], output: ("--out", out))
        let set: TensorTomographyData
        let result: TensorFBPResult
        do {
            set = try TensorTomographyData(contentsOf: URL(fileURLWithPath: data))
            result = try TensorReconstruction.filteredBackProjection(
                set, rotationAxis: axis == "inner" ? SIMD3(0, 0, -1) : SIMD3(1, 0, 0), window: filter,
                normalizationPercentile: normalizationPercentile)
        } catch {
            throw CommandError(argument: "DATA", value: data, error)
        }
        let volume = result.volume.reshaped(Array(result.volume.shape.prefix(3)))
        try ArrayFiles.write(volume, to: out)
        return Report(data: data, out: out, axis: axis, filter: filter.rawValue,
                      projectionsUsed: result.projectionIndices, volumeShape: volume.shape)
    }
}
