import BeamlineTestSupport
import BeamlineTensor
import Foundation
import Testing
@testable import BeamlineTomography

/// The projector's column fast path (single-axis scans about z) against the
/// general ray kernels, which compute the same matrix entries up to rounding.
@Suite("John-transform projector, column path")
struct ColumnPathTests {
    /// A single-axis geometry about z with fractional j and k offsets (or
    /// integer k offsets when `integerK`), odd sizes, detector taller and
    /// shorter than the volume, and optionally k₀ = −z (rows run down z).
    static func columnGeometry(seed: Int, integerK: Bool, flipK: Bool) throws -> Geometry {
        let n = 6 + seed
        let inner = (0..<n).map { Double($0) * 0.53 + Double(seed) * 0.2 }
        let angles = try Geometry.fromAngles(innerAngles: inner, volumeShape: [7, 5 + seed, 9], projectionShape: [8, 7 + 2 * seed])
        var kOffsets = [Double](), jOffsets = [Double]()
        for i in 0..<n {
            let t = Double(i)
            kOffsets.append(integerK ? Double(i % 5 - 2) : sin(t * 1.7 + Double(seed)) * 2.3)
            jOffsets.append(cos(t + Double(seed)) * 1.6)
        }
        return try Geometry(rotations: angles.rotations, jOffsets: jOffsets,
                            kOffsets: kOffsets, volumeShape: [7, 5 + seed, 9], projectionShape: [8, 7 + 2 * seed],
                            kDirection0: SIMD3(0, 0, flipK ? -1 : 1))
    }

    static let cases: [(Int, Bool, Bool)] = [(0, false, false), (1, true, false), (2, false, true), (3, true, true)]

    /// The kernel versions this CPU can run: the portable one, and the AVX2 +
    /// FMA one where the CPU has it (`fusedKernelsAreCovered` records when
    /// it is not, so a run on such a CPU does not claim to have tested it).
    static let kernelVersions: [Bool] = bl_haveFused ? [false, true] : [false]

    @Test(.enabled(if: bl_haveFused, "no AVX2 + FMA on this CPU: only the portable kernels were compared"))
    func fusedKernelsAreCovered() {
        #expect(Self.kernelVersions == [false, true])
    }

    /// Forward and adjoint of the column path equal the general path's to
    /// rounding (1e-12 of the largest value in Double, 1e-5 in Float), for
    /// both kernel versions (AVX2 + FMA where the CPU has it, and portable).
    @Test(arguments: [1, 4])
    func matchesGeneralPath(channels: Int) throws {
        for (seed, integerK, flipK) in Self.cases {
            let geometry = try Self.columnGeometry(seed: seed, integerK: integerK, flipK: flipK)
            let general = try JohnTransformProjector<Double>(geometry: geometry, channels: channels, indices: nil,
                                                             columnPath: false, fusedKernels: false)
            #expect(general.columnPlans.isEmpty)
            let x: Tensor<Double> = randomTensor(general.volumeShape, seed: UInt64(seed))
            let y: Tensor<Double> = randomTensor(general.projectionsShape, seed: UInt64(50 + seed))
            let (fx, ay) = (try general.checkedApply(x), try general.checkedApplyAdjoint(y))
            for fused in Self.kernelVersions {
                let fast = try JohnTransformProjector<Double>(geometry: geometry, channels: channels, indices: nil,
                                                              columnPath: true, fusedKernels: fused)
                #expect(fast.columnPlans.count == geometry.count, "seed \(seed): every projection takes the column path")
                let (gx, by) = (try fast.checkedApply(x), try fast.checkedApplyAdjoint(y))
                #expect(maxDifference(fx, gx) <= 1e-12 * maxMagnitude(fx), "forward, seed \(seed), fused \(fused)")
                #expect(maxDifference(ay, by) <= 1e-12 * maxMagnitude(ay), "adjoint, seed \(seed), fused \(fused)")
            }

            let generalF = try JohnTransformProjector<Float>(geometry: geometry, channels: channels, indices: nil,
                                                             columnPath: false, fusedKernels: false)
            let fastF = try JohnTransformProjector<Float>(geometry: geometry, channels: channels)
            let xf: Tensor<Float> = randomTensor(generalF.volumeShape, seed: UInt64(seed), as: Float.self)
            let yf: Tensor<Float> = randomTensor(generalF.projectionsShape, seed: UInt64(50 + seed), as: Float.self)
            let (f1, f2) = (try generalF.checkedApply(xf), try fastF.checkedApply(xf))
            let (a1, a2) = (try generalF.checkedApplyAdjoint(yf), try fastF.checkedApplyAdjoint(yf))
            #expect(maxDifference(f1, f2) <= 1e-5 * maxMagnitude(f1), "Float forward, seed \(seed)")
            #expect(maxDifference(a1, a2) <= 1e-5 * maxMagnitude(a1), "Float adjoint, seed \(seed)")
        }
    }

    /// ⟨P x, y⟩ = ⟨x, Pᵀ y⟩ on the column path (fractional and integer k
    /// offsets, k₀ = ±z, odd sizes), with both kernel versions, in Double
    /// (1e-12 relative) and Float (1e-4).
    @Test(arguments: [1, 3])
    func adjointDotProduct(channels: Int) throws {
        for (seed, integerK, flipK) in Self.cases {
            let geometry = try Self.columnGeometry(seed: seed, integerK: integerK, flipK: flipK)
            for fused in Self.kernelVersions {
                let pd = try JohnTransformProjector<Double>(geometry: geometry, channels: channels, indices: nil,
                                                            columnPath: true, fusedKernels: fused)
                let x: Tensor<Double> = randomTensor(pd.volumeShape, seed: UInt64(seed))
                let y: Tensor<Double> = randomTensor(pd.projectionsShape, seed: UInt64(100 + seed))
                let lhs = dot(try pd.checkedApply(x), y), rhs = dot(x, try pd.checkedApplyAdjoint(y))
                #expect(abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1), "Double, seed \(seed), fused \(fused): \(lhs) vs \(rhs)")

                let pf = try JohnTransformProjector<Float>(geometry: geometry, channels: channels, indices: nil,
                                                           columnPath: true, fusedKernels: fused)
                let xf: Tensor<Float> = randomTensor(pf.volumeShape, seed: UInt64(seed), as: Float.self)
                let yf: Tensor<Float> = randomTensor(pf.projectionsShape, seed: UInt64(100 + seed), as: Float.self)
                let lf = dot(try pf.checkedApply(xf), yf), rf = dot(xf, try pf.checkedApplyAdjoint(yf))
                #expect(abs(lf - rf) <= 1e-4 * max(abs(lf), 1), "Float, seed \(seed), fused \(fused): \(lf) vs \(rf)")
            }
        }
    }

    /// Edge shapes: one z slice, one detector row or column, offsets that put
    /// every ray (or every row) outside the volume, half-voxel z offsets.
    @Test func edgeShapesMatchGeneralPath() throws {
        let shapes: [([Int], [Int], [Double], [Double])] = [
            ([5, 4, 1], [6, 1], [0.3, -0.2, 0.7], [0, 0.5, -0.5]),
            ([3, 6, 4], [1, 5], [0, 2.5, -1.25], [0.25, -3.75, 40]),
            ([4, 4, 3], [5, 4], [30, -30, 0.5], [0, 1e-14, -2.5]),
        ]
        for (volume, detector, jOffsets, kOffsets) in shapes {
            let geometry = try Geometry.fromAngles(innerAngles: [0.2, 1.1, 2.9], jOffsets: jOffsets, kOffsets: kOffsets,
                                                   volumeShape: volume, projectionShape: detector)
            for channels in [1, 2] {
                let general = try JohnTransformProjector<Double>(geometry: geometry, channels: channels, indices: nil,
                                                                 columnPath: false, fusedKernels: false)
                let fast = try JohnTransformProjector<Double>(geometry: geometry, channels: channels)
                #expect(fast.columnPlans.count == 3)
                let x: Tensor<Double> = randomTensor(fast.volumeShape, seed: 21)
                let y: Tensor<Double> = randomTensor(fast.projectionsShape, seed: 22)
                let (f1, f2) = (try general.checkedApply(x), try fast.checkedApply(x))
                let (a1, a2) = (try general.checkedApplyAdjoint(y), try fast.checkedApplyAdjoint(y))
                #expect(maxDifference(f1, f2) <= 1e-12 * max(maxMagnitude(f1), 1), "forward \(volume) \(detector)")
                #expect(maxDifference(a1, a2) <= 1e-12 * max(maxMagnitude(a1), 1), "adjoint \(volume) \(detector)")
                let lhs = dot(f2, y), rhs = dot(x, a2)
                #expect(abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1))
            }
        }
    }

    /// A z class of many projections (the adjoint sweeps them in chunks of at
    /// most 8 here, with a fractional z position) and fractional k offsets shared by all (edge rows
    /// on both ends): the adjoint equals the general path's to rounding, and
    /// is bit-identical for 1, 2 and 3 threads (its tiles change with the
    /// thread count, the order of each voxel's terms does not). The general
    /// path is the one ProjectorTests checks against mumott's forward and
    /// the dot-product test.
    @Test func manyProjectionsAdjointIsDeterministic() throws {
        let count = 41
        let geometry = try Geometry.fromAngles(innerAngles: (0..<count).map { Double($0) * 3.0 / Double(count) },
                                               jOffsets: (0..<count).map { 0.3 * sin(Double($0)) },
                                               kOffsets: [Double](repeating: 0.35, count: count),
                                               volumeShape: [11, 9, 6], projectionShape: [13, 5])
        for channels in [1, 3] {
            let fast = try JohnTransformProjector<Double>(geometry: geometry, channels: channels)
            // (Rounding of the rotations splits off a few projections into a second class.)
            #expect(fast.columnPlans.count == count && fast.columnClasses.map(\.count).max()! >= 3 * 8)
            let general = try JohnTransformProjector<Double>(geometry: geometry, channels: channels, indices: nil,
                                                             columnPath: false, fusedKernels: false)
            let y: Tensor<Double> = randomTensor(fast.projectionsShape, seed: 31)
            let reference = try general.checkedApplyAdjoint(y)
            var results: [[Double]] = []
            for threads in [1, 2, 3] {
                results.append(try Parallel.withThreadCount(threads) { try fast.checkedApplyAdjoint(y).elements })
            }
            #expect(results[1] == results[0] && results[2] == results[0], "channels \(channels)")
            let a = Tensor<Double>(shape: fast.volumeShape, elements: results[0])
            #expect(maxDifference(a, reference) <= 1e-12 * maxMagnitude(reference), "channels \(channels)")
        }
    }

    /// Tilted projections keep the general kernels; a mixed geometry runs
    /// both paths in one application and still matches the general path.
    @Test func tiltsUseGeneralPath() throws {
        let geometry = try Geometry.fromAngles(innerAngles: [0, 0.4, 0.9, 1.3], outerAngles: [0, 0.3, 0, -0.2],
                                               kOffsets: [0.25, 0, -0.5, 0.1],
                                               volumeShape: [8, 7, 6], projectionShape: [9, 7])
        let fast = try JohnTransformProjector<Double>(geometry: geometry, channels: 2)
        #expect(fast.usesColumnPath(0) && !fast.usesColumnPath(1) && fast.usesColumnPath(2) && !fast.usesColumnPath(3))
        let general = try JohnTransformProjector<Double>(geometry: geometry, channels: 2, indices: nil,
                                                         columnPath: false, fusedKernels: false)
        let x: Tensor<Double> = randomTensor(fast.volumeShape, seed: 5)
        let y: Tensor<Double> = randomTensor(fast.projectionsShape, seed: 6)
        let (f1, f2) = (try general.checkedApply(x), try fast.checkedApply(x))
        let (a1, a2) = (try general.checkedApplyAdjoint(y), try fast.checkedApplyAdjoint(y))
        #expect(maxDifference(f1, f2) <= 1e-12 * maxMagnitude(f1))
        #expect(maxDifference(a1, a2) <= 1e-12 * maxMagnitude(a1))
        let tilted = try Geometry.fromAngles(innerAngles: [0.3], outerAngles: [0.1], volumeShape: [4, 4, 4], projectionShape: [4, 4])
        #expect(try JohnTransformProjector<Double>(geometry: tilted).columnPlans.isEmpty)
    }

    /// The benchmark geometry (mumott's default single-axis scan) takes the
    /// column path for every projection, and a subset keeps the setting.
    @Test func benchmarkGeometryUsesColumnPath() throws {
        let geometry = try Geometry.fromAngles(innerAngles: (0..<120).map { Double($0) * Double.pi / 120 },
                                               volumeShape: [50, 50, 50], projectionShape: [50, 50])
        let projector = try JohnTransformProjector<Double>(geometry: geometry)
        #expect(projector.columnPlans.count == 120)
        #expect(projector.columnPlans.allSatisfy { $0.zHigh == 0 })
        #expect(try projector.subset([3, 7]).columnPlans.count == 2)
    }
}

/// Whether this CPU runs the AVX2 + FMA kernels.
let bl_haveFused = defaultFusedKernels()

func maxDifference<T: RealElement>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    zip(a.elements, b.elements).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
}

func maxMagnitude<T: RealElement>(_ a: Tensor<T>) -> Double {
    a.elements.reduce(0.0) { max($0, abs(Double($1))) }
}
