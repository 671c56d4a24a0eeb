import ArgumentParser
import Beamline
import Foundation

extension CrossCorrelationNormalization: ExpressibleByArgument {}
extension RegistrationSpace: ExpressibleByArgument {}
extension SplineBoundaryMode: ExpressibleByArgument {}
extension FourierShiftPadding: ExpressibleByArgument {}

/// `beamline register`: phase cross-correlation of two `.npy` images,
/// printed as one JSON object.
struct RegisterCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register MOVING onto REFERENCE by phase cross-correlation (scikit-image conventions).",
        discussion: """
            Prints one JSON object: {"shift": [...], "error": x, "phasediff": y, "normalized_error": z} \
            beside the common keys command, seconds and threads. \
            "shift" registers MOVING onto REFERENCE (array axis order); "error" and "phasediff" are \
            scikit-image's; "normalized_error" is the RMS error normalised correctly whatever the \
            normalisation. With masks the masked normalised cross-correlation is used and the three \
            error values are null. A reference mask alone is used for both images (same shapes only); \
            a moving mask alone is an error.
            """
    )

    @Argument(help: "Reference image (file.npy, file.npz:member or file.h5:/dataset[selection]; real or complex; integers are read as float64).",
              completion: .file(extensions: arrayExtensions))
    var reference: String

    @Argument(help: "Image to register (file.npy, .npz:member or .h5:/dataset[selection]; same shape as REFERENCE unless masks are given).",
              completion: .file(extensions: arrayExtensions))
    var moving: String

    @Option(help: "Upsampling factor: precision 1/N pixel (≥ 1).")
    var upsample = 1

    @Option(help: "Cross-power normalisation: phase or none.")
    var normalization: CrossCorrelationNormalization = .phase

    @Option(help: "Whether the files hold images (real) or fftn spectra (fourier).")
    var space: RegistrationSpace = .real

    @Flag(help: "Resolve the periodic ambiguity by testing the 2^ndim wrap candidates.")
    var disambiguate = false

    @Option(name: .customLong("reference-mask"), help: "Valid pixels of REFERENCE (file.npy, .npz:member or .h5:/dataset[selection]; bool or integers ≠ 0).",
            completion: .file(extensions: arrayExtensions))
    var referenceMask: String?

    @Option(name: .customLong("moving-mask"), help: "Valid pixels of MOVING (file.npy, .npz:member or .h5:/dataset[selection]; bool or integers ≠ 0).",
            completion: .file(extensions: arrayExtensions))
    var movingMask: String?

    @Option(name: .customLong("overlap-ratio"), help: "Minimum mask overlap fraction for the masked path, in [0, 1].")
    var overlapRatio = 0.3

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard upsample >= 1 else { throw ValidationError("--upsample must be at least 1, received \(upsample)") }
        guard overlapRatio.isFinite && overlapRatio >= 0 && overlapRatio <= 1 else {
            throw ValidationError("--overlap-ratio must be in [0, 1], received \(overlapRatio)")
        }
        if movingMask != nil && referenceMask == nil {
            throw ValidationError("--moving-mask needs --reference-mask as well")
        }
    }

    /// What the command prints besides the common keys; the three error
    /// figures are null for the masked path (and whenever not finite).
    struct Report: Encodable {
        let shift: [Double]
        let error, phasediff, normalizedError: Double?
        enum CodingKeys: String, CodingKey { case shift, error, phasediff, normalizedError = "normalized_error" }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(shift, forKey: .shift)
            try c.encode(error, forKey: .error)            // encodes null when nil
            try c.encode(phasediff, forKey: .phasediff)
            try c.encode(normalizedError, forKey: .normalizedError)
        }
    }

    func execute() throws -> Report { try result() }

    /// The registration the command prints.
    func result() throws -> Report {
        let ref = try readImage(reference, "REFERENCE").image
        let mov = try readImage(moving, "MOVING").image
        let options = PhaseCorrelationOptions(upsampleFactor: upsample, normalization: normalization, space: space,
                                              disambiguate: disambiguate)
        let outcome: RegistrationResult
        do {
            if let referenceMask {
                let refMask = try readMask(referenceMask, "--reference-mask")
                let movMask = try movingMask.map { try readMask($0, "--moving-mask") }
                guard case .real(let r) = ref, case .real(let m) = mov else {
                    throw CommandError("masked registration needs real images (REFERENCE and MOVING)")
                }
                let shift = try Registration.maskedPhaseCrossCorrelation(r, m, referenceMask: refMask, movingMask: movMask,
                                                                         overlapRatio: overlapRatio)
                outcome = RegistrationResult(shift: shift, error: .nan, phaseDifference: .nan, normalizedError: .nan)
            } else {
                switch (ref, mov) {
                case let (.real(r), .real(m)):
                    outcome = try Registration.phaseCrossCorrelation(r, m, options: options)
                case let (.complex(r), .complex(m)):
                    outcome = try Registration.phaseCrossCorrelation(r, m, options: options)
                case let (.real(r), .complex(m)):
                    outcome = try Registration.phaseCrossCorrelation(r.map { Complex($0, 0) }, m, options: options)
                case let (.complex(r), .real(m)):
                    outcome = try Registration.phaseCrossCorrelation(r, m.map { Complex($0, 0) }, options: options)
                }
            }
        } catch let error as RegistrationError {
            throw CommandError(renameArguments(error.description))
        }
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        return Report(shift: outcome.shift, error: finite(outcome.error), phasediff: finite(outcome.phaseDifference),
                      normalizedError: finite(outcome.normalizedError))
    }

    private func renameArguments(_ message: String) -> String {
        message.replacingOccurrences(of: "referenceMask", with: "--reference-mask")
            .replacingOccurrences(of: "movingMask", with: "--moving-mask")
            .replacingOccurrences(of: "overlapRatio", with: "--overlap-ratio")
            .replacingOccurrences(of: "upsampleFactor", with: "--upsample")
            .replacingOccurrences(of: "reference", with: "REFERENCE (\(reference))")
            .replacingOccurrences(of: "moving", with: "MOVING (\(moving))")
    }
}

/// `beamline shift`: sub-pixel translation of a `.npy` image.
struct ShiftCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "shift",
        abstract: "Shift IMAGE by a sub-pixel amount (out(x) = in(x − shift)) and write OUT.npy atomically."
    )

    /// The interpolation methods.
    enum Method: String, ExpressibleByArgument, CaseIterable {
        case fourier, linear, spline
    }

    @Argument(help: "Image to shift (file.npy, file.npz:member or file.h5:/dataset[selection]; real or complex; integers are read as float64).",
              completion: .file(extensions: arrayExtensions))
    var image: String

    @Option(parsing: .unconditional, help: "Shift per axis, comma-separated (e.g. --by 1.5,-2.25).")
    var by: NumberList<Double>

    @Option(help: "fourier (band-limited), linear (bilinear, wrap-around) or spline (scipy.ndimage.shift).")
    var method: Method = .spline

    @Option(help: "Boundary mode of the spline method: constant, nearest, reflect, mirror, wrap, grid-wrap.")
    var mode: SplineBoundaryMode = .constant

    @Option(help: "Spline order (0–5) for the spline method.")
    var order = 3

    @Option(help: "Value outside the image for --mode constant.")
    var cval = 0.0

    @Option(help: "Fourier method boundary: wrap (periodic) or reflect (pad to a fast FFT size).")
    var padding: FourierShiftPadding = .wrap

    @Option(help: "Output file (file.npy, .npz:member or .h5:/dataset); must differ from IMAGE.", completion: .file(extensions: arrayExtensions))
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard by.values.allSatisfy(\.isFinite) else {
            throw ValidationError("--by must be finite numbers (one per axis), received \(by.values)")
        }
        guard (0...5).contains(order) else { throw ValidationError("--order must be in 0...5, received \(order)") }
        guard cval.isFinite else { throw ValidationError("--cval must be finite, received \(cval)") }
        if method != .spline && (mode != .constant || order != 3) {
            throw ValidationError("--mode and --order apply to --method spline only")
        }
    }

    struct Report: Encodable {
        let image, out, method: String
        let shift: [Double]
    }

    func execute() throws -> Report {
        _ = try OutputCheck(inputs: [("IMAGE", image)], output: ("--out", out))
        let shift = by.values
        let source = try readImage(image, "IMAGE")
        guard shift.count == source.rank else {
            throw CommandError("--by has \(shift.count) values but IMAGE \(image) has \(source.rank) axes")
        }
        do {
            let result: AnyTensor
            switch source.image {
            case .real(let x):
                switch method {
                case .fourier: result = AnyTensor(try SubpixelShift.fourier(x, by: shift, padding: padding))
                case .linear: result = AnyTensor(try SubpixelShift.linear(x, by: shift))
                case .spline: result = AnyTensor(try SubpixelShift.spline(x, by: shift, order: order, mode: mode, cval: cval))
                }
            case .complex(let x):
                switch method {
                case .fourier: result = AnyTensor(try SubpixelShift.fourier(x, by: shift, padding: padding))
                case .linear:
                    result = AnyTensor(try SubpixelShift.spline(x, by: shift, order: 1, mode: .gridWrap))
                case .spline: result = AnyTensor(try SubpixelShift.spline(x, by: shift, order: order, mode: mode, cval: cval))
                }
            }
            try ArrayFiles.write(result.narrowed(to: source.storedType), to: out)
        } catch let error as RegistrationError {
            throw CommandError(argument: "IMAGE", value: image, error)
        }
        return Report(image: image, out: out, method: method.rawValue, shift: shift)
    }
}

// MARK: - Reading images

/// An image read from `.npy`, as Double (real or complex) for computing.
enum LoadedImage {
    case real(Tensor<Double>)
    case complex(Tensor<Complex<Double>>)

    var rank: Int {
        switch self {
        case .real(let t): return t.rank
        case .complex(let t): return t.rank
        }
    }
}

/// Reads an image as Double (integers are converted); float32/complex64
/// files are computed in Double and written back in their own precision by
/// the shift command.
func readImage(_ path: String, _ name: String) throws -> LoadedImageWithType {
    let any = try ArrayFiles.load(path, option: name)
    switch any {
    case .complex64, .complex128:
        return LoadedImageWithType(image: .complex(any.cast(to: Complex<Double>.self)), dtype: any.dtype)
    case .bool:
        throw CommandError("\(name) \(path): a boolean array is not an image")
    default:
        return LoadedImageWithType(image: .real(any.cast(to: Double.self)), dtype: any.dtype)
    }
}

/// A loaded image with the dtype it was stored as.
struct LoadedImageWithType {
    let image: LoadedImage
    let dtype: DType

    var rank: Int { image.rank }
    /// The dtype to write results as (float32/complex64 kept, integers become float64).
    var storedType: DType {
        switch dtype {
        case .float32, .complex64, .complex128: return dtype
        default: return .float64
        }
    }
}

/// Reads a mask: booleans, or integers where non-zero means valid.
func readMask(_ path: String, _ name: String) throws -> Tensor<Bool> {
    let any = try ArrayFiles.load(path, option: name)
    switch any {
    case .float32, .float64, .complex64, .complex128:
        throw CommandError("\(name) \(path): a mask must hold booleans or integers, found \(any.dtype)")
    default:
        return any.cast(to: Bool.self)
    }
}

extension AnyTensor {
    /// The tensor converted to `dtype` when that is float32 or complex64 (else unchanged).
    func narrowed(to dtype: DType) -> AnyTensor {
        switch (self, dtype) {
        case (.float64(let t), .float32): return .float32(t.map { Float($0) })
        case (.complex128(let t), .complex64): return .complex64(t.map { Complex(Float($0.real), Float($0.imaginary)) })
        default: return self
        }
    }
}
