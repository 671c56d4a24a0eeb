import BeamlineIO
import BeamlineTensor
import BeamlineTestSupport
import Foundation
import Testing
@testable import BeamlineTomography

@Suite("Tensor tomography: mumott DataContainer HDF5 files")
struct TensorTomographyDataTests {
    static var containerURL: URL { Bundle.module.url(forResource: "tensor_container", withExtension: "h5", subdirectory: "Fixtures")! }

    /// tensor_container.h5 (written with h5py in mumott's layout by
    /// generate_tensor_tomography_h5.py: unequal rasters, legacy names,
    /// angles and matrices) reads as mumott 2.3's DataContainer reads it:
    /// data, weights, diode and offsets exactly (same padding), rotations to
    /// 1e-12 (rotation vectors composed by scipy vs Rodrigues here),
    /// absorbances to 1e-12.
    @Test func readsAsMumottDoes() throws {
        let f = try Fixtures.load("tensor_container.json")
        let d = try TensorTomographyData(contentsOf: Self.containerURL)
        #expect(d.data.shape == (try f.entry("data").shape))
        #expect(d.data.elements == (try f.entry("data").data))
        #expect(d.weights.elements == (try f.entry("weights").data))
        #expect(d.diode!.elements == (try f.entry("diode").data))
        #expect(d.geometry.jOffsets == (try f.entry("j_offsets").data))
        #expect(d.geometry.kOffsets == (try f.entry("k_offsets").data))
        #expect(d.geometry.volumeShape == (try f.entry("volume_shape").data.map { Int($0) }))
        #expect(d.geometry.projectionShape == (try f.entry("projection_shape").data.map { Int($0) }))
        #expect(d.geometry.fullCircleCovered == (try f.entry("full_circle").data[0] == 1))
        #expect(maxAbs(d.geometry.rotations.flatMap(\.rowMajor), try f.entry("rotations").data) <= 1e-12)
        #expect(maxAbs(try d.absorbances().elements, try f.entry("absorbances").data) <= 1e-12)
        let corrected = try d.correctedForTransmission()
        #expect(abs(corrected[at: 0, 1, 2, 3] - d.data[at: 0, 1, 2, 3] / d.diode![at: 0, 1, 2]) == 0)
    }

    /// Reading some projections (one rank's part of a projection split)
    /// gives exactly those projections of the whole read: data, weights,
    /// diode, rotations, offsets and angles, with the whole file's raster
    /// padding (projection 1 is shorter) and volume; a range outside the
    /// file is a typed error naming `projections`.
    @Test func readsSomeProjections() throws {
        let whole = try TensorTomographyData(contentsOf: Self.containerURL)
        #expect(try TensorTomographyData.projectionCount(contentsOf: Self.containerURL) == 3)
        for part in [0..<1, 1..<2, 1..<3, 0..<3] {
            let d = try TensorTomographyData(contentsOf: Self.containerURL, projections: part)
            let n = part.count
            let m = whole.data.count / 3, p = whole.diode!.count / 3
            #expect(d.data.shape == [n] + Array(whole.data.shape.dropFirst()))
            #expect(d.data.elements == Array(whole.data.elements[(part.lowerBound * m)..<(part.upperBound * m)]))
            #expect(d.weights.elements == Array(whole.weights.elements[(part.lowerBound * m)..<(part.upperBound * m)]))
            #expect(d.diode!.elements == Array(whole.diode!.elements[(part.lowerBound * p)..<(part.upperBound * p)]))
            #expect(d.geometry.rotations == Array(whole.geometry.rotations[part]))
            #expect(d.geometry.jOffsets == Array(whole.geometry.jOffsets[part]))
            #expect(d.geometry.kOffsets == Array(whole.geometry.kOffsets[part]))
            #expect(d.geometry.volumeShape == whole.geometry.volumeShape)
            #expect(d.geometry.projectionShape == whole.geometry.projectionShape)
            #expect(d.geometry.fullCircleCovered == whole.geometry.fullCircleCovered)
            #expect(d.innerAngles == whole.innerAngles.map { Array($0[part]) })
        }
        for bad in [0..<4, 2..<2] {
            #expect(throws: TomographyError.invalidArgument(name: "projections", expected: "a non-empty range in 0..<3 (the file's projections)",
                                                            received: "\(bad)")) {
                try TensorTomographyData(contentsOf: Self.containerURL, projections: bad)
            }
        }
    }

    /// Written files read back identically. With `BEAMLINE_TT_KEEP=path` the
    /// written file is also kept there, for loading it in mumott's
    /// DataContainer (docs/tensor-tomography.md).
    @Test func roundTrip() throws {
        let d = try TensorTomographyData(contentsOf: Self.containerURL)
        if let keep = ProcessInfo.processInfo.environment["BEAMLINE_TT_KEEP"] { try d.write(to: URL(fileURLWithPath: keep)) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tt-roundtrip-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try d.write(to: url)
        let back = try TensorTomographyData(contentsOf: url)
        #expect(back.data.elements == d.data.elements)
        #expect(back.weights.elements == d.weights.elements)
        #expect(back.diode!.elements == d.diode!.elements)
        #expect(back.geometry == d.geometry)
    }

    /// Several 2θ rings: the data's last axis holds every ring's azimuthal
    /// bins (mumott's order), and a written file reads back with its rings;
    /// data whose last axis is one ring short is refused naming both counts.
    @Test func twoThetaRings() throws {
        var g = try Geometry.fromAngles(innerAngles: [0, 1, 2], volumeShape: [3, 3, 2], projectionShape: [3, 2])
        g.detectorAngles = [0, 1, 2]
        g.twoTheta = [0.2, 0.4]
        #expect(g.segmentCount == 6)
        let values: [Double] = (0..<(3 * 3 * 2 * 6)).map { Double($0 % 17) }
        let d = try TensorTomographyData(geometry: g, data: Tensor(shape: [3, 3, 2, 6], elements: values))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tt-rings-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try d.write(to: url)
        let back = try TensorTomographyData(contentsOf: url)
        #expect(back.geometry.twoTheta == [0.2, 0.4])
        #expect(back.data.elements == values)
        #expect(try back.geometry.probedCoordinates().segments == 6)
        #expect(throws: TomographyError.self) {
            try TensorTomographyData(geometry: g, data: Tensor(shape: [3, 3, 2, 3], elements: Array(values[0..<54])))
        }
        g.twoTheta = []
        #expect(throws: TomographyError.invalidArgument(name: "two_theta", expected: "at least one scattering angle", received: "[]")) {
            try g.validate()
        }
    }

    /// Missing groups, zero segments, mismatched shapes and non-finite data
    /// are typed errors naming the object; a replacement value admits NaN.
    @Test func badFiles() throws {
        let dir = FileManager.default.temporaryDirectory
        func make(_ name: String, _ body: (HDF5File) throws(HDF5Error) -> Void) throws -> URL {
            let url = dir.appendingPathComponent("tt-bad-\(name)-\(UUID().uuidString).h5")
            try HDF5File.write(to: url, body)
            return url
        }
        func message(_ url: URL, replacement: Double? = nil) -> String? {
            defer { try? FileManager.default.removeItem(at: url) }
            do { _ = try TensorTomographyData(contentsOf: url, nonfiniteReplacement: replacement); return nil } catch { return error.description }
        }
        let angles = Tensor<Double>(shape: [2], elements: [0, 1])
        #expect(message(try make("noproj") { (f) throws(HDF5Error) in try f.write(angles, to: "/detector_angles") })?.contains("/projections") == true)
        #expect(message(try make("noangles") { (f) throws(HDF5Error) in
            try f.createGroup("/projections/0"); try f.write(Tensor<Double>.zeros([2, 2, 2]), to: "/projections/0/data")
        })?.contains("detector_angles") == true)
        #expect(message(try make("zeroseg") { (f) throws(HDF5Error) in
            try f.write(Tensor<Double>.zeros([0]), to: "/detector_angles")
            try f.createGroup("/projections/0"); try f.write(Tensor<Double>.zeros([2, 2, 2]), to: "/projections/0/data")
        })?.contains("zero detector segments") == true)
        #expect(message(try make("shape") { (f) throws(HDF5Error) in
            try f.write(angles, to: "/detector_angles")
            try f.createGroup("/projections/0"); try f.write(Tensor<Double>.zeros([2, 2, 3]), to: "/projections/0/data")
        })?.contains("/projections/0/data") == true)
        func nanFile() throws -> URL {
            try make("nan") { (f) throws(HDF5Error) in
                try f.write(angles, to: "/detector_angles")
                try f.createGroup("/projections/0")
                try f.write(Tensor<Double>(shape: [2, 2, 2], elements: [1, .nan, 1, 1, 1, 1, 1, 1]), to: "/projections/0/data")
            }
        }
        #expect(message(try nanFile())?.contains("NaN") == true)
        #expect(message(try nanFile(), replacement: 0) == nil)
        #expect(message(dir.appendingPathComponent("does-not-exist.h5")) != nil)
    }
}
