import ArgumentParser
import Beamline
import Foundation

extension Deconvolution.Method: ExpressibleByArgument {}

extension AttenuationKind: ExpressibleByArgument {
    /// `energy-absorption` or `attenuation`.
    public init?(argument: String) {
        switch argument {
        case "energy-absorption": self = .energyAbsorption
        case "attenuation": self = .attenuation
        default: return nil
        }
    }

    /// The spellings the command line accepts.
    public static var allValueStrings: [String] { ["energy-absorption", "attenuation"] }

    /// The spelling shown as a default in help.
    public var defaultValueDescription: String { self == .energyAbsorption ? "energy-absorption" : "attenuation" }
}

/// `beamline raytrace`: the thick-sensor point-spread matrix of a detector,
/// written as a SciPy `.npz` CSR file.
struct RaytraceCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "raytrace",
        abstract: "Build the thick-sensor point-spread matrix (rows = entry pixels, columns = absorbing pixels).",
        discussion: """
            Raytraces --sample × --sample rays per pixel (default 8), or with --exact integrates the closed form \
            (one direction per pixel, or per sub-face with --subpixels). Geometry in pyFAI's convention (metres, \
            radians), from the flags or from a pyFAI calibration (--poni: a .poni file or pyFAI's calibration JSON, \
            which also gives the detector and, for --material, the energy); flags given with --poni override its \
            values. Writes a scipy.sparse.save_npz file (atomically; never onto an input) and prints a JSON summary.
            """
    )

    @Option(help: "pyFAI calibration (.poni, or pyFAI's calibration JSON): geometry, detector and wavelength.",
            completion: .file(extensions: ["poni", "json"]))
    var poni: String?

    @Option(help: "Catalogue detector (Pilatus100k/300k/1M/2M/6M, Eiger1M/4M/9M/16M, Eiger2_1M/4M/9M/16M).")
    var detector: String?

    @Option(help: "Detector shape ROWS,COLUMNS (instead of --detector).")
    var shape: NumberList<Int>?

    @Option(help: "Pixel size in metres, SIZE or SIZE1,SIZE2 (with --shape).")
    var pixel: NumberList<Double>?

    @Option(help: "Photon energy in keV (needed with --material unless --poni gives a wavelength).")
    var energy: Double?

    @Option(help: "Sensor thickness in metres.")
    var thickness: Double

    @Option(help: "Sensor material for the NIST tables: Si, Ge, GaAs, CdTe.")
    var material: String?

    @Option(help: "Linear attenuation coefficient μ in 1/m (instead of --material).")
    var mu: Double?

    @Option(help: "Coefficient taken from the tables: energy-absorption (μ_en) or attenuation (μ).")
    var coefficient: AttenuationKind = .energyAbsorption

    @Option(help: "Sample–PONI distance in metres (or from --poni).")
    var distance: Double?

    @Option(help: "PONI along the slow axis (m; or from --poni).")
    var poni1: Double?

    @Option(help: "PONI along the fast axis (m; or from --poni).")
    var poni2: Double?

    @Option(help: "Rotation 1 (rad; default 0 or from --poni).") var rot1: Double?
    @Option(help: "Rotation 2 (rad; default 0 or from --poni).") var rot2: Double?
    @Option(help: "Rotation 3 (rad; default 0 or from --poni).") var rot3: Double?

    @Option(help: "Mask (file.npy, .npz:member or .h5:/dataset, of any integer or bool dtype, e.g. pyFAI's int8; nonzero = masked as in pyFAI), combined with the catalogue's gaps.",
            completion: .file(extensions: arrayExtensions))
    var mask: String?

    @Option(help: "Rays per pixel side for raytracing.")
    var sample: Int?

    @Flag(help: "Closed-form matrix instead of raytracing.")
    var exact = false

    @Option(help: "Sub-faces per pixel side, each with its own direction (with --exact).")
    var subpixels = 1

    @Option(help: "Also write the transmitted fraction per pixel (file.npy, .npz:member or .h5:/dataset).", completion: .file(extensions: arrayExtensions))
    var transmission: String?

    @Option(help: "Output matrix (.npz).", completion: .file(extensions: ["npz"]))
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if detector != nil && shape != nil {
            throw ValidationError("give only one of --detector NAME or --shape ROWS,COLUMNS --pixel SIZE")
        }
        guard poni != nil || detector != nil || shape != nil else {
            throw ValidationError("give one of --detector NAME, --shape ROWS,COLUMNS --pixel SIZE or --poni FILE")
        }
        if poni == nil {
            for (flag, value) in [("--distance", distance), ("--poni1", poni1), ("--poni2", poni2)] where value == nil {
                throw ValidationError("missing \(flag) (or give --poni FILE)")
            }
        }
        if shape != nil && pixel == nil { throw ValidationError("--shape needs --pixel SIZE") }
        guard (material == nil) != (mu == nil) else { throw ValidationError("give exactly one of --material or --mu") }
        if material != nil && energy == nil && poni == nil {
            throw ValidationError("--material needs --energy (keV) or a --poni file with a wavelength")
        }
        if exact && sample != nil { throw ValidationError("--sample and --exact exclude each other") }
        if !exact && subpixels != 1 { throw ValidationError("--subpixels needs --exact") }
        if let shape, shape.values.count != 2 {
            throw ValidationError("--shape: expected ROWS,COLUMNS (two integers), received \(shape.values.count) values")
        }
        if let pixel, !(1...2).contains(pixel.values.count) {
            throw ValidationError("--pixel: expected SIZE or SIZE1,SIZE2 in metres, received \(pixel.values.count) values")
        }
    }

    /// The calibration read from `--poni` (nil without it).
    func readCalibration() throws -> PONICalibration? {
        guard let poni else { return nil }
        do { return try PONIFile.read(from: URL(fileURLWithPath: poni)) } catch { throw CommandError("--poni: \(error)") }
    }

    /// The model described by the options (errors name the option); the
    /// flags override the values of `--poni`.
    func makeModel() throws -> ThickSensorModel {
        let calibration = try readCalibration()
        var det: Detector
        do {
            if let detector {
                det = try Detector.named(detector)
            } else if let shape {
                let dims = shape.values, sizes = pixel?.values ?? []
                det = try Detector(rows: dims[0], columns: dims[1], pixelSize1: sizes[0], pixelSize2: sizes.last!)
            } else {
                var fromFile = calibration!
                if let sizes = pixel?.values {
                    fromFile.pixelSize1 = sizes[0]
                    fromFile.pixelSize2 = sizes.last!
                }
                det = try Detector(calibration: fromFile)
            }
        } catch {
            let flag = detector != nil ? "--detector" : shape != nil ? "--shape/--pixel" : "--poni \(poni ?? "")"
            throw CommandError("\(flag): \(error)")
        }
        if let mask {
            let flags = try ArrayFiles.loadMask(mask, option: "--mask")
            do { try det.addMask(flags) } catch { throw CommandError(argument: "--mask", value: mask, error) }
        }
        let geometry: PONIGeometry
        do {
            if var merged = calibration {
                merged.distance = distance ?? merged.distance
                merged.poni1 = poni1 ?? merged.poni1
                merged.poni2 = poni2 ?? merged.poni2
                merged.rot1 = rot1 ?? merged.rot1
                merged.rot2 = rot2 ?? merged.rot2
                merged.rot3 = rot3 ?? merged.rot3
                geometry = try PONIGeometry(merged)
            } else {
                geometry = try PONIGeometry(distance: distance!, poni1: poni1!, poni2: poni2!, rot1: rot1 ?? 0,
                                            rot2: rot2 ?? 0, rot3: rot3 ?? 0)
            }
        } catch {
            // A bad value from the file names the file; one from a flag names the flag.
            let flags: [String: Double?] = ["distance": distance, "poni1": poni1, "poni2": poni2, "rot1": rot1,
                                            "rot2": rot2, "rot3": rot3]
            let name: String
            switch error {
            case let .argument(argument): name = argument.argument
            case let .raysParallelToSensor(argument, _): name = argument
            default: name = ""
            }
            if let poni, flags[name].map({ $0 == nil }) ?? true {
                throw CommandError(argument: "--poni", value: poni, error)
            }
            throw CommandError("--\(error.description)")
        }
        let keV = energy ?? calibration?.energy
        if material != nil && keV == nil {
            throw CommandError("--material needs --energy (keV); --poni \(poni ?? "") states no wavelength")
        }
        let sensor: Sensor
        do {
            if let mu {
                sensor = try Sensor(thickness: thickness, mu: mu)
            } else {
                let m = try SensorMaterial.named(material!)
                sensor = try Sensor(material: m, energy: keV!, thickness: thickness, kind: coefficient)
            }
        } catch {
            throw CommandError("--\(error.description)")
        }
        return ThickSensorModel(detector: det, geometry: geometry, sensor: sensor)
    }

    struct Report: Encodable {
        let detector: String
        let shape: [Int]
        let method: String
        let sample, subpixels: Int
        let mu, thickness: Double
        let nonzeros: Int
        let out: String
    }

    func execute() throws -> Report {
        _ = try OutputCheck(inputs: (mask.map { [("--mask", $0)] } ?? []) + (poni.map { [("--poni", $0)] } ?? []),
                            output: ("--out", out), outputIsArray: false)
        if let transmission {
            _ = try OutputCheck(inputs: (mask.map { [("--mask", $0)] } ?? []) + [("--out", out)],
                                output: ("--transmission", transmission))
        }
        let model = try makeModel()
        let progress = CommandProgress(label: exact ? "exact" : "raytrace")
        defer { progress.finish() }
        let psf: PointSpreadMatrix<Double>
        do {
            psf = exact ? try model.exact(subpixels: subpixels, progress: progress.handler)
                        : try model.raytrace(sample: sample ?? 8, progress: progress.handler)
        } catch .cancelled {
            throw Interrupted()
        } catch {
            throw CommandError(exact ? "--subpixels: \(error)" : "--sample: \(error)")
        }
        try Interrupt.check()
        do { try psf.matrix.save(to: URL(fileURLWithPath: out)) } catch { throw CommandError("--out: \(error)") }
        if let transmission {
            try ArrayFiles.write(psf.transmitted, to: transmission, option: "--transmission")
        }
        return Report(detector: model.detector.name, shape: model.detector.shape, method: exact ? "exact" : "raytrace",
                      sample: exact ? 0 : (sample ?? 8), subpixels: exact ? subpixels : 0, mu: model.sensor.mu,
                      thickness: model.sensor.thickness, nonzeros: psf.matrix.nonzeroCount, out: out)
    }
}

/// `beamline deconvolve`: removes the sensor blur from an image.
struct DeconvolveCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "deconvolve",
        abstract: "Remove the thick-sensor blur from an image with LSMR or MLEM.",
        discussion: """
            Reads the point-spread matrix written by `beamline raytrace` (or scipy.sparse.save_npz) and the image \
            (.npy); the blur is the matrix's transpose. Pixels masked in --mask (nonzero = masked) and pixels no \
            entry pixel reaches (gaps) are excluded. Writes the corrected image (.npy, float64, atomically; never \
            onto an input) and prints a JSON summary. Ctrl-C stops the solve, writes nothing and exits with \
            status 130.
            """
    )

    @Option(help: "Point-spread matrix (.npz).", completion: .file(extensions: ["npz"])) var matrix: String
    @Option(help: "Measured image (file.npy, .npz:member or .h5:/dataset).", completion: .file(extensions: arrayExtensions)) var image: String
    @Option(help: "Solver.") var method: Deconvolution.Method = .lsmr
    @Option(help: "Mask (file.npy, .npz:member or .h5:/dataset[selection]; nonzero = masked).", completion: .file(extensions: arrayExtensions)) var mask: String?
    @Option(name: iterationFlagNames,
            help: "Iteration limit (default: LSMR min(rows, columns) with atol = btol = 1e-6; MLEM 50).")
    var maxIterations: Int?
    @Option(help: "Output corrected image (file.npy, .npz:member or .h5:/dataset).", completion: .file(extensions: arrayExtensions)) var out: String
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try validateIterations(maxIterations)
    }

    struct Report: Encodable {
        let matrix, image, method, out: String
        let excludedPixels: Int
        enum CodingKeys: String, CodingKey { case matrix, image, method, out, excludedPixels = "excluded_pixels" }
    }

    func execute() throws -> Merged<IterativeSummary, Report> {
        var inputs = [("--matrix", matrix), ("--image", image)]
        if let mask { inputs.append(("--mask", mask)) }
        _ = try OutputCheck(inputs: inputs, output: ("--out", out))
        let a = try loadSparseMatrix(matrix)
        let img = try ArrayFiles.loadDoubles(image, option: "--image")
        let flags = try mask.map { try ArrayFiles.loadMask($0, option: "--mask") }
        let progress = CommandProgress(label: method.rawValue)
        defer { progress.finish() }
        let result: DeconvolutionResult
        do {
            result = try Deconvolution.deconvolve(
                matrix: a, image: img, method: method, mask: flags,
                lsmr: LSMR.Configuration(maximumIterations: maxIterations),
                mlem: MLEM.Configuration(maximumIterations: maxIterations ?? 50), progress: progress.handler)
        } catch {
            throw CommandError("--image/--mask: \(error)")
        }
        try ArrayFiles.write(result.corrected, to: out, stopReason: result.stopReason)
        return Merged(IterativeSummary(result), Report(matrix: matrix, image: image, method: method.rawValue, out: out,
                                                       excludedPixels: result.excluded.elements.filter { $0 }.count))
    }
}
