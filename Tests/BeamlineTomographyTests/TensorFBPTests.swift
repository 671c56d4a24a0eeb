import BeamlineTensor
import BeamlineTestSupport
import Foundation
import Testing
@testable import BeamlineTomography

/// mumott 2.3's `run_fbp` (Tests/Fixtures/generate_tensor_fbp.py).
@Suite("Tensor tomography: filtered back-projection of the absorbances")
struct TensorFBPTests {
    static var fileURL: URL { Bundle.module.url(forResource: "tensor_fbp", withExtension: "h5", subdirectory: "Fixtures")! }

    /// Against mumott 2.3 (generate_tensor_fbp.py): the chosen projections
    /// are mumott's `fbp_indices` exactly (a repeat within 1e-4 modulo π and
    /// the tilted projections left out); the filtered absorbances, what
    /// run_fbp back-projects, equal mumott's `get_filtered_projections` to
    /// 1e-12 of their largest value (same percentile, cut-off mask, weights
    /// mask and FFT filter; for the windows evaluated at f instead of
    /// mumott's f/(4π), the fix: mumott's own windowed filters are 8–61 %
    /// away, as the fixture records). The volume is those projections
    /// back-projected by the John transform's adjoint (the exact transpose of
    /// the forward projector, checked by the dot-product tests); mumott's
    /// run_fbp back-projects pixel by pixel instead, which is not a
    /// transpose, so its volume is not the reference.
    @Test(arguments: FBPWindow.allCases)
    func matchesMumott(window: FBPWindow) throws {
        let f = try Fixtures.load("tensor_fbp.json")
        let data = try TensorTomographyData(contentsOf: Self.fileURL)
        let result = try TensorReconstruction.filteredBackProjection(data, window: window)
        let indices = try f.entry("fbp_indices").data.map { Int($0) }
        #expect(result.projectionIndices == indices)
        #expect(result.filterAxis == 1)
        let (filtered, _) = try TensorReconstruction.filteredAbsorbances(
            data, axis: SIMD3(0, 0, -1), filterAxis: 1, window: window, percentile: 99.9, cutoff: (1e-4, 1))
        let expected = try f.entry("fbp_filtered_" + window.rawValue)
        #expect(filtered.shape == expected.shape)
        let scale = expected.data.map(abs).max()!
        #expect(zip(filtered.elements, expected.data).allSatisfy { abs($0 - $1) <= 1e-12 * scale })

        let projector = try JohnTransformProjector<Double>(geometry: data.geometry, channels: 1).subset(indices)
        let reference = try projector.checkedApplyAdjoint(Tensor<Double>(shape: expected.shape, elements: expected.data))
        let largest = reference.elements.map(abs).max()!
        #expect(result.volume.shape == [8, 8, 6, 1])
        #expect(zip(result.volume.elements, reference.elements).allSatisfy { abs($0 - $1) <= 1e-12 * largest })
        if window != .ramLak { #expect(try f.entry("fbp_windows_mumott_gap").data.allSatisfy { $0 > 0.05 }) }
    }

    /// Bad arguments are typed errors naming them.
    @Test func badArguments() throws {
        let data = try TensorTomographyData(contentsOf: Self.fileURL)
        #expect(throws: TomographyError.invalidArgument(name: "rotationAxis", expected: "a finite, non-zero vector",
                                                        received: "(0.0, 0.0, 0.0)")) {
            try TensorReconstruction.filteredBackProjection(data, rotationAxis: .zero)
        }
        #expect {
            try TensorReconstruction.filteredBackProjection(data, rotationAxis: SIMD3(1, 0, 1))
        } throws: { error in
            "\(error)".contains("rotationAxis") && "\(error)".contains("along the j or the k detector direction")
        }
        #expect(throws: TomographyError.invalidArgument(name: "transmittivityCutoff", expected: "0 < lower ≤ upper ≤ 1",
                                                        received: "(0.0, 1.0)")) {
            try TensorReconstruction.filteredBackProjection(data, transmittivityCutoff: (0, 1))
        }
        #expect(throws: TomographyError.self) {
            try TensorReconstruction.filteredBackProjection(data, normalizationPercentile: 0)
        }
        // The outer axis (1, 0, 0) lies along j: every projection here turns
        // it (inner angles ≠ 0) except the first, which is untilted about it.
        let outer = try TensorReconstruction.filteredBackProjection(data, rotationAxis: SIMD3(1, 0, 0))
        #expect(outer.filterAxis == 2)
        var noDiode = data
        noDiode.diode = nil
        #expect(throws: TomographyError.invalidArgument(name: "diode", expected: "a diode for absorbances", received: "none")) {
            try TensorReconstruction.filteredBackProjection(noDiode)
        }
    }
}
