import BeamlineTestSupport
@testable import BeamlineDetector
import BeamlineIO
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Foundation
import Testing

// Reference values: hand calculations stated in each test, the independent
// numba implementation Benchmarks/peers/thick_detector_numba.py, SciPy's
// lsmr, and pyFAI 2026.9, all stored by Tests/Fixtures/generate_detector.py in
// Fixtures/detector.json.

/// The 64×64 window with gap bands and dead pixels used by the fixture.
func window64(_ f: Fixtures) throws -> ThickSensorModel {
    let g = try f.entry("window64_geometry").data
    let gapRows = try f.entry("window64_gap_rows").data.map { $0 != 0 }
    let gapColumns = try f.entry("window64_gap_cols").data.map { $0 != 0 }
    var detector = try Detector(rows: 64, columns: 64, pixelSize1: g[0], pixelSize2: g[1], gapRows: gapRows,
                                gapColumns: gapColumns)
    try detector.addMask(f.bool("window64_dead"))
    return ThickSensorModel(detector: detector, geometry: try PONIGeometry(distance: g[4], poni1: g[2], poni2: g[3]),
                            sensor: try Sensor(thickness: g[5], mu: g[6]))
}

func csr(_ f: Fixtures, _ tag: String) throws -> CSRMatrix<Double> {
    let data = try f.entry("window64_\(tag)_data").data
    let indices = try f.entry("window64_\(tag)_indices").data.map { Int32($0) }
    let indptr = try f.entry("window64_\(tag)_indptr").data.map { Int64($0) }
    return try CSRMatrix(rows: 4096, columns: 4096, rowPointers: indptr, columnIndices: indices, values: data)
}

func maxDifference(_ a: CSRMatrix<Double>, _ b: CSRMatrix<Double>) -> Double {
    var worst = 0.0
    for (x, y) in zip(a.toDense().elements, b.toDense().elements) { worst = max(worst, abs(x - y)) }
    return worst
}

func maxBalanceError(_ p: PointSpreadMatrix<Double>, _ detector: Detector) -> Double {
    let sums = p.matrix.rowSums().elements
    let transmitted = p.transmitted.elements, side = p.sideLost.elements, masked = p.absorbedInMasked.elements
    var worst = 0.0
    for k in 0..<sums.count where !detector.isMasked(row: k / detector.columns, column: k % detector.columns) {
        let total = sums[k] + transmitted[k] + side[k] + masked[k]
        worst = max(worst, abs(total - 1))
    }
    return worst
}

@Suite("Thick-sensor point-spread matrices")
struct ThickSensorTests {
    let f: Fixtures
    init() throws { f = try Fixtures.load("detector.json") }

    /// Normal incidence: the PONI at the centre of pixel (2, 2), one ray per
    /// pixel, so that pixel's ray is exactly normal. Hand calculation: it
    /// deposits 1 − exp(−μT) in pixel (2, 2) only and transmits exp(−μT).
    @Test func normalIncidenceDepositsInEntryPixelOnly() throws {
        let p = 172e-6, mu = 1537.02, t = 450e-6
        let model = ThickSensorModel(detector: try Detector(rows: 5, columns: 5, pixelSize1: p, pixelSize2: p),
                                     geometry: try PONIGeometry(distance: 0.1, poni1: 2.5 * p, poni2: 2.5 * p),
                                     sensor: try Sensor(thickness: t, mu: mu))
        for psf in [try model.raytrace(sample: 1, as: Double.self), try model.exact(subpixels: 1, as: Double.self)] {
            let row = 2 * 5 + 2
            let start = Int(psf.matrix.rowPointers[row]), end = Int(psf.matrix.rowPointers[row + 1])
            #expect(end - start == 1)
            #expect(psf.matrix.columnIndices[start] == Int32(row))
            // 1e-15: one exp and one subtraction (raytrace) or expm1 (closed form).
            #expect(abs(psf.matrix.values[start] - (-expm1(-mu * t))) < 1e-15)
            #expect(abs(psf.transmitted.elements[12] - exp(-mu * t)) < 1e-15)
        }
    }

    /// An oblique ray at 45° in the column direction, entering the centre of
    /// pixel 0 of a 1×3 detector, T = p: it crosses into pixel 1 at depth
    /// p/2 and leaves the back at depth p, so its path lengths are
    /// (p/2)√2 in each pixel (the geometric lengths). By hand, with μp = 0.5:
    /// pixel 0 gets 1 − e^{−0.5/√2} = 0.2978115..., pixel 1 gets
    /// e^{−0.5/√2} − e^{−1/√2} = 0.2091199...
    @Test func obliqueRaySplitsByGeometricPathLengths() throws {
        let p = 100e-6, dist = 0.05
        let model = ThickSensorModel(detector: try Detector(rows: 1, columns: 3, pixelSize1: p, pixelSize2: p),
                                     geometry: try PONIGeometry(distance: dist, poni1: 0.5 * p, poni2: 0.5 * p - dist),
                                     sensor: try Sensor(thickness: p, mu: 0.5 / p))
        let psf = try model.raytrace(sample: 1, as: Double.self)
        let first = -expm1(-0.5 / 2.0.squareRoot())
        let second = exp(-0.5 / 2.0.squareRoot()) - exp(-1 / 2.0.squareRoot())
        #expect(psf.matrix[0, 0].isApproximatelyEqual(to: first, relativeTolerance: 1e-14))
        #expect(psf.matrix[0, 1].isApproximatelyEqual(to: second, relativeTolerance: 1e-14))
        #expect(abs(first - 0.2978115) < 1e-7 && abs(second - 0.2091199) < 1e-7)
        #expect(psf.transmitted.elements[0].isApproximatelyEqual(to: exp(-1 / 2.0.squareRoot()), relativeTolerance: 1e-14))
        // A general oblique ray (pixel 1 of a wider detector): deposits equal
        // exp(−μ t_in) − exp(−μ t_out) with t from the crossing depths
        // computed here independently: crossing at z where x2 = 2p.
        let model2 = ThickSensorModel(detector: try Detector(rows: 1, columns: 5, pixelSize1: p, pixelSize2: p),
                                      geometry: try PONIGeometry(distance: 0.01, poni1: 0.5 * p, poni2: -0.002),
                                      sensor: try Sensor(thickness: 450e-6, mu: 1537.02))
        let psf2 = try model2.raytrace(sample: 1, as: Double.self)
        let x = 1.5 * p, k2 = x + 0.002, uz = 0.01 / (k2 * k2 + 1e-4).squareRoot()
        var depths = [0.0]
        var boundary = 2.0
        while (boundary * p - x) * 0.01 / k2 < 450e-6 { depths.append((boundary * p - x) * 0.01 / k2); boundary += 1 }
        depths.append(450e-6)
        for c in 0..<(depths.count - 1) {
            let expected = exp(-1537.02 * depths[c] / uz) - exp(-1537.02 * depths[c + 1] / uz)
            #expect(psf2.matrix[1, 1 + c].isApproximatelyEqual(to: expected, relativeTolerance: 1e-13))
        }
    }

    /// Conservation: row sum + transmitted + side-lost + absorbed in masked
    /// pixels = 1 for every traced pixel, to rounding (1e-14 for sums of a
    /// few hundred terms of size ≤ 1).
    @Test func energyBalance() throws {
        let model = try window64(f)
        #expect(maxBalanceError(try model.raytrace(sample: 3, as: Double.self), model.detector) < 1e-14)
        #expect(maxBalanceError(try model.exact(subpixels: 2, as: Double.self), model.detector) < 1e-14)
        let psf = try model.raytrace(sample: 3, as: Double.self)
        #expect(psf.sideLost.elements.max()! > 0.01)      // the window's edges and gaps lose energy
        #expect(psf.absorbedInMasked.elements.max()! > 0) // dead pixels absorb
    }

    /// The closed form against Gauss–Legendre quadrature (20 nodes on each
    /// interval between the depths where the footprint crosses a pixel
    /// boundary, where the integrand m e^{−mz} L₁(z) L₂(z) is smooth):
    /// agreement to 1e-15 absolute (entries ≤ 1; a few ulp of the largest).
    @Test func closedFormMatchesQuadrature() throws {
        let p = 172e-6, t = 1000e-6, mu = 1537.02, dist = 0.03
        let model = ThickSensorModel(detector: try Detector(rows: 9, columns: 9, pixelSize1: p, pixelSize2: p),
                                     geometry: try PONIGeometry(distance: dist, poni1: -0.004, poni2: 0.0031),
                                     sensor: try Sensor(thickness: t, mu: mu))
        let psf = try model.exact(subpixels: 1, as: Double.self)
        let (nodes, weights) = gaussLegendre(20)
        for (i, j) in [(4, 4), (0, 8), (8, 0)] {
            let c1 = (Double(i) + 0.5) * p + 0.004, c2 = (Double(j) + 0.5) * p - 0.0031
            let v1 = c1 / dist / p, v2 = c2 / dist / p
            let m = mu * (c1 * c1 + c2 * c2 + dist * dist).squareRoot() / dist
            var cuts = [0.0, t]
            for e in [Double(i), Double(i + 1)] { for k in -20...20 { let z = (Double(i + k) - e) / v1; if z > 0 && z < t { cuts.append(z) } } }
            for e in [Double(j), Double(j + 1)] { for k in -20...20 { let z = (Double(j + k) - e) / v2; if z > 0 && z < t { cuts.append(z) } } }
            cuts.sort()
            for a in 0..<9 {
                for b in 0..<9 {
                    var total = 0.0
                    for q in 0..<(cuts.count - 1) where cuts[q + 1] > cuts[q] {
                        let half = 0.5 * (cuts[q + 1] - cuts[q]), mid = 0.5 * (cuts[q + 1] + cuts[q])
                        for (x, w) in zip(nodes, weights) {
                            let z = mid + half * x
                            let l1 = max(0, min(Double(i + 1) + v1 * z, Double(a + 1)) - max(Double(i) + v1 * z, Double(a)))
                            let l2 = max(0, min(Double(j + 1) + v2 * z, Double(b + 1)) - max(Double(j) + v2 * z, Double(b)))
                            total += w * half * m * exp(-m * z) * l1 * l2
                        }
                    }
                    #expect(abs(psf.matrix[i * 9 + j, a * 9 + b] - total) < 1e-15, "entry (\(i),\(j)) → (\(a),\(b))")
                }
            }
        }
    }

    /// Convergence of the raytrace to the closed form (curves also in
    /// docs/detector.md): with one direction per S×S sub-face the raytrace
    /// converges to exact(S) as sample grows; with per-ray directions and a
    /// fine sample, exact(S) approaches it as S grows.
    @Test func raytraceConvergesToExact() throws {
        let p = 172e-6
        var detector = try Detector(rows: 10, columns: 10, pixelSize1: p, pixelSize2: p,
                                    gapRows: (0..<10).map { $0 == 6 }, gapColumns: [Bool](repeating: false, count: 10))
        try detector.addMask(Tensor(shape: [10, 10], elements: (0..<100).map { $0 == 23 }))
        let model = ThickSensorModel(detector: detector,
                                     geometry: try PONIGeometry(distance: 0.02, poni1: 0.0002, poni2: -0.002),
                                     sensor: try Sensor(thickness: 1000e-6, mu: 1537.02))
        for s in [1, 2] {
            let exact = try model.exact(subpixels: s, as: Double.self).matrix
            var errors: [Double] = []
            for n in [4, 16, 64] {
                errors.append(maxDifference(try model.raytrace(sample: n * s, directions: .perSubface(s), as: Double.self).matrix, exact))
            }
            #expect(errors[1] < errors[0] / 3 && errors[2] < errors[1] / 3, "S=\(s): \(errors)")
            #expect(errors[2] < 1.5e-3, "S=\(s): \(errors)")
        }
        let fine = try model.raytrace(sample: 96, as: Double.self).matrix
        var errors: [Double] = []
        for s in [1, 2, 4, 8] { errors.append(maxDifference(try model.exact(subpixels: s, as: Double.self).matrix, fine)) }
        #expect(errors[1] < errors[0] && errors[2] < errors[1], "per-ray vs exact(S): \(errors)")
    }

    /// The Swift matrices equal the numba peer's on the 64×64 window with
    /// gaps and dead pixels (same algorithm, independent code): same sparsity
    /// pattern, values to 1e-14 absolute (differences of exp evaluations).
    @Test func agreesWithNumbaPeer() throws {
        let model = try window64(f)
        for (tag, psf) in [("ray4", try model.raytrace(sample: 4, as: Double.self)),
                           ("exact2", try model.exact(subpixels: 2, as: Double.self))] {
            let reference = try csr(f, tag)
            #expect(psf.matrix.rowPointers == reference.rowPointers, "\(tag)")
            #expect(psf.matrix.columnIndices == reference.columnIndices, "\(tag)")
            let worst = zip(psf.matrix.values, reference.values).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-14, "\(tag): \(worst)")
            for (mine, name) in [(psf.transmitted, "transmitted"), (psf.sideLost, "side"), (psf.absorbedInMasked, "masked")] {
                #expect(maxAbsoluteError(mine.reshaped([4096]), try f.real("window64_\(tag)_\(name)").reshaped([4096])) < 1e-14, "\(tag) \(name)")
            }
        }
        // Float matrices: the same values rounded once.
        let single = try model.raytrace(sample: 4, as: Float.self).matrix
        #expect(single.values == (try csr(f, "ray4")).values.map { Float($0) })
    }

    /// Same bits with 1 and 2 threads.
    @Test func deterministicAcrossThreadCounts() throws {
        let model = try window64(f)
        let (one, oneExact) = try Parallel.withThreadCount(1) {
            (try model.raytrace(sample: 2, as: Double.self), try model.exact(as: Double.self))
        }
        let (two, twoExact) = try Parallel.withThreadCount(2) {
            (try model.raytrace(sample: 2, as: Double.self), try model.exact(as: Double.self))
        }
        #expect(one.matrix == two.matrix && oneExact.matrix == twoExact.matrix)
        #expect(one.transmitted == two.transmitted)
    }

    /// SciPy round trip: the file written by scipy.sparse.save_npz loads to
    /// the matrix Swift computes, and Swift's save loads back identically
    /// (scipy.sparse.load_npz reads it: SciPyFileTests in BeamlineSparse).
    @Test func scipyRoundTrip() throws {
        let url = Bundle.module.url(forResource: "Fixtures/window64_scipy", withExtension: "npz")
            ?? Bundle.module.url(forResource: "window64_scipy", withExtension: "npz", subdirectory: "Fixtures")!
        let loaded = try CSRMatrix<Double>.load(contentsOf: url)
        let mine = try window64(f).raytrace(sample: 4, as: Double.self).matrix
        #expect(loaded.rowPointers == mine.rowPointers && loaded.columnIndices == mine.columnIndices)
        #expect(zip(loaded.values, mine.values).allSatisfy { abs($0 - $1) < 1e-14 })
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("psf-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: out) }
        try mine.save(to: out)
        #expect(try CSRMatrix<Double>.load(contentsOf: out) == mine)
    }
}

@Suite("Deconvolution against SciPy lsmr and a NumPy MLEM")
struct DeconvolutionTests {
    let f: Fixtures
    init() throws { f = try Fixtures.load("detector.json") }

    /// Same matrix (the peer's raytraced window), same data; LSMR with
    /// atol = btol = conlim = 0 and 20 iterations as scipy's, agreement to
    /// 1e-9 relative (different summation orders over 20 iterations); MLEM 20
    /// iterations, 1e-11 relative.
    @Test func lsmrAndMLEMMatchReferences() throws {
        let matrix = try csr(f, "ray4")
        let y = try f.real("deconv_y").reshaped([64, 64])
        let l = try Deconvolution.deconvolve(matrix: matrix, image: y, method: .lsmr,
                                             lsmr: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 20))
        #expect(maxRelativeError(l.corrected.reshaped([4096]), try f.real("lsmr_x"), floor: 1) < 1e-9)
        let m = try Deconvolution.deconvolve(matrix: matrix, image: y, method: .mlem, mlem: .init(maximumIterations: 20))
        #expect(maxRelativeError(m.corrected.reshaped([4096]), try f.real("mlem_x"), floor: 1) < 1e-11)
        #expect(m.corrected.elements.allSatisfy { $0.isFinite } && m.residual.elements.allSatisfy { $0.isFinite })
    }

    /// Masked pixels with garbage (NaN, negative) data are excluded: no NaN,
    /// and the fit ignores them (the corrected image is unchanged).
    @Test func maskedPixelsAreExcluded() throws {
        let matrix = try csr(f, "ray4")
        var values = try f.entry("deconv_y").data
        let clean = try Deconvolution.deconvolve(matrix: matrix, image: Tensor(shape: [64, 64], elements: values),
                                                 method: .mlem, mlem: .init(maximumIterations: 5))
        var flags = [Bool](repeating: false, count: 4096)
        values[3 * 64 + 3] = .nan; flags[3 * 64 + 3] = true
        values[60 * 64 + 1] = -5; flags[60 * 64 + 1] = true
        let y = Tensor(shape: [64, 64], elements: values), mask = Tensor(shape: [64, 64], elements: flags)
        for method in Deconvolution.Method.allCases {
            let r = try Deconvolution.deconvolve(matrix: matrix, image: y, method: method, mask: mask,
                                                 lsmr: .init(maximumIterations: 5), mlem: .init(maximumIterations: 5))
            #expect(r.corrected.elements.allSatisfy { $0.isFinite }, "\(method)")
            // gap row 31 is never reached, so it is excluded too
            #expect(r.residual.elements[3 * 64 + 3] == 0 && r.excluded.elements[3 * 64 + 3] && r.excluded.elements[31 * 64])
        }
        #expect(clean.excluded.elements[31 * 64])
        #expect(throws: DetectorError.self) {
            try Deconvolution.deconvolve(matrix: matrix, image: y, method: .lsmr) // NaN on a read-out pixel
        }
    }
}

@Suite("Detector catalogue, geometry, absorption and bad input")
struct DetectorModelTests {
    let f: Fixtures
    init() throws { f = try Fixtures.load("detector.json") }

    /// Shapes, pixel sizes and gap-mask counts equal pyFAI's definitions.
    @Test func catalogueMatchesPyFAI() throws {
        let rows = try f.entry("catalogue").data
        for (k, name) in Detector.catalogueNames.enumerated() {
            let d = try Detector.named(name)
            let r = Array(rows[(5 * k)..<(5 * k + 5)])
            #expect(Double(d.rows) == r[0] && Double(d.columns) == r[1], "\(name)")
            #expect(d.pixelSize1 == r[2] && d.pixelSize2 == r[3], "\(name)")
            #expect(Double(d.gapMask.elements.filter { $0 }.count) == r[4], "\(name)")
        }
        #expect(try Detector.named("pilatus-1m").name == "Pilatus1M")
    }

    /// pyFAI's calc_pos_zyx for a tilted detector, to 1e-15 m; and the
    /// incidence angle (lab ray · lab normal) equals the detector-frame one,
    /// whatever the rotations.
    @Test func geometryMatchesPyFAI() throws {
        let g = try PONIGeometry(distance: 0.2845, poni1: 0.08865, poni2: 0.08931, rot1: 0.1, rot2: -0.2, rot3: 0.3)
        let pixels = try f.entry("pyfai_lab_pixels").data, zyx = try f.entry("pyfai_lab_zyx").data
        let normal = g.labNormal
        for k in 0..<3 {
            let x1 = (pixels[2 * k] + 0.5) * 172e-6, x2 = (pixels[2 * k + 1] + 0.5) * 172e-6
            let lab = g.labPosition(x1: x1, x2: x2)
            #expect(abs(lab.z - zyx[3 * k]) < 1e-15 && abs(lab.y - zyx[3 * k + 1]) < 1e-15 && abs(lab.x - zyx[3 * k + 2]) < 1e-15)
            let norm = (lab.z * lab.z + lab.y * lab.y + lab.x * lab.x).squareRoot()
            let cosine = (lab.z * normal.z + lab.y * normal.y + lab.x * normal.x) / norm
            #expect(abs(cosine - g.incidenceDirection(x1: x1, x2: x2).2) < 1e-14)
        }
    }

    /// NIST SRD 126 values: Si μ_en/ρ = 9.794 cm²/g at 15 keV (a table
    /// point); log–log interpolation at 17.8 keV computed by hand from the
    /// 15 and 20 keV points; Ge's K edge at 11.1031 keV: 26.53 below, 115.7
    /// above (μ_en/ρ).
    @Test func absorptionTables() throws {
        #expect(try SensorMaterial.silicon.massCoefficient(energy: 15) == 9.794)
        let f = log(17.8 / 15) / log(20.0 / 15)
        let expected = exp(log(9.794) + f * log(4.076 / 9.794))
        #expect(try SensorMaterial.silicon.massCoefficient(energy: 17.8).isApproximatelyEqual(to: expected, relativeTolerance: 1e-14))
        #expect(try Sensor(material: .silicon, energy: 17.8, thickness: 450e-6).mu.isApproximatelyEqual(to: expected * 233, relativeTolerance: 1e-14))
        #expect(try SensorMaterial.silicon.massCoefficient(energy: 17.8, kind: .attenuation) > expected)
        #expect(try SensorMaterial.germanium.massCoefficient(energy: 11.1031) == 115.7)
        #expect(try SensorMaterial.germanium.massCoefficient(energy: 11.1030) < 26.6)
        #expect(try SensorMaterial.cadmiumTelluride.massCoefficient(energy: 26.7112, kind: .attenuation) == 29.43)
        #expect(try SensorMaterial.galliumArsenide.massCoefficient(energy: 20) == 31.89)
        #expect(try SensorMaterial.named("gaas") == .galliumArsenide)
    }

    @Test func badInputsThrowTypedErrors() throws {
        #expect(throws: DetectorError.invalidArgument(name: "thickness", expected: "a finite thickness > 0 m", received: "0.0")) {
            try Sensor(thickness: 0, mu: 100)
        }
        #expect(throws: DetectorError.self) { try Sensor(thickness: -1e-4, mu: 100) }
        #expect(throws: DetectorError.self) { try Sensor(thickness: 1e-4, mu: .nan) }
        #expect(throws: DetectorError.energyOutOfRange(argument: "energy", energy: 0.5, minimum: 1, maximum: 1000)) {
            try Sensor(material: .silicon, energy: 0.5, thickness: 450e-6)
        }
        #expect(throws: DetectorError.self) { try SensorMaterial.silicon.massCoefficient(energy: 2000) }
        #expect(throws: DetectorError.raysParallelToSensor(argument: "distance", received: "0.0 m")) {
            try PONIGeometry(distance: 0, poni1: 0, poni2: 0)
        }
        #expect(throws: DetectorError.self) { try PONIGeometry(distance: -0.1, poni1: 0, poni2: 0) }
        #expect(throws: DetectorError.self) { try PONIGeometry(distance: 0.1, poni1: .infinity, poni2: 0) }
        var d = try Detector.named("Pilatus100k")
        #expect(throws: DetectorError.shapeMismatch(argument: "mask", expected: [195, 487], received: [487, 195])) {
            try d.addMask(Tensor(shape: [487, 195], repeating: false))
        }
        #expect(throws: DetectorError.self) { try Detector.named("Pilatus7M") }
        #expect(throws: DetectorError.self) { try Detector(rows: 0, columns: 3, pixelSize1: 1e-4, pixelSize2: 1e-4) }
        #expect(throws: DetectorError.self) { try SensorMaterial.named("unobtainium") }
        let model = try window64(f)
        #expect(throws: DetectorError.self) { try model.raytrace(sample: 0, as: Double.self) }
        #expect(throws: DetectorError.self) { try model.raytrace(sample: 2, directions: .perSubface(0), as: Double.self) }
        #expect(throws: DetectorError.self) { try model.exact(subpixels: 0, as: Double.self) }
        let matrix = try csr(f, "ray4")
        #expect(throws: DetectorError.self) {
            try Deconvolution.deconvolve(matrix: matrix, image: Tensor(shape: [10], repeating: 1.0), method: .lsmr)
        }
        #expect(throws: DetectorError.self) {
            try Deconvolution.deconvolve(matrix: matrix, image: Tensor(shape: [64, 64], repeating: -1.0), method: .mlem)
        }
        _ = d
    }
}

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n).
func gaussLegendre(_ n: Int) -> ([Double], [Double]) {
    var nodes = [Double](), weights = [Double]()
    for k in 1...n {
        var x = cos(Double.pi * (Double(k) - 0.25) / (Double(n) + 0.5))
        var derivative = 0.0
        for _ in 0..<100 {
            var p0 = 1.0, p1 = x
            for m in 2...n {
                let p2 = ((2 * Double(m) - 1) * x * p1 - (Double(m) - 1) * p0) / Double(m)
                p0 = p1; p1 = p2
            }
            derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
            let dx = p1 / derivative
            x -= dx
            if abs(dx) < 1e-17 { break }
        }
        nodes.append(x)
        weights.append(2 / ((1 - x * x) * derivative * derivative))
    }
    return (nodes, weights)
}

@Suite("Detector on the operator seam: the blur's adjoint, stopping builders and deconvolution")
struct DetectorSeamTests {
    func model() throws -> ThickSensorModel {
        let p = 172e-6
        return ThickSensorModel(detector: try Detector(rows: 12, columns: 10, pixelSize1: p, pixelSize2: p),
                                geometry: try PONIGeometry(distance: 0.02, poni1: 2 * p, poni2: 3 * p),
                                sensor: try Sensor(thickness: 1e-3, mu: 300))
    }

    /// ⟨B x, y⟩ = ⟨x, Bᵀ y⟩ for the masked blur, with and without excluded
    /// pixels that hold entries (the column-dropping path).
    @Test func maskedBlurAdjoint() throws {
        let psf = try model().raytrace(sample: 3, as: Double.self)
        let n = psf.matrix.rows
        for excluded in [[Bool](repeating: false, count: n), (0..<n).map { $0 % 7 == 3 }] {
            let op = try MaskedBlurOperator(matrix: psf.matrix, excluded: excluded)
            let x = Tensor<Double>.normal([n], seed: 5), y = Tensor<Double>.normal([n], seed: 6)
            let bx = op.apply(x), bty = op.applyAdjoint(y)
            let lhs = zip(bx.elements, y.elements).reduce(0) { $0 + $1.0 * $1.1 }
            let rhs = zip(x.elements, bty.elements).reduce(0) { $0 + $1.0 * $1.1 }
            // Sums of a few dozen products: 1e-14 relative.
            #expect(abs(lhs - rhs) <= 1e-14 * (bx.norm() * y.norm() + x.norm() * bty.norm()))
            // Excluded pixels never receive blur.
            for k in 0..<n where excluded[k] { #expect(bx[at: k] == 0) }
        }
        #expect(throws: DetectorError.self) { _ = try MaskedBlurOperator(matrix: psf.matrix, excluded: [true]) }
    }

    @Test func buildersStop() throws {
        let m = try model()
        #expect(throws: DetectorError.cancelled(rowsDone: 120, total: 120)) {
            _ = try m.raytrace(sample: 2, as: Double.self, progress: { _ in .stop })
        }
        #expect(throws: DetectorError.cancelled(rowsDone: 120, total: 120)) {
            _ = try m.exact(subpixels: 1, as: Double.self, progress: { _ in .stop })
        }
        let psf = try m.exact(subpixels: 1, as: Double.self, progress: { p in
            p.iteration <= p.maximumIterations && p.maximumIterations == 120 ? .continue : .stop
        })
        #expect(psf.matrix.rows == 120)
    }

    @Test func deconvolutionStops() throws {
        let psf = try model().raytrace(sample: 3, as: Double.self)
        let image = psf.matrix.applyAdjoint(Tensor<Double>(shape: [120], repeating: 1))
        for method in Deconvolution.Method.allCases {
            var calls = 0
            let r = try Deconvolution.deconvolve(matrix: psf.matrix, image: image, method: method,
                                                 lsmr: .init(atol: 0, btol: 0, conlim: 0, maximumIterations: 30),
                                                 mlem: .init(maximumIterations: 30)) { _ in
                calls += 1
                return calls == 2 ? .stop : .continue
            }
            #expect(r.stopReason == .cancelled && r.iterations == 2, "\(method)")
            #expect(r.corrected.shape == [120] && r.residualHistory.count == 2)
        }
    }
}
