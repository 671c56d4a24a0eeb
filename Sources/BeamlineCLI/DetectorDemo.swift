import Beamline
import Foundation

/// The detector part of `beamline demo`: parallax blur of a catalogue
/// detector (default Pilatus 1M; 450 µm Si, 17.8 keV, pyFAI notebook
/// geometry) and its removal.
enum DetectorDemo {
    /// Builds the exact point-spread matrix, blurs the test pattern (ones
    /// with every 5th pixel = 10), deconvolves it with LSMR and MLEM, writes
    /// the blurred and corrected images into `directory` and returns the
    /// report lines.
    static func run(in directory: URL, detector name: String = "Pilatus1M", iterations: Int = 30) throws -> String {
        let clock = ContinuousClock()
        let start = clock.now
        let model = ThickSensorModel(detector: try Detector.named(name),
                                     geometry: try PONIGeometry(distance: 0.2845, poni1: 0.08865, poni2: 0.08931),
                                     sensor: try Sensor(thickness: 450e-6, mu: 1537.02))
        let psf: PointSpreadMatrix<Double> = try model.exact()
        let matrixTime = clock.now - start
        let (rows, columns) = (model.detector.rows, model.detector.columns)
        let readOut = model.detector.mask.elements.map { !$0 }
        let truth = Tensor(shape: [rows * columns], elements: (0..<rows * columns).map { $0 % 5 == 0 ? 10.0 : 1.0 })
        let blurred = psf.blurOperator.apply(truth)
        let truthValues = truth.elements
        func rms(_ image: Tensor<Double>) -> Double {
            var sum = 0.0, count = 0
            for (k, v) in image.elements.enumerated() where readOut[k] {
                let d = v - truthValues[k]
                sum += d * d
                count += 1
            }
            return (sum / Double(max(1, count))).squareRoot()
        }
        let image = blurred.reshaped([rows, columns])
        let solveStart = clock.now
        let lsmr = try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .lsmr,
                                                lsmr: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: iterations))
        let lsmrTime = clock.now - solveStart
        let mlemStart = clock.now
        let mlem = try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: .mlem,
                                                mlem: .init(maximumIterations: iterations))
        let mlemTime = clock.now - mlemStart
        try NumpyFile.write(image, to: directory.appendingPathComponent("detector_blurred.npy"))
        try NumpyFile.write(lsmr.corrected, to: directory.appendingPathComponent("detector_lsmr.npy"))
        try NumpyFile.write(mlem.corrected, to: directory.appendingPathComponent("detector_mlem.npy"))
        return """
            beamline demo: thick-sensor parallax on a Pilatus 1M (450 µm Si, μ = 1537.02 /m, distance 0.2845 m)
              exact point-spread matrix: \(psf.matrix.nonzeroCount) non-zeros in \(milliseconds(matrixTime)) ms
              RMS error against the pattern (ones, every 5th pixel 10) on read-out pixels: blurred \
            \(format(rms(blurred))), LSMR \(format(rms(lsmr.corrected.reshaped([rows * columns])))) \
            (\(iterations) it., \(milliseconds(lsmrTime)) ms), MLEM \(format(rms(mlem.corrected.reshaped([rows * columns])))) \
            (\(iterations) it., \(milliseconds(mlemTime)) ms)
              wrote detector_blurred.npy, detector_lsmr.npy, detector_mlem.npy
            """
    }
}
