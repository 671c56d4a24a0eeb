import BeamlineCrystallography
import BeamlineTensor
import Foundation
import Testing

/// The table, maps and expected values written by
/// Tests/Fixtures/generate_crystallography.py (an independent NumPy
/// implementation of cbclib v0.7.2's formulas with Beamline's corrections).
struct CBCFixture {
    let f: Fixtures
    let table: CBCTable
    let maps: ProjectionMaps

    init() throws {
        let f = try Fixtures.load("crystallography.json")
        self.f = f
        func ints(_ name: String) throws -> [Int32] { try f.integer(name).elements.map { Int32($0) } }
        func floats(_ name: String) throws -> [Float] { try f.real(name, as: Float.self).elements }
        let k = try floats("kins"), h = try ints("hkl")
        table = try CBCTable(frames: try ints("frames"), streaks: try ints("index"), x: try ints("x"), y: try ints("y"),
                             counts: try floats("I_raw"), background: try floats("bgd"), profile: try floats("rp"),
                             kins: (0..<(k.count / 2)).map { SIMD2(k[2 * $0], k[2 * $0 + 1]) },
                             hkl: (0..<(h.count / 3)).map { SIMD3(h[3 * $0], h[3 * $0 + 1], h[3 * $0 + 2]) })
        maps = try ProjectionMaps(gridX: try f.real("grid_x").elements, gridY: try f.real("grid_y").elements,
                                  frames: [0, 1], values: try floats("maps"))
    }

    func doubles(_ name: String) throws -> [Double] { try f.real(name).elements }
    func scaler(_ symmetry: PointGroupSymmetry) throws -> IntensityScaler {
        try IntensityScaler(table: table, maps: maps, symmetry: symmetry)
    }
}

func maxRelative(_ a: [Double], _ b: [Double], floor: Double = 1e-300) -> Double {
    precondition(a.count == b.count, "lengths \(a.count) vs \(b.count)")
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(abs(y), floor)) }
    return worst
}

func resourceURL(_ name: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)
        ?? Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureError.missing(name)
    }
    return url
}

@Suite("CBC table")
struct CBCTableTests {
    @Test("npz (int64/float64, numpy.savez) and HDF5 (int32/float32, h5py) load to the fixture table")
    func files() throws {
        let fx = try CBCFixture()
        #expect(try CBCTable.read(from: resourceURL("table.npz")) == fx.table)
        #expect(try CBCTable.read(from: resourceURL("table.h5")) == fx.table)
    }

    @Test("write then read returns the table (npz and HDF5); maps too")
    func roundTrip() throws {
        let fx = try CBCFixture()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cbc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["t.npz", "t.h5"] {
            let url = dir.appendingPathComponent(name)
            try fx.table.write(to: url)
            #expect(try CBCTable.read(from: url) == fx.table)
        }
        for name in ["m.npz", "m.h5"] {
            let url = dir.appendingPathComponent(name)
            try fx.maps.write(to: url)
            #expect(try ProjectionMaps.read(from: url) == fx.maps)
        }
    }

    @Test("bad tables: typed errors naming the column")
    func badTables() throws {
        let t = try CBCFixture().table
        func make(frames: [Int32]? = nil, streaks: [Int32]? = nil, x: [Int32]? = nil, counts: [Float]? = nil,
                  profile: [Float]? = nil, hkl: [SIMD3<Int32>]? = nil) throws(CrystallographyError) -> CBCTable {
            try CBCTable(frames: frames ?? t.frames, streaks: streaks ?? t.streaks, x: x ?? t.x, y: t.y,
                         counts: counts ?? t.counts, background: t.background, profile: profile ?? t.profile,
                         kins: t.kins, hkl: hkl ?? t.hkl)
        }
        #expect(throws: CrystallographyError.shapeMismatch(argument: "x", expected: [t.count], received: [t.count - 1])) {
            try make(x: Array(t.x.dropLast()))
        }
        var negative = t.x; negative[3] = -1
        #expect(throws: CrystallographyError.self) { try make(x: negative) }
        var nan = t.counts; nan[0] = .nan
        #expect(throws: CrystallographyError.nonFiniteValues(argument: "I_raw")) { try make(counts: nan) }
        var rp = t.profile; rp[1] = -0.5
        do { _ = try make(profile: rp); Issue.record("accepted a negative profile") } catch {
            guard case let .argument(e) = error else { Issue.record("\(error)"); return }
            #expect(e.argument == "rp")
        }
        var frames = t.frames; frames[0] = frames[0] == 0 ? 1 : 0  // its streak now spans two frames
        do { _ = try make(frames: frames); Issue.record("accepted a streak in two frames") } catch {
            guard case let .argument(e) = error else { Issue.record("\(error)"); return }
            #expect(e.argument == "index")
        }
        var hkl = t.hkl; hkl[0] = SIMD3(9, 9, 9)
        do { _ = try make(hkl: hkl); Issue.record("accepted two hkl in a streak") } catch {
            guard case let .argument(e) = error else { Issue.record("\(error)"); return }
            #expect(e.argument == "hkl")
        }
        // Negative counts: accepted by the table, rejected by the Poisson criterion.
        var neg = t.counts; neg[2] = -3
        let tn = try make(counts: neg)
        #expect(throws: CrystallographyError.self) { try tn.checkPoissonCounts() }
        let sc = try IntensityScaler(table: tn, maps: try CBCFixture().maps)
        do { _ = try sc.criterion(sc.initialEstimate(), .poisson); Issue.record("accepted negative counts") } catch {
            guard case let .argument(e) = error else { Issue.record("\(error)"); return }
            #expect(e.argument == "I_raw")
        }
        _ = try sc.criterion(sc.initialEstimate(), .leastSquares(.l2))  // least squares accepts them
        // A column missing from a file's members.
        var cols = Dictionary(uniqueKeysWithValues: t.columns)
        cols["bgd"] = nil
        #expect(throws: CrystallographyError.file(path: "<memory>", problem: "no column \"bgd\"")) {
            try CBCTable(columns: cols)
        }
    }

    @Test("bad scaler input: unknown symmetry, bandwidth, empty frame, missing map, x length")
    func badScalerInput() throws {
        let fx = try CBCFixture()
        #expect(throws: CrystallographyError.unknownSymmetry(name: "6/mmm", known: ["none", "mmm", "4mm"])) {
            try PointGroupSymmetry(name: "6/mmm")
        }
        #expect(try PointGroupSymmetry(name: "4MM") == .fourMM)
        let sc = try fx.scaler(.mmm)
        for h in [0.0, -1.0, .nan] {
            do { _ = try sc.updatingMaps(sc.initialEstimate(), bandwidth: h); Issue.record("accepted bandwidth \(h)") } catch {
                guard case let .argument(e) = error else { Issue.record("\(error)"); return }
                #expect(e.argument == "bandwidth")
            }
            #expect(throws: CrystallographyError.self) { try sc.train(ScalingConfiguration(bandwidth: h)) }
        }
        // Maps with a third frame that has no rows.
        let three = try ProjectionMaps(gridX: fx.maps.gridX, gridY: fx.maps.gridY, frames: [0, 1, 7],
                                       values: fx.maps.values + [Float](repeating: 1, count: 20))
        #expect(throws: CrystallographyError.emptyFrame(frame: 7)) { try IntensityScaler(table: fx.table, maps: three) }
        // Maps without frame 1.
        let one = try ProjectionMaps(gridX: fx.maps.gridX, gridY: fx.maps.gridY, frames: [0],
                                     values: Array(fx.maps.values[0..<20]))
        #expect(throws: CrystallographyError.self) { try IntensityScaler(table: fx.table, maps: one) }
        #expect(throws: CrystallographyError.shapeMismatch(argument: "x", expected: [sc.parameterCount], received: [3])) {
            try sc.criterion([0, 0, 0])
        }
        #expect(throws: CrystallographyError.self) {
            try ProjectionMaps(gridX: [0, 0], gridY: [0], frames: [0], values: [1, 1])
        }
    }
}

@Suite("CBC criteria")
struct CBCCriterionTests {
    static let configurations: [(String, ScalingCriterion)] = [
        ("poisson", .poisson),
        ("ls_l2", .leastSquares(.l2)),
        ("ls_l1", .leastSquares(.l1)),
        ("ls_huber", .leastSquares(.huber)),
        ("ls_l2_cbclib", .leastSquares(.l2, compatibility: .constantSigmaGradient)),
        ("ls_huber_cbclib", .leastSquares(.huber, compatibility: [.constantSigmaGradient, .discontinuousHuber])),
    ]

    // Both sides sum the same float32 inputs in Double in different orders:
    // agreement to ~1e-14 relative; 1e-10 leaves room.
    @Test("values and gradients match the NumPy formulas (3 symmetries × 6 criteria × intercepts on/off)")
    func againstNumPy() throws {
        let fx = try CBCFixture()
        for symmetry in [PointGroupSymmetry.none, .mmm, .fourMM] {
            let sc = try fx.scaler(symmetry)
            let reflections = try fx.f.integer("reflections_\(symmetry.rawValue)").elements.map { Int32($0) }
            #expect(sc.reflections.flatMap { [$0.x, $0.y, $0.z] } == reflections)
            #expect(sc.streakReflection == (try fx.f.integer("streak_reflection_\(symmetry.rawValue)").elements.map { Int($0) }))
            let x = try fx.doubles("x_\(symmetry.rawValue)")
            for (name, criterion) in Self.configurations {
                for fit in [true, false] {
                    let tag = "\(name)_\(symmetry.rawValue)_\(fit ? "b" : "nob")"
                    let (v, g) = try sc.criterion(x, criterion, fitIntercept: fit)
                    let ev = try fx.doubles("value_\(tag)")[0]
                    let eg = try fx.doubles("grad_\(tag)")
                    #expect(abs(v - ev) <= 1e-10 * abs(ev), "\(tag): \(v) vs \(ev)")
                    let scale = eg.map(abs).max()!
                    #expect(maxRelative(g, eg, floor: scale) <= 1e-10, "\(tag)")
                }
            }
            let gain = try sc.gain(x, .poisson)
            #expect(maxRelative(gain, try fx.doubles("gain_poisson_\(symmetry.rawValue)"), floor: 1e-3) <= 1e-10)
            let gainH = try sc.gain(x, .leastSquares(.huber))
            #expect(maxRelative(gainH, try fx.doubles("gain_ls_huber_\(symmetry.rawValue)"), floor: 1e-3) <= 1e-10)
        }
    }

    // Central differences with step 1e-6 on smooth criteria: truncation
    // ~|f'''| h² ≈ 1e-10, rounding ~ε|f|/h ≈ 1e-9 for |f| ~ 10; 1e-6 of the
    // gradient's scale separates right from wrong (the constant-σ gradient
    // is off by ~10 %).
    @Test("exact gradients agree with central finite differences; cbclib's constant-σ gradient does not")
    func finiteDifferences() throws {
        let fx = try CBCFixture()
        let sc = try fx.scaler(.mmm)
        let x = try fx.doubles("x_mmm")
        for (name, criterion) in Self.configurations {
            for fit in [true, false] {
                let g = try sc.criterion(x, criterion, fitIntercept: fit).gradient
                var fd = [Double](repeating: 0, count: x.count)
                let h = 1e-6
                for i in x.indices {
                    var xp = x, xm = x
                    xp[i] += h; xm[i] -= h
                    fd[i] = (try sc.criterion(xp, criterion, fitIntercept: fit).value
                             - sc.criterion(xm, criterion, fitIntercept: fit).value) / (2 * h)
                }
                let scale = fd.map(abs).max()!
                let err = maxRelative(g, fd, floor: scale)
                if name.hasSuffix("cbclib") {
                    #expect(err > 1e-2, "\(name): the compatibility gradient should differ from the true one")
                } else if name == "ls_l1" || name == "ls_huber" {
                    // Kinks (|r| = 0 for l1, none for the C¹ Huber) are not hit at this x.
                    #expect(err <= 1e-6, "\(name) fit=\(fit): \(err)")
                } else {
                    #expect(err <= 1e-6, "\(name) fit=\(fit): \(err)")
                }
            }
        }
    }

    @Test("the continuous Huber is continuous at δ = 1.345; cbclib's jumps by the fixture's amount")
    func huberContinuity() throws {
        let fx = try CBCFixture()
        // One pixel with I and λ chosen so that r = (I − λ)/√λ crosses δ.
        func value(_ counts: Float, _ compat: CBCLibCompatibility) throws -> Double {
            let t = try CBCTable(frames: [0], streaks: [0], x: [0], y: [0], counts: [counts], background: [0], profile: [1],
                                 kins: [.zero], hkl: [SIMD3(1, 0, 0)])
            let sc = try IntensityScaler(table: t, gridShape: (1, 1))
            // λ = exp(θ) = 4, σ = 2: r = (I − 4)/2, r = δ at I = 6.69.
            return try sc.criterion([0, Foundation.log(4)], .leastSquares(.huber, compatibility: compat)).value
        }
        let below: Float = 6.69 - 1e-4, above: Float = 6.69 + 1e-4
        #expect(abs(try value(above, []) - value(below, [])) < 1e-3)
        let jump = try value(above, .discontinuousHuber) - value(below, .discontinuousHuber)
        let expectedJump = try fx.doubles("huber_jump")[0]
        #expect(abs(jump - expectedJump) < 1e-3)
    }
}

@Suite("CBC maps and merging")
struct CBCMapTests {
    @Test("bilinear χ at the rows matches NumPy's (1 − t, t) weights")
    func interpolation() throws {
        let fx = try CBCFixture()
        let chi = try fx.scaler(.none).interpolatedMaps
        let expected = try fx.f.real("chi", as: Float.self).elements
        // Both round the same Double interpolation to Float: equal to 1 ulp.
        #expect(maxRelative(chi.map(Double.init), expected.map(Double.init)) <= 2e-7)
        // At a grid node, the node's value; between nodes on x, the weighted mean.
        let m = fx.maps
        #expect(m.interpolate(framePosition: 1, at: SIMD2(Float(m.gridX[2]), Float(m.gridY[1]))) == m.values[20 + 1 * 5 + 2])
        let xmid = Float(0.75 * m.gridX[0] + 0.25 * m.gridX[1])
        let v = m.interpolate(framePosition: 0, at: SIMD2(xmid, Float(m.gridY[0])))
        #expect(abs(Double(v) - (0.75 * Double(m.values[0]) + 0.25 * Double(m.values[1]))) < 1e-6)
    }

    @Test("unmerged signal and kernel-regression map update match NumPy")
    func mapUpdate() throws {
        let fx = try CBCFixture()
        let sc = try fx.scaler(.mmm)
        let x = try fx.doubles("x_mmm")
        // Same Double arithmetic on the same inputs: 1e-12.
        #expect(maxRelative(try sc.unmergedSignal(x), try fx.doubles("unmerged_mmm"), floor: 1) <= 1e-12)
        let h = try fx.doubles("bandwidth")[0]
        let (updated, newX) = try sc.updatingMaps(x, bandwidth: h)
        // The maps are stored as Float: 1e-6 relative to the largest value.
        let expected = try fx.doubles("updated_maps_mmm")
        #expect(maxRelative(updated.maps.values.map(Double.init), expected, floor: expected.max()!) <= 1e-6)
        #expect(maxRelative(newX, try fx.doubles("updated_x_mmm"), floor: 1) <= 1e-6)
    }

    @Test("merged intensities, σ, counts and pixels match NumPy without NaN; .hkl text equals numpy.savetxt")
    func merging() throws {
        let fx = try CBCFixture()
        let sc = try fx.scaler(.mmm)
        let x = try fx.doubles("x_mmm")
        for symmetry in [PointGroupSymmetry.none, .mmm, .fourMM] {
            let m = try sc.mergedReflections(x, symmetry: symmetry)
            let s = symmetry.rawValue
            #expect(m.hkl.flatMap { [$0.x, $0.y, $0.z] } == (try fx.f.integer("merged_hkl_\(s)").elements.map { Int32($0) }))
            #expect(maxRelative(m.intensity, try fx.doubles("merged_intensity_\(s)")) <= 1e-12)
            #expect(maxRelative(m.sigma, try fx.doubles("merged_sigma_\(s)")) <= 1e-12)
            #expect(m.measurements == (try fx.f.integer("merged_counts_\(s)").elements.map { Int($0) }))
            #expect(m.pixels == (try fx.f.integer("merged_pixels_\(s)").elements.map { Int($0) }))
            #expect(!m.intensity.contains { $0.isNaN } && !m.sigma.contains { $0.isNaN })
        }
        let merged = try sc.mergedReflections(x, symmetry: .mmm).normalisedBySigma
        let expected = try String(contentsOf: resourceURL("merged_mmm.hkl"), encoding: .utf8)
        #expect(HKLFile.text(merged) == expected)
        let read = try HKLFile.parse(expected)
        #expect(read.hkl == merged.hkl && read.measurements == merged.measurements)
        #expect(maxRelative(read.intensity, merged.intensity) <= 0.005 / 4)  // two decimals of values ≥ 4
        #expect(throws: CrystallographyError.self) { try HKLFile.parse("1 2 3 4.0 nan 1\n") }
        #expect(throws: CrystallographyError.self) { try HKLFile.parse("1 2 3 4.0\n") }
    }

    @Test("unmerging the mmm parameters to the streaks and merging them for another symmetry keeps the model")
    func unmergeAndMerge() throws {
        let fx = try CBCFixture()
        let mmm = try fx.scaler(.mmm)
        let x = try fx.doubles("x_mmm")
        let (intercepts, _) = try mmm.model(x)
        let theta = try mmm.unmergedTheta(x)
        for target in [PointGroupSymmetry.none, .fourMM] {
            let other = mmm.merged(target)
            let y = try other.mergingTheta(intercepts: intercepts, theta: theta)
            #expect(y.count == other.parameterCount)
            // In this table every 4mm and every (h, k, l) class lies within one mmm class,
            // so the model is unchanged.
            let a = try mmm.modelledCounts(x), b = try other.modelledCounts(y)
            #expect(maxRelative(b, a) <= 1e-12)
            #expect(abs(try other.criterion(y).value - mmm.criterion(x).value) <= 1e-12 * abs(try mmm.criterion(x).value))
        }
        #expect(throws: CrystallographyError.self) { try mmm.mergingTheta(intercepts: [0], theta: theta) }
    }

    @Test("symmetry representatives: mmm takes |h|,|k|,|l|; 4mm also orders |h| ≤ |k|")
    func representatives() {
        #expect(PointGroupSymmetry.mmm.representative(of: SIMD3(-1, 2, -3)) == SIMD3(1, 2, 3))
        #expect(PointGroupSymmetry.fourMM.representative(of: SIMD3(-3, 2, -1)) == SIMD3(2, 3, 1))
        #expect(PointGroupSymmetry.none.representative(of: SIMD3(-3, 2, -1)) == SIMD3(-3, 2, -1))
    }
}
