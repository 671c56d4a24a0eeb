import ArgumentParser
import Beamline
import Foundation

/// `beamline demo`: a small end-to-end job on built-in data.
///
/// It builds a test image (smooth blobs and sharp-edged shapes), adds
/// seeded Gaussian noise, removes most of the noise with a Gaussian low-pass
/// filter applied in Fourier space (real-to-complex FFT), and writes the
/// clean, noisy and filtered images as `.npy` files. Later capabilities add
/// their own parts to this job.
///
/// Tomography part: a 3-d Shepp–Logan phantom is projected with the John
/// transform over 180°, Poisson noise is added, SIRT (mumott's weights)
/// reconstructs it, the error is printed and a PNG preview of the central
/// slice (phantom | reconstruction) is written, enlarged to at least 512
/// pixels wide and coloured with `--colormap`.
extension PNGFile.ColorMap: ExpressibleByArgument {}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the built-in end-to-end demonstration and write its results as .npy files."
    )

    @Option(help: "Folder for the results (created if missing; files from an earlier demo run in it are replaced).")
    var output = "beamline-demo"

    @Option(help: "Side length of the generated image in pixels.")
    var size = 1024

    @Option(help: "Standard deviation of the added noise.")
    var noise = 0.2

    @Option(help: "Gaussian filter width in pixels (standard deviation in real space).")
    var sigma = 2.0

    @Option(help: "Seed of the noise generator.")
    var seed: UInt64 = 2026

    @Option(help: "Side of the tomography phantom in voxels (0 skips the tomography part).")
    var tomographySize = 48

    @Option(help: "SIRT iterations of the tomography part.")
    var tomographyIterations = 30

    @Option(help: "Mean photon count per projection pixel for the Poisson noise of the tomography part.")
    var photons = 2000.0

    @Option(help: "Colour map of the PNG preview: grey, viridis or magma.")
    var colormap: PNGFile.ColorMap = .viridis

    @Option(help: "Catalogue detector of the parallax part (e.g. Pilatus1M, Pilatus100k; 'none' skips it).")
    var detector = "Pilatus1M"

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard tomographySize == 0 || (tomographySize >= 8 && tomographySize <= 512) else {
            throw ValidationError("--tomography-size must be 0 or in 8...512, received \(tomographySize)")
        }
        guard tomographyIterations >= 0 && tomographyIterations <= 10000 else {
            throw ValidationError("--tomography-iterations must be in 0...10000, received \(tomographyIterations)")
        }
        guard photons > 0 && photons.isFinite else { throw ValidationError("--photons must be finite and > 0, received \(photons)") }
        guard size >= 8 && size <= 16384 else { throw ValidationError("--size must be in 8...16384, received \(size)") }
        guard noise >= 0 && noise.isFinite else { throw ValidationError("--noise must be finite and ≥ 0, received \(noise)") }
        guard sigma > 0 && sigma.isFinite else { throw ValidationError("--sigma must be finite and > 0, received \(sigma)") }
    }

    func run() throws {
        threads.apply()
        let directory = URL(fileURLWithPath: output, isDirectory: true)
        try prepareOutputDirectory(directory)
        let clock = ContinuousClock()
        let start = clock.now

        let clean = DemoData.testImage(size: size)
        let noisy = clean + Tensor<Double>.normal([size, size], standardDeviation: noise, seed: seed)
        let filterStart = clock.now
        let filtered = try DemoData.gaussianLowPass(noisy, sigma: sigma)
        let filterTime = clock.now - filterStart

        let rmseNoisy = (noisy - clean).norm() / Double(size)
        let rmseFiltered = (filtered - clean).norm() / Double(size)
        let files = ["clean.npy": clean, "noisy.npy": noisy, "filtered.npy": filtered]
        for (name, image) in files.sorted(by: { $0.key < $1.key }) {
            try NumpyFile.write(image, to: directory.appendingPathComponent(name))
        }
        let total = clock.now - start
        print("""
            beamline demo: Fourier low-pass filtering of a noisy \(size)×\(size) test image
              noise σ = \(noise), Gaussian filter σ = \(sigma) px, \(Parallel.threadCount) threads
              RMS error against the clean image: noisy \(format(rmseNoisy)), filtered \(format(rmseFiltered)) \
            (\(format(rmseNoisy / rmseFiltered))× lower)
              filter (rfft2 → multiply → irfft2): \(milliseconds(filterTime)) ms; whole job \(milliseconds(total)) ms
              wrote \(files.keys.sorted().map { directory.appendingPathComponent($0).path }.joined(separator: ", "))
            """)
        if tomographySize > 0 { try runTomography(directory) }
        if tomographySize > 0 { print(try TensorTomographyDemo.run(in: directory, iterations: tomographyIterations, seed: seed)) }
        print(try AlignmentDemo.run(in: directory))

        // Detector part (thick-sensor parallax).
        if detector.lowercased() != "none" {
            do {
                print(try DetectorDemo.run(in: directory, detector: detector))
            } catch let error as DetectorError {
                throw CommandError(argument: "--detector", value: detector, error)
            }
        }
        print(try CrystallographyDemo.run(in: directory, seed: seed))  // CBC scaling part
    }

    /// Phantom → projections → Poisson noise → SIRT → error and PNG preview.
    private func runTomography(_ directory: URL) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let n = tomographySize
        let angles = Int((Double(n) * 1.5).rounded())
        let phantom: Tensor<Float> = Phantom.sheppLogan3D(size: n, as: Float.self)
        let geometry = try Geometry.fromAngles(innerAngles: (0..<angles).map { Double($0) * Double.pi / Double(angles) },
                                               volumeShape: [n, n, n], projectionShape: [n, n])
        let projector = try JohnTransformProjector<Float>(geometry: geometry)
        let projectStart = clock.now
        let clean = try projector.checkedApply(phantom)
        let projectTime = clock.now - projectStart
        var rng = SplitMix64(seed: seed)
        let values = clean.elements
        let mean = Double(values.reduce(0, +)) / Double(max(1, values.count))
        let scale = mean > 0 ? photons / mean : 1
        let noisy = Tensor(shape: clean.shape, elements: values.map { Float(rng.poisson(Double($0) * scale) / scale) })
        let solveStart = clock.now
        let result = try Reconstruction.sirt(projector, projections: noisy,
                                             options: .init(iterations: tomographyIterations, nonNegative: true))
        let solveTime = clock.now - solveStart
        let (p, r) = (phantom.elements, result.volume.elements)
        var num = 0.0, den = 0.0
        for i in 0..<p.count { num += Double((r[i] - p[i]) * (r[i] - p[i])); den += Double(p[i] * p[i]) }
        let error = (num / max(den, 1e-300)).squareRoot()
        // Central slice z = n/2 of phantom and reconstruction, side by side (x down, y across).
        var preview = [Float](repeating: 0, count: n * (2 * n + 2))
        for x in 0..<n { for y in 0..<n {
            let i = (x * n + y) * n + n / 2
            preview[x * (2 * n + 2) + y] = p[i]
            preview[x * (2 * n + 2) + n + 2 + y] = r[i]
        } }
        let png = directory.appendingPathComponent("tomography_slice.png")
        try PNGFile.writePreview(Tensor(shape: [n, 2 * n + 2], elements: preview), to: png, low: 0, high: 1,
                                 colorMap: colormap)
        let volumeFile = directory.appendingPathComponent("tomography_sirt.npy")
        try NumpyFile.write(result.volume, to: volumeFile)
        print("""
            beamline demo: tomography of a \(n)³ Shepp–Logan phantom, \(angles) projections over 180°, Poisson noise \
            (\(format(photons)) photons per pixel on average)
              forward projection \(milliseconds(projectTime)) ms (\(format(Double(projector.raySamples) / max(1e-9, Double(projectTime.components.seconds) + Double(projectTime.components.attoseconds) * 1e-18) / 1e6)) M ray samples/s); \
            SIRT \(result.iterations) iterations \(milliseconds(solveTime)) ms
              relative L2 error of the reconstruction: \(format(error)); residual ‖P x − d‖ = \(format(result.residualNorm))
              whole tomography part \(milliseconds(clock.now - start)) ms; wrote \(png.path), \(volumeFile.path)
            """)
    }

    private func prepareOutputDirectory(_ directory: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CommandError("--output \(directory.path) exists and is not a folder")
            }
        } else {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw CommandError("--output: cannot create folder \(directory.path): \(error.localizedDescription)")
            }
        }
    }
}

func format(_ value: Double) -> String { String(format: "%.4g", value) }

func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.1f", Double(seconds) * 1e3 + Double(attoseconds) * 1e-15)
}

/// Built-in data and the filtering step of the demo (internal so tests can
/// check them).
enum DemoData {
    /// A test image in [0, 1]: two Gaussian blobs, a disc and a square.
    static func testImage(size: Int) -> Tensor<Double> {
        let coordinates = Tensor<Double>.linspace(-1, 1, count: size)
        let y = coordinates.reshaped([size, 1]), x = coordinates.reshaped([1, size])
        let blob1 = exp(-((x - 0.35) * (x - 0.35) + (y + 0.3) * (y + 0.3)) / 0.02)
        let blob2 = exp(-((x + 0.4) * (x + 0.4) + (y - 0.35) * (y - 0.35)) / 0.05) * 0.6
        let disc = (((x + 0.3) * (x + 0.3) + (y + 0.35) * (y + 0.35)) .<= 0.04).cast(to: Double.self) * 0.8
        let square = ((abs(x - 0.4) .<= 0.2) .&& (abs(y - 0.4) .<= 0.2)).cast(to: Double.self) * 0.5
        return blob1 + blob2 + disc + square
    }

    /// Convolves `image` (periodically) with a Gaussian of standard
    /// deviation `sigma` pixels, by multiplying its 2-d real FFT with the
    /// Gaussian's transform `exp(-2π²σ²(fx² + fy²))`.
    static func gaussianLowPass(_ image: Tensor<Double>, sigma: Double) throws -> Tensor<Double> {
        let (rows, columns) = (image.shape[0], image.shape[1])
        let spectrum = try FFT.rfftn(image)
        let fy = try FFT.fftfreq(rows, d: 1.0).reshaped([rows, 1])
        let fx = try FFT.rfftfreq(columns, d: 1.0).reshaped([1, columns / 2 + 1])
        let factor = -2 * Double.pi * Double.pi * sigma * sigma
        let transfer = exp((fy * fy + fx * fx) * factor)
        let filtered = spectrum * Tensor<Complex<Double>>(real: transfer)
        return try FFT.irfftn(filtered, s: [rows, columns])
    }
}
