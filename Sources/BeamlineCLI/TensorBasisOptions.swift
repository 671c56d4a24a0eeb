import ArgumentParser
import Beamline
import Foundation

/// The basis-set options of the tensor-tomography commands
/// (`tensor-reconstruct` and `align phase-matching --segment-mean`): one
/// parser and one validation, so the two commands name and check the basis
/// the same way. The defaults differ by command (sh with ℓmax 8 for
/// `tensor-reconstruct`; mumott's Gaussian kernels with grid scale
/// `segments / 2 + 1` for phase matching), so every option is optional
/// here and each command resolves its own default.
struct TensorBasisOptions: ParsableArguments {
    @Option(help: "Basis set: sh (real spherical harmonics), gk (mumott's Gaussian kernels), nn (mumott's nearest neighbour, needs --directions) or trivial (one channel per segment). Default: sh for tensor-reconstruct; gk for align phase-matching --segment-mean (mumott's default).")
    var basis: String?

    @Option(help: "Sensitivity directions of the nn basis: an (N, 3) array (FILE.npy, FILE.npz:name or FILE.h5:/path).",
            completion: .file(extensions: arrayExtensions))
    var directions: String?

    @Option(help: "Grid scale of the Gaussian kernels (2(g+1)² kernels). Default: 4 for tensor-reconstruct; segments/2 + 1 for align phase-matching (mumott's).")
    var gridScale: Int?

    @Option(help: "Band limit ℓmax of the spherical harmonics (even; default 8).")
    var ellMax: Int?

    /// The basis names accepted by `--basis`.
    static let names = ["sh", "gk", "nn", "trivial"]

    /// True when any basis option was given on the command line.
    var anyGiven: Bool { basis != nil || directions != nil || gridScale != nil || ellMax != nil }

    /// The options that were given, spelled as flags (for messages).
    var givenFlags: [String] {
        [("--basis", basis != nil), ("--directions", directions != nil), ("--grid-scale", gridScale != nil),
         ("--ell-max", ellMax != nil)].filter(\.1).map(\.0)
    }

    func validate() throws {
        if let basis, !Self.names.contains(basis) {
            throw ValidationError("--basis must be sh, gk, nn or trivial, received \(basis)")
        }
        if basis == "nn" && directions == nil { throw ValidationError("--basis nn needs --directions FILE (an (N, 3) array)") }
        if basis != "nn" && directions != nil {
            throw ValidationError("--directions is for --basis nn only, received --basis \(basis ?? "(default)")")
        }
        if let gridScale, gridScale < 0 { throw ValidationError("--grid-scale must be ≥ 0, received \(gridScale)") }
        if let ellMax, !(ellMax >= 0 && ellMax % 2 == 0) {
            throw ValidationError("--ell-max must be even and ≥ 0, received \(ellMax)")
        }
    }

    /// The nearest-neighbour basis on the (N, 3) directions at `text`.
    static func nearestNeighbor(_ text: String) throws -> NearestNeighbor {
        let d = try ArrayFiles.loadDoubles(text, option: "--directions")
        guard d.shape.count == 2, d.shape[1] == 3, d.shape[0] >= 1 else {
            throw CommandError("--directions \(text): expected an (N, 3) array of directions, received shape \(d.shape)")
        }
        let e = d.elements
        do {
            return try NearestNeighbor(directions: (0..<d.shape[0]).map { SIMD3(e[3 * $0], e[3 * $0 + 1], e[3 * $0 + 2]) })
        } catch {
            throw CommandError(argument: "--directions", value: text, error)
        }
    }

    /// The basis set these options describe, with `defaultBasis` and
    /// `defaultGridScale` standing in for options not given, for data with
    /// `segments` detector segments (the trivial basis has one channel per
    /// segment).
    func makeBasis(defaultBasis: String, defaultGridScale: Int, segments: Int) throws -> any TensorBasisSet {
        do {
            switch basis ?? defaultBasis {
            case "sh": return try SphericalHarmonics(ellMax: ellMax ?? 8)
            case "gk": return try GaussianKernels(gridScale: gridScale ?? defaultGridScale)
            case "nn": return try Self.nearestNeighbor(directions ?? "")
            default: return try TrivialBasis(channels: segments)
            }
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("\(givenFlags.first ?? "--basis"): \(error)")
        }
    }
}
