import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import BeamlineTestSupport
import Foundation
import Testing
@testable import BeamlineTomography

/// A tensor-tomography geometry from tensor_tomography.json
/// (Tests/Fixtures/generate_tensor_tomography.py, mumott 2.3).
func tensorGeometry(_ f: Fixtures, _ name: String) throws -> Geometry {
    let r = try f.entry(name + "_rotations")
    let rotations = (0..<r.shape[0]).map { Matrix3(rowMajor: Array(r.data[($0 * 9)..<($0 * 9 + 9)])) }
    return try Geometry(rotations: rotations,
                        volumeShape: try f.entry(name + "_volume_shape").data.map { Int($0) },
                        projectionShape: try f.entry(name + "_projection_shape").data.map { Int($0) },
                        detectorAngles: try f.entry(name + "_detector_angles").data,
                        twoTheta: try f.entry(name + "_two_theta").data,
                        fullCircleCovered: try f.entry(name + "_full_circle").data[0] == 1)
}

func maxAbs(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite("Tensor tomography: probed coordinates and basis sets")
struct TensorTomographyBasisTests {
    /// mumott 2.3 `Geometry.probed_coordinates` (vector (N, K, 3, 3) and
    /// great_circle_offset) for a tilted SAXS geometry, a full-circle one and
    /// a WAXS one (2θ = 0.4) and one with three 2θ rings of 6 bins (18
    /// segments, the bin the fast index): to 1e-12 absolute (the issue's; the
    /// values are unit vectors computed by the same formulas, so they agree
    /// to ~1e-16).
    @Test(arguments: ["saxs", "full", "waxs", "rings"])
    func probedCoordinatesMatchMumott(_ name: String) throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, name)
        let pc = try g.probedCoordinates()
        let expected = try f.entry(name + "_probed")
        #expect([pc.projections, pc.segments, pc.samples, 3] == expected.shape)
        #expect(maxAbs(pc.vectors, expected.data) <= 1e-12)
        #expect(maxAbs(pc.greatCircleOffsets, try f.entry(name + "_offset").data) <= 1e-12)
    }

    /// mumott's `ell_indices` / `emm_indices`, and the real spherical
    /// harmonics at every probed point (`_get_projection_matrix`), ℓmax 6 with
    /// Friedel symmetry on SAXS and WAXS coordinates, ℓmax 3 without: to
    /// 1e-12 (scipy's factorial-normalised Legendre functions vs our
    /// normalised recurrence differ by ~1e-15 at these orders).
    @Test func sphericalHarmonicValuesMatchMumott() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let sh = try SphericalHarmonics(ellMax: 6)
        #expect(sh.ellIndices == (try f.entry("sh_ell").data.map { Int($0) }))
        #expect(sh.emmIndices == (try f.entry("sh_emm").data.map { Int($0) }))
        #expect(sh.count == 28)
        #expect(try SphericalHarmonics(ellMax: 8).count == 45)
        for name in ["saxs", "waxs"] {
            let pc = try tensorGeometry(f, name).probedCoordinates()
            #expect(maxAbs(sh.pointValues(for: pc).elements, try f.entry(name + "_sh_points").data) <= 1e-12)
        }
        let odd = try SphericalHarmonics(ellMax: 3, friedelSymmetry: false)
        let pc = try tensorGeometry(f, "saxs").probedCoordinates()
        #expect(maxAbs(odd.pointValues(for: pc).elements, try f.entry("sh_noFriedel_points").data) <= 1e-12)
    }

    /// Projection matrices against mumott's: the midpoint and fixed 9-point
    /// Simpson matrices to 1e-12 (same points, same weights); the adaptive
    /// matrix to mumott's convergence tolerance (1e-5 of the largest entry:
    /// both stop at the same doubling, so in practice they agree to ~1e-15).
    /// For WAXS ("waxs", 2θ = 0.4; "rings", three 2θ rings) the reference
    /// is the correct integral, not mumott's matrix: mumott takes the arc
    /// angle between centred vectors of length cos(2θ/2) as if they were unit
    /// vectors, so its points leave the sphere (largest entry difference 0.61
    /// of 2.52 on "waxs"; on "rings" a point reaches z > 1 and mumott gives
    /// NaN in 24 entries). generate_tensor_tomography.py computes the correct
    /// matrices with mumott's basis values on the true arc, with mumott's
    /// rules; for "saxs" (2θ = 0) it checks that they equal mumott's.
    @Test(arguments: ["saxs", "waxs", "rings"])
    func projectionMatricesMatchMumott(_ name: String) throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let pc = try tensorGeometry(f, name).probedCoordinates()
        let mid = try SphericalHarmonics(ellMax: 6, integration: .midpoint).projectionMatrix(for: pc)
        #expect(maxAbs(mid.elements, try f.entry(name + "_sh_midpoint").data) <= 1e-12)
        let fixed = try SphericalHarmonics(ellMax: 6, integration: .simpson(points: 9)).projectionMatrix(for: pc)
        #expect(maxAbs(fixed.elements, try f.entry(name + "_sh_simpson9").data) <= 1e-12)
        let (adaptive, converged) = try SphericalHarmonics(ellMax: 6).projectionMatrixWithConvergence(for: pc)
        let expected = try f.entry(name + "_sh_adaptive").data
        let largest = expected.map(abs).max()!
        #expect(converged)
        #expect(maxAbs(adaptive.elements, expected) <= 1e-5 * largest)
        #expect(adaptive.elements.allSatisfy { $0.isFinite })
        if name != "saxs" {
            // mumott's own matrix differs by far more than the tolerance (and
            // has NaN on "rings").
            let mumott = try f.entry(name + "_sh_adaptive_mumott").data   // its NaN stored as 0
            let gap = zip(adaptive.elements, mumott).map { abs($0 - $1) }.max()!
            #expect(gap > 0.1 * largest)
        }
    }

    /// 4π normalisation: the mean of Y_ℓm·Y_ℓ'm' over a fine sphere grid is
    /// the identity (to the θ grid's midpoint-rule error, ~3e-4 for 120 rows;
    /// the φ grid is exact for these orders).
    @Test func sphericalHarmonicsAreOrthonormal() throws {
        let sh = try SphericalHarmonics(ellMax: 4, friedelSymmetry: false)
        var points = [SIMD3<Double>](), weights = [Double]()
        let nt = 120, np = 64
        for i in 0..<nt {
            let theta = (Double(i) + 0.5) * Double.pi / Double(nt)
            for j in 0..<np {
                let phi = Double(j) * 2 * Double.pi / Double(np)
                points.append(SIMD3(sin(theta) * cos(phi), sin(theta) * sin(phi), cos(theta)))
                weights.append(sin(theta) * (Double.pi / Double(nt)) * (2 * Double.pi / Double(np)) / (4 * Double.pi))
            }
        }
        let v = sh.values(at: points)
        let c = sh.count
        var worst = 0.0
        for a in 0..<c {
            for b in 0..<c {
                var s = 0.0
                for p in points.indices { s += weights[p] * v[p * c + a] * v[p * c + b] }
                worst = max(worst, abs(s - (a == b ? 1 : 0)))
            }
        }
        #expect(worst < 1e-3)
    }

    /// The rank-2 tensor's quadratic form reproduces the ℓ ≤ 2 function, and
    /// the main orientation of a fibre along a known axis is that axis.
    @Test func rank2TensorAndOrientation() throws {
        let sh = try SphericalHarmonics(ellMax: 2)
        let c: [Double] = [0.7, 0.1, -0.3, 0.25, 0.05, -0.2]
        let t = try sh.rank2Tensor(c)
        for u in [SIMD3<Double>(1, 0, 0), SIMD3(0.3, -0.5, 0.81), SIMD3(-0.6, 0.64, 0.48)] {
            let n = u / (u * u).sum().squareRoot()
            let v = sh.values(at: [n])
            let f = zip(v, c).reduce(0) { $0 + $1.0 * $1.1 }
            var q = 0.0
            for i in 0..<3 { for j in 0..<3 { q += n[i] * t[i * 3 + j] * n[j] } }
            #expect(abs(f - q) < 1e-12)
        }
        // A function peaked along d: the ℓ ≤ 2 projection of (d·u)².
        let d = SIMD3<Double>(0.48, 0.6, 0.64)
        var coefficients = [Double](repeating: 0, count: 6)
        for (i, y) in sh.values(at: [d]).enumerated() { coefficients[i] = y }  // reproducing kernel at d
        let maps = try sh.derivedQuantities(Tensor(shape: [1, 1, 1, 6], elements: coefficients))
        let o = maps.mainOrientation.elements
        #expect(abs(abs(o[0] * d.x + o[1] * d.y + o[2] * d.z) - 1) < 1e-12)
    }

    /// mumott 2.3 `GaussianKernels` (grid scale 2, kernel scale 1.2; grid
    /// scale 3 without Friedel symmetry): the Kurihara grid and the values at
    /// the probed points to 1e-12, the adaptive matrix to mumott's tolerance
    /// (1e-5 of the largest entry); its operator's adjoint is exact.
    @Test func gaussianKernelsMatchMumott() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, "saxs")
        let pc = try g.probedCoordinates()
        let gk = try GaussianKernels(gridScale: 2, kernelScale: 1.2)
        #expect(gk.count == 18)
        #expect(maxAbs(gk.theta, try f.entry("gk_theta").data) <= 1e-12)
        #expect(maxAbs(gk.phi, try f.entry("gk_phi").data) <= 1e-12)
        #expect(maxAbs(gk.pointValues(for: pc).elements, try f.entry("gk_points").data) <= 1e-12)
        let expected = try f.entry("gk_adaptive").data
        #expect(maxAbs(gk.projectionMatrix(for: pc).elements, expected) <= 1e-5 * expected.map(abs).max()!)
        let full = try GaussianKernels(gridScale: 3, friedelSymmetry: false)
        #expect(full.count == 64)
        #expect(maxAbs(full.pointValues(for: pc).elements, try f.entry("gk_nofriedel_points").data) <= 1e-12)
        let op = try BasisSetOperator<Double>(matrix: gk.projectionMatrix(for: pc), projectionShape: g.projectionShape)
        #expect(adjointGap(op, seed: 21) < 1e-12)
        #expect(throws: TomographyError.self) { try GaussianKernels(gridScale: -1) }
        #expect(throws: TomographyError.self) { try GaussianKernels(kernelScale: 0) }
    }

    /// mumott 2.3 `NearestNeighbor` on 12 directions of random lengths
    /// (generate_tensor_tomography.py): the indicator values at the probed
    /// points with and without Friedel symmetry exactly (they are 0 or 1;
    /// the distances are compared in the same order, so ties resolve alike),
    /// the default adaptive matrix (tolerance 1e-3, which does not converge
    /// in 10 doublings on these jumps in mumott either: both return the
    /// 2049-point rule, so they agree to rounding, 1e-12), the matrix with
    /// `enforce_sparsity=True, sparsity_count=2`, and `get_output`'s mean
    /// intensity, eigenvalues (mumott lists them increasing, Beamline
    /// decreasing) and fractional anisotropy to 1e-12, and the eigenvector of
    /// the largest eigenvalue (mumott's `eigenvector_3`) up to sign.
    @Test func nearestNeighborMatchesMumott() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, "saxs")
        let pc = try g.probedCoordinates()
        let d = try f.entry("nn_directions").data
        let directions = (0..<(d.count / 3)).map { SIMD3(d[3 * $0], d[3 * $0 + 1], d[3 * $0 + 2]) }
        let nn = try NearestNeighbor(directions: directions)
        #expect(nn.count == 12)
        #expect(nn.pointValues(for: pc).elements == (try f.entry("nn_points").data))
        let noFriedel = try NearestNeighbor(directions: directions, friedelSymmetry: false)
        #expect(noFriedel.pointValues(for: pc).elements == (try f.entry("nn_nofriedel_points").data))
        #expect(maxAbs(nn.projectionMatrix(for: pc).elements, try f.entry("nn_adaptive").data) <= 1e-12)
        let sparse = try NearestNeighbor(directions: directions, sparsityCount: 2)
        #expect(maxAbs(sparse.projectionMatrix(for: pc).elements, try f.entry("nn_sparse2").data) <= 1e-12)
        let op = try BasisSetOperator<Double>(matrix: nn.projectionMatrix(for: pc), projectionShape: g.projectionShape)
        #expect(adjointGap(op, seed: 22) < 1e-12)

        let c = try f.entry("nn_coefficients")
        let maps = try nn.derivedQuantities(Tensor<Double>(shape: c.shape, elements: c.data))
        #expect(maxAbs(maps.meanIntensity.elements, try f.entry("nn_mean").data) <= 1e-12)
        #expect(maxAbs(maps.eigenvalues.elements, try f.entry("nn_eigenvalues_descending").data) <= 1e-12)
        #expect(maxAbs(maps.fractionalAnisotropy.elements, try f.entry("nn_anisotropy").data) <= 1e-12)
        let expected = try f.entry("nn_largest_eigenvector").data
        let got = maps.mainOrientation.elements
        for v in 0..<(got.count / 3) {
            let dot = (0..<3).reduce(0.0) { $0 + got[3 * v + $1] * expected[3 * v + $1] }
            #expect(abs(abs(dot) - 1) <= 1e-10, "voxel \(v): main orientation differs beyond its sign")
        }

        #expect(throws: TomographyError.self) { try NearestNeighbor(directions: []) }
        #expect(throws: TomographyError.invalidArgument(name: "directions[1]", expected: "a finite, non-zero vector",
                                                        received: "(0.0, 0.0, 0.0)")) {
            try NearestNeighbor(directions: [SIMD3(1, 0, 0), .zero])
        }
        #expect(throws: TomographyError.self) { try NearestNeighbor(directions: [SIMD3(.nan, 0, 1)]) }
        #expect(throws: TomographyError.invalidArgument(name: "sparsityCount", expected: "≥ 1", received: "0")) {
            try NearestNeighbor(directions: directions, sparsityCount: 0)
        }
        #expect(throws: TomographyError.self) { try nn.derivedQuantities(Tensor<Double>.zeros([2, 2, 2, 5])) }
    }

    @Test func badInput() throws {
        #expect(throws: TomographyError.self) { try SphericalHarmonics(ellMax: 3) }
        #expect(throws: TomographyError.self) { try SphericalHarmonics(ellMax: -2) }
        #expect(throws: TomographyError.self) { try SphericalHarmonics(ellMax: 2, integration: .simpson(points: 4)) }
        #expect(throws: TomographyError.self) { try TrivialBasis(channels: 0) }
        let g = try Geometry(rotations: [.identity], volumeShape: [2, 2, 2], projectionShape: [2, 2])
        #expect(throws: TomographyError.self) { try g.probedCoordinates() }  // zero segments
        var g2 = g
        g2.detectorAngles = [0, 1]
        #expect(throws: TomographyError.self) { try g2.probedCoordinates(integrationSamples: 0) }
        do {
            _ = try SphericalHarmonics(ellMax: 5)
            Issue.record("odd ℓmax accepted")
        } catch {
            #expect(error.description.contains("ellMax"))
        }
    }
}

/// The residual-calculator fixture: geometry, data, weights, coefficients.
func calculatorFixture<T: OperatorScalar>(_ f: Fixtures, as: T.Type = Double.self) throws
    -> GradientResidualCalculator<T, SphericalHarmonics> {
    let g = try tensorGeometry(f, "saxs")
    var calc = try GradientResidualCalculator<T, SphericalHarmonics>(
        geometry: g, basisSet: try SphericalHarmonics(ellMax: 4),
        data: try f.real("calc_data", as: T.self), weights: try f.real("calc_weights", as: T.self))
    calc.coefficients = try f.real("calc_coefficients", as: T.self)
    return calc
}

@Suite("Tensor tomography: residual calculator")
struct TensorTomographyCalculatorTests {
    /// mumott 2.3 `GradientResidualCalculator.get_residuals` with
    /// `SAXSProjector`, on coefficients that are zero within two voxels of
    /// every face (where mumott's lower-edge clamp would differ): to 1e-10
    /// relative to the largest residual (mumott's kernel runs with fastmath;
    /// its matrix is the adaptive one, converged the same way).
    @Test func residualsMatchMumott() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        var calc = try calculatorFixture(f)
        let matrix = try calc.projectionMatrix()
        let expectedMatrix = try f.entry("calc_matrix").data
        #expect(maxAbs(matrix.elements, expectedMatrix) <= 1e-5 * expectedMatrix.map(abs).max()!)
        let r = try calc.residuals()
        let expected = try f.entry("calc_residuals").data
        #expect(r.residuals.shape == (try f.entry("calc_residuals").shape))
        #expect(maxAbs(r.residuals.elements, expected) <= 1e-10 * expected.map(abs).max()!)
        #expect(r.gradient == nil && r.weights == nil)
    }

    /// Dot-product tests, ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ to 1e-12 relative in Double:
    /// the spherical-harmonic basis operator (adaptive and midpoint), the
    /// trivial basis, and the composed B∘P.
    @Test func adjointsAreExact() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, "saxs")
        let pc = try g.probedCoordinates()
        for basis in [try SphericalHarmonics(ellMax: 4).projectionMatrix(for: pc),
                      try SphericalHarmonics(ellMax: 6, integration: .midpoint).projectionMatrix(for: pc),
                      try TrivialBasis(channels: 3).projectionMatrix(for: pc)] {
            let op = try BasisSetOperator<Double>(matrix: basis, projectionShape: g.projectionShape)
            #expect(adjointGap(op, seed: 11) < 1e-12)
        }
        var calc = try calculatorFixture(f)
        let model = try calc.forwardModel()
        #expect(model.inputShape == [6, 7, 5, 15] && model.outputShape == [5, 9, 8, 8])
        #expect(adjointGap(model, seed: 3) < 1e-12)
    }

    /// The gradient is the true gradient of ½ Σ w r² (and of ½ Σ r²):
    /// central finite differences in Double along random directions, to
    /// 1e-7 relative (the loss is quadratic, so the central difference is
    /// exact up to rounding).
    @Test(arguments: [false, true])
    func gradientMatchesFiniteDifferences(weighted: Bool) throws {
        let f = try Fixtures.load("tensor_tomography.json")
        var calc = try calculatorFixture(f)
        let c0 = calc.coefficients
        let out = try calc.residuals(gradient: true, weighted: weighted)
        let g = out.gradient!
        func loss(_ c: Tensor<Double>) throws -> Double {
            calc.coefficients = c
            let r = try calc.residuals(weighted: weighted)
            let w = r.weights?.elements ?? [Double](repeating: 1, count: r.residuals.count)
            return 0.5 * zip(r.residuals.elements, w).reduce(0) { $0 + $1.1 * $1.0 * $1.0 }
        }
        for seed in 0..<3 {
            let d = Tensor<Double>.normal(c0.shape, seed: UInt64(seed) + 100)
            let h = 1e-3
            let plus = try loss(Tensor(shape: c0.shape, elements: zip(c0.elements, d.elements).map { $0 + h * $1 }))
            let minus = try loss(Tensor(shape: c0.shape, elements: zip(c0.elements, d.elements).map { $0 - h * $1 }))
            let numeric = (plus - minus) / (2 * h)
            let analytic = dot(g, d)
            #expect(abs(numeric - analytic) <= 1e-7 * abs(analytic), "seed \(seed): \(numeric) vs \(analytic)")
        }
    }

    /// `gradient(fromResidualGradient:)` of w·r is the weighted gradient,
    /// bit for bit.
    @Test func gradientFromResidualGradient() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        var calc = try calculatorFixture(f)
        let out = try calc.residuals(gradient: true, weighted: true)
        let wr = Tensor(shape: out.residuals.shape, elements: zip(out.residuals.elements, out.weights!.elements).map { $0 * $1 })
        #expect(try calc.gradient(fromResidualGradient: wr).elements == out.gradient!.elements)
        #expect(throws: TomographyError.self) { try calc.gradient(fromResidualGradient: .zeros([1, 2])) }
    }

    /// Float agrees with Double to single precision (1e-4 relative to the
    /// largest residual / gradient entry).
    @Test func floatMatchesDouble() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        var d = try calculatorFixture(f)
        var s = try calculatorFixture(f, as: Float.self)
        let rd = try d.residuals(gradient: true, weighted: true), rs = try s.residuals(gradient: true, weighted: true)
        let a = rd.residuals.elements, b = rs.residuals.elements.map(Double.init)
        #expect(maxAbs(a, b) <= 1e-4 * a.map(abs).max()!)
        let ga = rd.gradient!.elements, gb = rs.gradient!.elements.map(Double.init)
        #expect(maxAbs(ga, gb) <= 1e-4 * ga.map(abs).max()!)
    }

    /// Caching: nothing is rebuilt while geometry and basis are unchanged;
    /// an offset change rebuilds the projector only; a rotation, a detector
    /// angle or the basis rebuild the matrix.
    @Test func dirtiness() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        var calc = try calculatorFixture(f)
        #expect(!calc.isDirty)
        _ = try calc.residuals(gradient: true)
        _ = try calc.residuals()
        #expect(calc.matrixBuilds == 1 && calc.projectorBuilds == 1)
        calc.geometry.jOffsets[2] = 0.5
        #expect(calc.isDirty)
        _ = try calc.residuals()
        #expect(calc.matrixBuilds == 1 && calc.projectorBuilds == 2)
        calc.geometry.detectorAngles[0] += 0.01
        _ = try calc.residuals()
        #expect(calc.matrixBuilds == 2)
        calc.basisSet.integration = .midpoint
        #expect(calc.isDirty)
        _ = try calc.residuals()
        #expect(calc.matrixBuilds == 3 && !calc.isDirty)
    }

    /// Scalar-projection mode fits (N, J, K, 1) projections with the
    /// segment-mean matrix and the segment-mean weights.
    @Test func scalarProjections() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, "saxs")
        let data: Tensor<Double> = try f.real("calc_data")
        let scalar = Tensor<Double>(shape: [5, 9, 8, 1], repeating: 0.5)
        var calc = try GradientResidualCalculator<Double, SphericalHarmonics>(
            geometry: g, basisSet: try SphericalHarmonics(ellMax: 2), data: data,
            scalarProjections: scalar, useScalarProjections: true)
        let out = try calc.residuals(gradient: true, weighted: true)
        #expect(out.residuals.shape == [5, 9, 8, 1])
        #expect(out.residuals.elements.allSatisfy { $0 == -0.5 })
        #expect(out.weights!.elements.allSatisfy { $0 == 1 })
        #expect(adjointGap(try calc.forwardModel(), seed: 5) < 1e-12)
    }

    @Test func badInputIsTyped() throws {
        let f = try Fixtures.load("tensor_tomography.json")
        let g = try tensorGeometry(f, "saxs")
        let sh = try SphericalHarmonics(ellMax: 2)
        let good: Tensor<Double> = try f.real("calc_data")
        #expect(throws: TomographyError.self) {
            try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: g, basisSet: sh, data: .zeros([5, 9, 8, 7]))
        }
        var nan = good
        nan[at: 0, 0, 0, 0] = .nan
        #expect(throws: TomographyError.self) {
            try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: g, basisSet: sh, data: nan)
        }
        #expect(throws: TomographyError.self) {
            try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: g, basisSet: sh, data: good,
                                                                       weights: Tensor(shape: good.shape, repeating: -1))
        }
        #expect(throws: TomographyError.self) {
            try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: g, basisSet: sh, data: good, useScalarProjections: true)
        }
        var noSegments = g
        noSegments.detectorAngles = []
        #expect(throws: TomographyError.self) {
            try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: noSegments, basisSet: sh, data: good)
        }
        var calc = try GradientResidualCalculator<Double, SphericalHarmonics>(geometry: g, basisSet: sh, data: good)
        calc.coefficients = .zeros([2, 2, 2, 6])
        #expect(throws: TomographyError.self) { try calc.residuals() }
    }
}
