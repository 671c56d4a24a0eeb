import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// The NXtomo fixture of generate_hdf5.py (9 frames of 4 × 5, image_key
/// [2, 1, 0, 0, 0, 0, 0, 1, 2]).
@Suite("NXtomo")
struct NXtomoTests {
    @Test("frames split by image_key, angles of the projections in degrees and radians")
    func split() throws {
        let scan = try NXtomoScan(contentsOf: fixtureURL("nxtomo.nxs"))
        #expect(scan.projections.shape == [5, 4, 5])
        #expect(scan.flats.shape == [2, 4, 5])
        #expect(scan.darks.shape == [2, 4, 5])
        #expect(scan.rotationAnglesDegrees == [0, 45, 90, 135, 180])
        #expect(scan.rotationAnglesRadians == [0, Double.pi / 4, Double.pi / 2, 3 * Double.pi / 4, Double.pi])
        // generate_hdf5.py: dark = 100 + frame index (frames 0 and 8), flat = 1000 + 10 * pixel + index (1 and 7).
        #expect(elements(scan.darks[0]) == [Float](repeating: 100, count: 20))
        #expect(elements(scan.darks[1]) == [Float](repeating: 108, count: 20))
        let flat: [Float] = (0..<20).map { (pixel: Int) -> Float in Float(1007 + 10 * pixel) }
        #expect(elements(scan.flats[1]) == flat)
    }

    @Test("absorbance matches NumPy's -log(max((p - d)/(f - d), 1e-6)) (nxtomo_absorbance.npy) to float32 rounding")
    func absorbance() throws {
        let scan = try NXtomoScan(contentsOf: fixtureURL("nxtomo.nxs"))
        let result = try scan.absorbance()
        let expected = try NumpyFile.read(Float.self, from: fixtureURL("nxtomo_absorbance.npy"))
        #expect(result.shape == expected.shape)
        for (a, b) in zip(elements(result), elements(expected)) {
            #expect(abs(a - b) <= 1e-6 * max(1, abs(b)))
        }
    }

    @Test("the absorbance stays finite where the projection is at or below the dark (clamped to 1e-6)")
    func clamped() throws {
        let frame = Tensor<Float>(shape: [1, 1, 2], elements: [10, 5])
        let scan = NXtomoScan(projections: frame, flats: Tensor<Float>(shape: [1, 1, 2], elements: [20, 20]),
                              darks: Tensor<Float>(shape: [1, 1, 2], elements: [10, 10]), rotationAnglesDegrees: [0])
        #expect(elements(try scan.absorbance()) == [Float(-log(1e-6)), Float(-log(1e-6))])
        let noFlats = NXtomoScan(projections: frame, flats: Tensor<Float>(shape: [0, 1, 2], elements: []),
                                 darks: frame, rotationAnglesDegrees: [0])
        #expect(throws: HDF5Error.invalidArgument(name: "flats", expected: "at least one flat field (image_key 1)", received: "none")) {
            _ = try noFlats.absorbance()
        }
    }

    @Test("mismatched image_key length and a missing entry are typed errors naming the file and path")
    func errors() throws {
        let mismatch = try fixtureURL("nxtomo_mismatch.nxs")
        #expect(throws: HDF5Error.shapeMismatch(file: mismatch.path, path: "/entry/instrument/detector/image_key",
                                                expected: "one key per frame, [9]", found: [8])) {
            _ = try NXtomoScan(contentsOf: mismatch)
        }
        let good = try fixtureURL("nxtomo.nxs")
        #expect(throws: HDF5Error.missingObject(file: good.path, path: "/scan2/instrument/detector/data")) {
            _ = try NXtomoScan(contentsOf: good, entry: "scan2")
        }
    }
}
