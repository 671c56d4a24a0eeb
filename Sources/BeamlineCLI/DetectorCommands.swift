import ArgumentParser
import Beamline
import Foundation

/// `beamline raytrace`: the thick-sensor point-spread matrix of a detector,
/// written as a SciPy `.npz` CSR file.
struct RaytraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raytrace",
        abstract: "Build the thick-sensor point-spread matrix (rows = entry pixels, columns = absorbing pixels).",
        discussion: """
            Raytraces --sample × --sample rays per pixel (default 8), or with --exact integrates the closed form \
            (one direction per pixel, or per sub-face with --subpixels). Geometry in pyFAI's convention (metres, \
            radians). Writes a scipy.sparse.save_npz file (atomically; never onto an input) and prints a JSON summary.
            """
    )

    @Option(help: "Catalogue detector (Pilatus100k/300k/1M/2M/6M, Eiger1M/4M/9M/16M, Eiger2_1M/4M/9M/16M).")
    var detector: String?

    @Option(help: "Detector shape ROWS,COLUMNS (instead of --detector).")
    var shape: String?

    @Option(help: "Pixel size in metres, SIZE or SIZE1,SIZE2 (with --shape).")
    var pixel: String?

    @Option(help: "Photon energy in keV (needed with --material).")
    var energy: Double?

    @Option(help: "Sensor thickness in metres.")
    var thickness: Double

    @Option(help: "Sensor material for the NIST tables: Si, Ge, GaAs, CdTe.")
    var material: String?

    @Option(help: "Linear attenuation coefficient μ in 1/m (instead of --material).")
    var mu: Double?

    @Option(help: "Coefficient taken from the tables: energy-absorption (μ_en, default) or attenuation (μ).")
    var coefficient: String = "energy-absorption"

    @Option(help: "Sample–PONI distance in metres.")
    var distance: Double

    @Option(help: "PONI along the slow axis (m).")
    var poni1: Double

    @Option(help: "PONI along the fast axis (m).")
    var poni2: Double

    @Option(help: "Rotation 1 (rad).") var rot1 = 0.0
    @Option(help: "Rotation 2 (rad).") var rot2 = 0.0
    @Option(help: "Rotation 3 (rad).") var rot3 = 0.0

    @Option(help: "Mask (.npy, nonzero = masked as in pyFAI), combined with the catalogue's gaps.")
    var mask: String?

    @Option(help: "Rays per pixel side for raytracing.")
    var sample: Int?

    @Flag(help: "Closed-form matrix instead of raytracing.")
    var exact = false

    @Option(help: "Sub-faces per pixel side, each with its own direction (with --exact).")
    var subpixels = 1

    @Option(help: "Also write the transmitted fraction per pixel (.npy).")
    var transmission: String?

    @Option(help: "Output matrix (.npz).")
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (detector == nil) != (shape == nil) else {
            throw ValidationError("give exactly one of --detector NAME or --shape ROWS,COLUMNS --pixel SIZE")
        }
        if shape != nil && pixel == nil { throw ValidationError("--shape needs --pixel SIZE") }
        guard (material == nil) != (mu == nil) else { throw ValidationError("give exactly one of --material or --mu") }
        if material != nil && energy == nil { throw ValidationError("--material needs --energy (keV)") }
        if exact && sample != nil { throw ValidationError("--sample and --exact exclude each other") }
        if !exact && subpixels != 1 { throw ValidationError("--subpixels needs --exact") }
    }

    static func parseList(_ text: String, option: String, count: ClosedRange<Int>) throws -> [Substring] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces)[...] }
        guard count.contains(parts.count) else {
            throw CommandError("\(option): expected \(count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound) or \(count.upperBound)") comma-separated values, received \"\(text)\"")
        }
        return parts
    }

    /// The model described by the options (errors name the option).
    func makeModel() throws -> ThickSensorModel {
        var det: Detector
        do {
            if let detector {
                det = try Detector.named(detector)
            } else {
                let dims = try Self.parseList(shape!, option: "--shape", count: 2...2).map { Int($0) }
                guard let rows = dims[0], let columns = dims[1] else { throw CommandError("--shape: expected two integers, received \"\(shape!)\"") }
                let sizes = try Self.parseList(pixel!, option: "--pixel", count: 1...2).map { Double($0) }
                guard let s1 = sizes[0], let s2 = sizes.count == 2 ? sizes[1] : sizes[0] else {
                    throw CommandError("--pixel: expected one or two numbers in metres, received \"\(pixel!)\"")
                }
                det = try Detector(rows: rows, columns: columns, pixelSize1: s1, pixelSize2: s2)
            }
        } catch let error as DetectorError {
            throw CommandError("\(detector != nil ? "--detector" : "--shape/--pixel"): \(error)")
        }
        if let mask {
            let any: AnyTensor
            do { any = try NumpyFile.read(from: URL(fileURLWithPath: mask)) } catch { throw CommandError("--mask: \(error)") }
            let values = any.cast(to: Double.self)
            let flags = Tensor(shape: values.shape, elements: values.elements.map { $0 != 0 })
            do { try det.addMask(flags) } catch { throw CommandError("--mask \(mask): \(error)") }
        }
        let geometry: PONIGeometry
        do {
            geometry = try PONIGeometry(distance: distance, poni1: poni1, poni2: poni2, rot1: rot1, rot2: rot2, rot3: rot3)
        } catch { throw CommandError("--\(error.description)") }
        let sensor: Sensor
        do {
            if let mu {
                sensor = try Sensor(thickness: thickness, mu: mu)
            } else {
                guard let kind = ["energy-absorption": AttenuationKind.energyAbsorption, "attenuation": .attenuation][coefficient] else {
                    throw CommandError("--coefficient: expected energy-absorption or attenuation, received \"\(coefficient)\"")
                }
                let m = try SensorMaterial.named(material!)
                sensor = try Sensor(material: m, energy: energy!, thickness: thickness, kind: kind)
            }
        } catch let error as DetectorError {
            throw CommandError("--\(error.description)")
        }
        return ThickSensorModel(detector: det, geometry: geometry, sensor: sensor)
    }

    func run() throws {
        threads.apply()
        _ = try SolverFiles(inputs: mask.map { [("--mask", $0)] } ?? [], output: ("--out", out))
        let start = ContinuousClock.now
        let model = try makeModel()
        let bar = ProgressBar(label: exact ? "exact" : "raytrace").map { LockedProgressBar($0) }
        var report: (@Sendable (IterationProgress) -> ProgressAction)?
        if let bar { report = { bar.update($0) } }
        let psf: PointSpreadMatrix<Double>
        do {
            psf = exact ? try model.exact(subpixels: subpixels, progress: report)
                        : try model.raytrace(sample: sample ?? 8, progress: report)
        } catch {
            bar?.finish()
            throw CommandError(exact ? "--subpixels: \(error)" : "--sample: \(error)")
        }
        bar?.finish()
        do { try psf.matrix.save(to: URL(fileURLWithPath: out)) } catch { throw CommandError("--out: \(error)") }
        if let transmission {
            do { try NumpyFile.write(psf.transmitted, to: URL(fileURLWithPath: transmission)) } catch {
                throw CommandError("--transmission: \(error)")
            }
        }
        try printJSON([
            "command": "raytrace", "detector": model.detector.name, "shape": model.detector.shape,
            "method": exact ? "exact" : "raytrace", "sample": exact ? 0 : (sample ?? 8), "subpixels": exact ? subpixels : 0,
            "mu": model.sensor.mu, "thickness": model.sensor.thickness, "nonzeros": psf.matrix.nonzeroCount,
            "out": out, "threads": Parallel.threadCount, "seconds": seconds(since: start),
        ])
    }
}

/// `beamline deconvolve`: removes the sensor blur from an image.
struct DeconvolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deconvolve",
        abstract: "Remove the thick-sensor blur from an image with LSMR or MLEM.",
        discussion: """
            Reads the point-spread matrix written by `beamline raytrace` (or scipy.sparse.save_npz) and the image \
            (.npy); the blur is the matrix's transpose. Pixels masked in --mask (nonzero = masked) and pixels no \
            entry pixel reaches (gaps) are excluded. Writes the corrected image (.npy, float64, atomically; never \
            onto an input) and prints a JSON summary.
            """
    )

    @Option(help: "Point-spread matrix (.npz).") var matrix: String
    @Option(help: "Measured image (.npy).") var image: String
    @Option(help: "Solver: lsmr or mlem.") var method: String = "lsmr"
    @Option(help: "Mask (.npy, nonzero = masked).") var mask: String?
    @Option(help: "Iteration limit (default: LSMR min(rows, columns) with atol = btol = 1e-6; MLEM 50).")
    var iterations: Int?
    @Option(help: "Output corrected image (.npy).") var out: String
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard Deconvolution.Method(rawValue: method) != nil else {
            throw ValidationError("--method must be lsmr or mlem, received \(method)")
        }
        if let iterations, iterations < 0 { throw ValidationError("--iterations must be ≥ 0, received \(iterations)") }
    }

    func run() throws {
        threads.apply()
        var inputs = [("--matrix", matrix), ("--image", image)]
        if let mask { inputs.append(("--mask", mask)) }
        let files = try SolverFiles(inputs: inputs, output: ("--out", out))
        let start = ContinuousClock.now
        let a = try files.loadMatrix(matrix)
        let any: AnyTensor
        do { any = try NumpyFile.read(from: URL(fileURLWithPath: image)) } catch { throw CommandError("--image: \(error)") }
        if case .complex64 = any { throw CommandError("--image \(image): expected real numbers") }
        if case .complex128 = any { throw CommandError("--image \(image): expected real numbers") }
        let img = any.cast(to: Double.self)
        var flags: Tensor<Bool>?
        if let mask {
            let m: AnyTensor
            do { m = try NumpyFile.read(from: URL(fileURLWithPath: mask)) } catch { throw CommandError("--mask: \(error)") }
            let values = m.cast(to: Double.self)
            flags = Tensor(shape: values.shape, elements: values.elements.map { $0 != 0 })
        }
        let chosen = Deconvolution.Method(rawValue: method)!
        let bar = ProgressBar(label: method)
        let result: DeconvolutionResult
        do {
            result = try Deconvolution.deconvolve(
                matrix: a, image: img, method: chosen, mask: flags,
                lsmr: LSMR.Configuration(maximumIterations: iterations),
                mlem: MLEM.Configuration(maximumIterations: iterations ?? 50), progress: bar?.update)
        } catch {
            bar?.finish()
            throw CommandError("--image/--mask: \(error)")
        }
        bar?.finish()
        try files.write(result.corrected, to: out)
        try printJSON([
            "command": "deconvolve", "matrix": matrix, "image": image, "method": method, "out": out,
            "iterations": result.iterations, "stop_reason": "\(result.stopReason)", "residual_norm": result.residualNorm,
            "excluded_pixels": result.excluded.elements.filter { $0 }.count,
            "threads": Parallel.threadCount, "seconds": seconds(since: start),
        ])
    }
}

/// A ``ProgressBar`` that several threads may update (rows done of a matrix).
final class LockedProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let bar: ProgressBar
    init(_ bar: ProgressBar) { self.bar = bar }
    func update(_ progress: IterationProgress) -> ProgressAction {
        lock.lock()
        defer { lock.unlock() }
        return bar.update(progress)
    }
    func finish() { bar.finish() }
}
