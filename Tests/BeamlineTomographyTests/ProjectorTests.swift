import BeamlineTestSupport
import BeamlineSolvers
import BeamlineTensor
import Foundation
import Testing
@testable import BeamlineTomography

/// A geometry from a fixture entry written by generate_tomography.py.
func fixtureGeometry(_ f: Fixtures, _ name: String) throws -> Geometry {
    let r = try f.entry(name + "_rotations")
    let rotations = (0..<r.shape[0]).map { Matrix3(rowMajor: Array(r.data[($0 * 9)..<($0 * 9 + 9)])) }
    return try Geometry(rotations: rotations, jOffsets: try f.entry(name + "_j_offsets").data,
                        kOffsets: try f.entry(name + "_k_offsets").data,
                        volumeShape: try f.entry(name + "_volume_shape").data.map { Int($0) },
                        projectionShape: try f.entry(name + "_projection_shape").data.map { Int($0) })
}

@Suite("John-transform projector")
struct ProjectorTests {
    /// mumott 2.3 SAXSProjector.forward (float64), from generate_tomography.py
    /// (single axis at six angles; every 18° over 180° on a volume as wide as
    /// the detector; tilts with offsets and three channels; the rotations are
    /// mumott's own from the angles: before the fourth session of 2026-12-03
    /// the generator left them at the identity, so only unrotated rays were
    /// checked), compared on the rays the generator marked as never within one voxel of
    /// a lower face (mumott's lower-edge clamp differs there by design).
    /// Tolerance 1e-9 relative (the issue's); mumott runs with fastmath and
    /// accumulates positions incrementally, so ~1e-14 differences are expected.
    @Test(arguments: ["axis", "steps", "tilt"])
    func matchesMumottForward(_ name: String) throws {
        let f = try Fixtures.load("tomography.json")
        let geometry = try fixtureGeometry(f, name)
        let volume: Tensor<Double> = try f.real(name + "_volume")
        let expected: Tensor<Double> = try f.real(name + "_forward")
        let mask = try f.entry(name + "_mask").data
        let projector = try JohnTransformProjector<Double>(geometry: geometry, channels: volume.shape[3])
        let got = try projector.checkedApply(volume)
        #expect(got.shape == expected.shape)
        let c = volume.shape[3]
        let (g, e) = (got.elements, expected.elements)
        var worst = 0.0, compared = 0
        for ray in 0..<mask.count where mask[ray] == 1 {
            for ch in 0..<c {
                let i = ray * c + ch
                worst = max(worst, abs(g[i] - e[i]) / max(abs(e[i]), 1e-300))
                compared += 1
            }
        }
        // At least a third of the values are compared (the tilted case, whose
        // rays cross the lower faces most, keeps 750 of 1512).
        #expect(compared > mask.count * c / 3, "\(compared) of \(mask.count * c) values compared")
        #expect(worst <= 1e-9, "max relative error \(worst) over \(compared) values")
    }

    /// ⟨P x, y⟩ = ⟨x, Pᵀ y⟩ for random tilted geometries with offsets: the
    /// adjoint uses the forward's own weights, so in Double the two sides
    /// agree to rounding (~1e-15 relative; we demand 1e-12), in Float to
    /// ~1e-6 relative for sums of a few thousand terms (we demand 1e-4).
    ///
    /// Seeds 4 and 5 are single-axis scans (no tilt, integer k offsets),
    /// which take the column path; ColumnPathTests covers it further.
    @Test(arguments: [1, 3])
    func adjointDotProduct(channels: Int) throws {
        for seed in 0..<6 {
            let n = 5 + seed
            let flat = seed >= 4
            let inner = (0..<n).map { Double($0) * 0.71 + Double(seed) }
            let outer = (0..<n).map { flat ? 0 : sin(Double($0 + seed)) * 0.9 }
            let z = flat ? 5 : 7 - seed
            let geometry = try Geometry.fromAngles(innerAngles: inner, outerAngles: outer,
                                                   jOffsets: (0..<n).map { cos(Double($0)) * 1.3 },
                                                   kOffsets: (0..<n).map { flat ? Double($0 % 3 - 1) : sin(Double($0) * 2) * 0.7 },
                                                   volumeShape: [6 + seed, 5, z], projectionShape: [8, flat ? z : 7 + seed])
            let pd = try JohnTransformProjector<Double>(geometry: geometry, channels: channels)
            let x: Tensor<Double> = randomTensor(pd.volumeShape, seed: UInt64(seed))
            let y: Tensor<Double> = randomTensor(pd.projectionsShape, seed: UInt64(100 + seed))
            let lhs = dot(try pd.checkedApply(x), y), rhs = dot(x, try pd.checkedApplyAdjoint(y))
            #expect(abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1), "Double: \(lhs) vs \(rhs)")

            let pf = try JohnTransformProjector<Float>(geometry: geometry, channels: channels)
            let xf: Tensor<Float> = randomTensor(pf.volumeShape, seed: UInt64(seed), as: Float.self)
            let yf: Tensor<Float> = randomTensor(pf.projectionsShape, seed: UInt64(100 + seed), as: Float.self)
            let lf = dot(try pf.checkedApply(xf), yf), rf = dot(xf, try pf.checkedApplyAdjoint(yf))
            #expect(abs(lf - rf) <= 1e-4 * max(abs(lf), 1), "Float: \(lf) vs \(rf)")
        }
    }

    /// With the identity rotation the beam is +y and the detector axes are
    /// x (j) and z (k), so a J = X, K = Z detector sees exact sums along y.
    @Test func identityRotationSumsAlongBeam() throws {
        let geometry = try Geometry(rotations: [.identity], volumeShape: [5, 4, 6], projectionShape: [5, 6])
        let projector = try JohnTransformProjector<Double>(geometry: geometry, channels: 2)
        let volume: Tensor<Double> = randomTensor([5, 4, 6, 2], seed: 7)
        let p = try projector.checkedApply(volume)
        for x in 0..<5 { for z in 0..<6 { for c in 0..<2 {
            let sum = (0..<4).reduce(0.0) { $0 + volume[at: x, $1, z, c] }
            #expect(abs(p[at: 0, x, z, c] - sum) < 1e-12)
        } } }
    }

    /// A uniform ball of radius R: each ray's projection is the chord length
    /// 2 √(R² − ρ²). The ball is voxelised by supersampling (4³ per voxel),
    /// so the error is interpolation plus voxelisation; rays away from the
    /// rim (ρ < R − 2) are within half a voxel of the chord (worst measured
    /// 0.36 for chords of ≈ 9–16, where the rim crossings' partial volumes
    /// add up) and 0.1 on average, for several oblique directions.
    @Test func ballChordLengths() throws {
        let n = 24, radius = 8.0
        var values = [Double](repeating: 0, count: n * n * n)
        for x in 0..<n { for y in 0..<n { for z in 0..<n {
            var inside = 0
            for a in 0..<4 { for b in 0..<4 { for c in 0..<4 {
                let px = Double(x) + (Double(a) + 0.5) / 4 - Double(n) / 2
                let py = Double(y) + (Double(b) + 0.5) / 4 - Double(n) / 2
                let pz = Double(z) + (Double(c) + 0.5) / 4 - Double(n) / 2
                if px * px + py * py + pz * pz <= radius * radius { inside += 1 }
            } } }
            values[(x * n + y) * n + z] = Double(inside) / 64
        } } }
        let volume = Tensor(shape: [n, n, n, 1], elements: values)
        let geometry = try Geometry.fromAngles(innerAngles: [0, 0.4, 1.1], outerAngles: [0, 0.3, -0.6],
                                               volumeShape: [n, n, n], projectionShape: [n, n])
        let p = try JohnTransformProjector<Double>(geometry: geometry).checkedApply(volume)
        var worst = 0.0, total = 0.0, counted = 0
        for i in 0..<3 { for j in 0..<n { for k in 0..<n {
            let (u, w) = (Double(j) + 0.5 - Double(n) / 2, Double(k) + 0.5 - Double(n) / 2)
            let rho2 = u * u + w * w
            guard rho2.squareRoot() < radius - 2 else { continue }
            let error = abs(p[at: i, j, k, 0] - 2 * (radius * radius - rho2).squareRoot())
            worst = max(worst, error)
            total += error
            counted += 1
        } } }
        #expect(worst < 0.5, "worst chord error \(worst)")
        #expect(total / Double(counted) < 0.1, "mean chord error \(total / Double(counted))")
    }

    /// The lower-edge behaviour mumott gets wrong, against an analytic value:
    /// a ray at j-position −0.5 + 0.25 (index-space position −0.75 along x)
    /// through a volume whose only non-zero voxel layer is x = 0 with value 1
    /// sees weight 1 − 0.75 = 0.25 per slice, so its sum is 0.25 · Y.
    /// (mumott gives that weight to layer x = 1 and returns 0 here.)
    @Test func lowerEdgeIsInterpolatedAgainstZero() throws {
        let (nx, ny, nz) = (4, 5, 3)
        var volume = Tensor<Double>(shape: [nx, ny, nz, 1], repeating: 0)
        for y in 0..<ny { for z in 0..<nz { volume[at: 0, y, z, 0] = 1 } }
        // Detector of J = 4 with offset −0.75: pixel 0's ray is at x-index −0.75.
        let geometry = try Geometry(rotations: [.identity], jOffsets: [-0.75], volumeShape: [nx, ny, nz],
                                    projectionShape: [nx, nz])
        let p = try JohnTransformProjector<Double>(geometry: geometry).checkedApply(volume)
        for k in 0..<nz {
            #expect(abs(p[at: 0, 0, k, 0] - 0.25 * Double(ny)) < 1e-12)
            #expect(abs(p[at: 0, 1, k, 0] - 0.75 * Double(ny)) < 1e-12)
        }
    }

    /// A subset projector equals the matching slices of the full one.
    @Test func subsetMatchesFullProjection() throws {
        let geometry = try Geometry.fromAngles(innerAngles: [0, 0.5, 1, 1.5, 2], volumeShape: [6, 6, 4], projectionShape: [7, 4])
        let full = try JohnTransformProjector<Float>(geometry: geometry, channels: 2)
        let volume: Tensor<Float> = randomTensor(full.volumeShape, seed: 3, as: Float.self)
        let all = try full.checkedApply(volume)
        let some = try full.subset([3, 1]).checkedApply(volume)
        #expect(some.shape == [2, 7, 4, 2])
        let per = 7 * 4 * 2
        #expect(Array(some.elements[0..<per]) == Array(all.elements[(3 * per)..<(4 * per)]))
        #expect(Array(some.elements[per..<(2 * per)]) == Array(all.elements[per..<(2 * per)]))
    }

    /// The same bits with 1 and 2 threads (fixed work split per output element).
    @Test func deterministicAcrossThreadCounts() throws {
        let geometry = try Geometry.fromAngles(innerAngles: (0..<12).map { Double($0) * 0.3 },
                                               outerAngles: (0..<12).map { Double($0 % 3) * 0.2 },
                                               volumeShape: [24, 20, 16], projectionShape: [26, 18])
        let projector = try JohnTransformProjector<Float>(geometry: geometry, channels: 3)
        let x: Tensor<Float> = randomTensor(projector.volumeShape, seed: 11, as: Float.self)
        let y: Tensor<Float> = randomTensor(projector.projectionsShape, seed: 12, as: Float.self)
        let (f1, a1) = try Parallel.withThreadCount(1) { (try projector.checkedApply(x), try projector.checkedApplyAdjoint(y)) }
        let (f2, a2) = try Parallel.withThreadCount(2) { (try projector.checkedApply(x), try projector.checkedApplyAdjoint(y)) }
        #expect(f1 == f2)
        #expect(a1 == a2)
    }
}
