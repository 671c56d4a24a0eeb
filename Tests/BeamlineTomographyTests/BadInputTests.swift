import BeamlineTensor
import Foundation
import Testing
@testable import BeamlineTomography

/// Every bad input is a typed ``TomographyError`` naming the argument.
@Suite("Bad input")
struct BadInputTests {
    let good = try! Geometry.fromAngles(innerAngles: [0, 0.5], volumeShape: [4, 5, 3], projectionShape: [4, 3])

    @Test func geometryValidation() throws {
        #expect(throws: TomographyError.emptyGeometry("no projections (rotations is empty)")) {
            try Geometry(rotations: [], volumeShape: [2, 2, 2], projectionShape: [2, 2])
        }
        let shear = Matrix3(rowMajor: [1, 0.1, 0, 0, 1, 0, 0, 0, 1])
        #expect { try Geometry(rotations: [.identity, shear], volumeShape: [2, 2, 2], projectionShape: [2, 2]) }
            throws: { ($0 as? TomographyError).map { if case .notARotation(index: 1, _) = $0 { true } else { false } } ?? false }
        let reflection = Matrix3(rowMajor: [-1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(throws: TomographyError.self) { try Geometry(rotations: [reflection], volumeShape: [2, 2, 2], projectionShape: [2, 2]) }
        #expect(throws: TomographyError.shapeMismatch(argument: "j_offsets", expected: [1], received: [2])) {
            try Geometry(rotations: [.identity], jOffsets: [0, 1], volumeShape: [2, 2, 2], projectionShape: [2, 2])
        }
        #expect(throws: TomographyError.nonFiniteValues(argument: "k_offsets")) {
            try Geometry(rotations: [.identity], kOffsets: [.nan], volumeShape: [2, 2, 2], projectionShape: [2, 2])
        }
        #expect(throws: TomographyError.self) { try Geometry(rotations: [.identity], volumeShape: [2, 0, 2], projectionShape: [2, 2]) }
        #expect(throws: TomographyError.self) {
            try Geometry(rotations: [.identity], volumeShape: [2, 2, 2], projectionShape: [2, 2], pDirection0: SIMD3(0, 2, 0))
        }
        #expect(throws: TomographyError.self) { try Geometry.fromAngles(innerAngles: [.infinity], volumeShape: [2, 2, 2], projectionShape: [2, 2]) }
    }

    /// JSON round trip is exact; malformed JSON names the field.
    @Test func geometryJSON() throws {
        var g = good
        g.jOffsets = [0.25, -1.0 / 3]
        g.detectorAngles = [0, 0.5]
        g.twoTheta = [0.01]
        g.fullCircleCovered = true
        let back = try Geometry(json: g.jsonData())
        #expect(back == g)
        func field(_ text: String) -> String? {
            do { _ = try Geometry(json: Data(text.utf8)); return nil } catch {
                if case let .malformedJSON(field, _) = error { return field }
                return "other: \(error)"
            }
        }
        #expect(field("{") == "(document)")
        #expect(field("[1, 2]") == "(document)")
        #expect(field("{\"volume_shape\": [2,2,2], \"projection_shape\": [2,2]}") == "rotations")
        #expect(field("{\"rotations\": [[[1,0,0],[0,1,0]]], \"volume_shape\": [2,2,2], \"projection_shape\": [2,2]}") == "rotations[0]")
        #expect(field("{\"rotations\": [[[1,0,0],[0,1,0],[0,0,\"x\"]]], \"volume_shape\": [2,2,2], \"projection_shape\": [2,2]}")
                == "rotations[0][2][2]")
        #expect(field("{\"rotations\": [[[1,0,0],[0,1,0],[0,0,1]]], \"volume_shape\": [2,2], \"projection_shape\": [2,2]}") == "volume_shape")
        #expect(field("{\"rotations\": [[[1,0,0],[0,1,0],[0,0,1]]], \"volume_shape\": [2,2,2.5], \"projection_shape\": [2,2]}") == "volume_shape")
        #expect(field("{\"rotations\": [[[1,0,0],[0,1,0],[0,0,1]]], \"volume_shape\": [2,2,2]}") == "projection_shape")
        #expect(field("{\"rotations\": [], \"volume_shape\": [2,2,2], \"projection_shape\": [2,2]}") == "other: empty geometry: no projections (rotations is empty)")
        // mumott's private field names are read too.
        let mumottStyle = "{\"_rotations\": [[[1,0,0],[0,1,0],[0,0,1]]], \"_j_offsets\": [0.5], \"volume_shape\": [2,2,2], \"projection_shape\": [2,2], \"full_circle_covered\": [false], \"two_theta\": [0.0]}"
        #expect(try Geometry(json: Data(mumottStyle.utf8)).jOffsets == [0.5])
    }

    @Test func projectorAndReconstructionInputs() throws {
        #expect(throws: TomographyError.invalidArgument(name: "channels", expected: "≥ 1", received: "0")) {
            try JohnTransformProjector<Double>(geometry: good, channels: 0)
        }
        #expect(throws: TomographyError.self) { try JohnTransformProjector<Double>(geometry: good, indices: [2]) }
        #expect(throws: TomographyError.emptyGeometry("no projections selected (indices is empty)")) {
            try JohnTransformProjector<Double>(geometry: good, indices: [])
        }
        let projector = try JohnTransformProjector<Double>(geometry: good, channels: 2)
        #expect(throws: ArgumentError.shapeMismatch(argument: "x", expected: [4, 5, 3, 2], received: [4, 5, 3])) {
            try projector.checkedApply(Tensor(shape: [4, 5, 3], repeating: 0))
        }
        var nanVolume = Tensor<Double>(shape: [4, 5, 3, 2], repeating: 0)
        nanVolume[at: 1, 1, 1, 1] = .nan
        #expect(throws: ArgumentError.nonFiniteValues(argument: "x")) { try projector.checkedApply(nanVolume) }
        #expect(throws: ArgumentError.shapeMismatch(argument: "y", expected: [2, 4, 3, 2], received: [2, 4, 3, 1])) {
            try projector.checkedApplyAdjoint(Tensor(shape: [2, 4, 3, 1], repeating: 0))
        }
        var nanData = Tensor<Double>(shape: [2, 4, 3, 2], repeating: 0)
        nanData[at: 0, 0, 0, 0] = .infinity
        #expect(throws: ArgumentError.nonFiniteValues(argument: "y")) { try projector.checkedApplyAdjoint(nanData) }
        for method in Reconstruction.Method.allCases {
            #expect(throws: TomographyError.nonFiniteValues(argument: "projections")) {
                try Reconstruction.run(method, projector: projector, projections: nanData)
            }
            #expect(throws: TomographyError.self) {
                try Reconstruction.run(method, projector: projector, projections: Tensor(shape: [2, 4, 3], repeating: 0))
            }
        }
        #expect(throws: TomographyError.self) {
            try Reconstruction.sirt(projector, projections: Tensor(shape: [2, 4, 3, 2], repeating: 0), options: .init(iterations: -1))
        }
        #expect(throws: TomographyError.self) {
            try Reconstruction.mitra(projector, projections: Tensor(shape: [2, 4, 3, 2], repeating: 0), options: .init(nesterovWeight: 2))
        }
        #expect(throws: TomographyError.self) { try Radon.transform(Tensor<Double>(shape: [3], repeating: 0), anglesDegrees: [0]) }
        #expect(throws: TomographyError.self) { try Radon.transform(Tensor<Double>(shape: [3, 3], repeating: 0), anglesDegrees: []) }
        #expect(throws: TomographyError.self) {
            try Radon.filteredBackProjection(Tensor<Double>(shape: [4, 2], repeating: 0), anglesDegrees: [0])
        }
        #expect(throws: TomographyError.self) {
            try Radon.filteredBackProjection(Tensor<Double>(shape: [4, 1], repeating: 0), anglesDegrees: [0], frequencyCutoff: 0)
        }
        #expect(throws: TomographyError.nonFiniteValues(argument: "sinogram")) {
            try Radon.filteredBackProjection(Tensor<Double>(shape: [2, 1], elements: [1, .nan]), anglesDegrees: [0])
        }
    }
}
