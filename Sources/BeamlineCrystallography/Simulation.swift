import Foundation

/// A simulated CBC data set with known structure factors and smooth
/// projection maps, for tests, demonstrations and benchmarks.
///
/// Each frame holds straight streaks of a few pixels' width at random
/// positions and angles on a detector (crossing streaks share pixels). Row
/// j of a streak at distance d from the streak's axis and position t along
/// it has the profile f² = exp(−d²/(2 · 0.7²)) and aperture coordinates
/// u = (2t/L, v_s + 0.05 d), v_s ∈ [−0.5, 0.5] per streak. The maps are
/// χₙ(u) = 1 + 0.4 sin(1.5 uₓ + φₙ) cos(2 u_y), the background is constant,
/// the intercepts are zero, and a pixel's counts are a Poisson draw with
/// mean bgd + Σ |q|² χ f² over the rows sharing it. Intensities |q|² are
/// log-uniform in ``Configuration/intensityRange``, equal for reflections
/// equivalent under ``Configuration/symmetry``.
public struct CBCSimulation: Sendable {
    /// Parameters of the simulation.
    public struct Configuration: Sendable, Equatable {
        /// Number of frames.
        public var frames: Int
        /// Streaks per frame.
        public var streaksPerFrame: Int
        /// Detector width and height in pixels.
        public var detectorSize: Int
        /// Streak length in pixels.
        public var streakLength: Double
        /// Largest |h|, |k|, |l|.
        public var maximumIndex: Int32
        /// Range of |q|² (counts per unit profile).
        public var intensityRange: ClosedRange<Double>
        /// Background counts per pixel.
        public var background: Double
        /// Symmetry of the true structure factors.
        public var symmetry: PointGroupSymmetry
        /// Draw Poisson counts (otherwise the counts are the expected values).
        public var poissonNoise: Bool
        /// Seed of the random generator.
        public var seed: UInt64

        /// Creates a configuration.
        public init(frames: Int = 4, streaksPerFrame: Int = 60, detectorSize: Int = 128, streakLength: Double = 24,
                    maximumIndex: Int32 = 3, intensityRange: ClosedRange<Double> = 20...200, background: Double = 1,
                    symmetry: PointGroupSymmetry = .mmm, poissonNoise: Bool = true, seed: UInt64 = 1) {
            self.frames = frames
            self.streaksPerFrame = streaksPerFrame
            self.detectorSize = detectorSize
            self.streakLength = streakLength
            self.maximumIndex = maximumIndex
            self.intensityRange = intensityRange
            self.background = background
            self.symmetry = symmetry
            self.poissonNoise = poissonNoise
            self.seed = seed
        }
    }

    /// The configuration used.
    public let configuration: Configuration
    /// The simulated table.
    public let table: CBCTable

    /// The true |q|² of `hkl`.
    public func trueIntensity(of hkl: SIMD3<Int32>) -> Double { Self.intensity(of: hkl, configuration) }

    static func intensity(of hkl: SIMD3<Int32>, _ configuration: Configuration) -> Double {
        let r = configuration.symmetry.representative(of: hkl)
        var g = SplitMix64(seed: configuration.seed ^ (UInt64(bitPattern: Int64(r.x)) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(bitPattern: Int64(r.y)) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(bitPattern: Int64(r.z)) &* 0x1656_67B1_9E37_79F9))
        let lo = Foundation.log(configuration.intensityRange.lowerBound), hi = Foundation.log(configuration.intensityRange.upperBound)
        return Foundation.exp(lo + (hi - lo) * g.nextUniform())
    }

    /// The true map of frame `n` at `u`.
    public static func trueMap(frame n: Int, at u: SIMD2<Double>) -> Double {
        1 + 0.4 * Foundation.sin(1.5 * u.x + 0.7 * Double(n)) * Foundation.cos(2 * u.y)
    }

    /// Simulates a data set.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for non-positive
    ///   sizes or counts.
    public init(_ c: Configuration) throws(CrystallographyError) {
        guard c.frames >= 1, c.streaksPerFrame >= 1, c.detectorSize >= 8, c.streakLength >= 2, c.maximumIndex >= 1,
              c.intensityRange.lowerBound > 0, c.background >= 0 else {
            throw .invalidArgument(name: "configuration", expected: "frames, streaks ≥ 1, detector ≥ 8, length ≥ 2, index ≥ 1, intensities > 0, background ≥ 0",
                                   received: "\(c)")
        }
        configuration = c
        var rng = SplitMix64(seed: c.seed)
        var frames: [Int32] = [], streaks: [Int32] = [], xs: [Int32] = [], ys: [Int32] = []
        var profile: [Float] = [], kins: [SIMD2<Float>] = [], hkl: [SIMD3<Int32>] = []
        var counts: [Float] = []
        var streakID: Int32 = 0
        let m = c.maximumIndex
        let size = c.detectorSize
        for n in 0..<c.frames {
            var pixelLambda = [Double](repeating: c.background, count: size * size)
            let firstRow = frames.count
            for _ in 0..<c.streaksPerFrame {
                var h = SIMD3<Int32>.zero
                while h == .zero {
                    h = SIMD3(Int32(rng.next() % UInt64(2 * m + 1)) - m, Int32(rng.next() % UInt64(2 * m + 1)) - m,
                              Int32(rng.next() % UInt64(2 * m + 1)) - m)
                }
                let intensity = Self.intensity(of: h, c)
                let half = c.streakLength / 2
                let margin = half + 3
                let cx = margin + (Double(size) - 2 * margin) * rng.nextUniform()
                let cy = margin + (Double(size) - 2 * margin) * rng.nextUniform()
                let angle = Double.pi * rng.nextUniform()
                let v = rng.nextUniform() - 0.5
                let dx = Foundation.cos(angle), dy = Foundation.sin(angle)
                for py in Int(cy - margin)...Int(cy + margin) {
                    for px in Int(cx - margin)...Int(cx + margin) {
                        let rx = Double(px) - cx, ry = Double(py) - cy
                        let t = rx * dx + ry * dy, d = -rx * dy + ry * dx
                        guard Swift.abs(t) <= half, Swift.abs(d) <= 2 else { continue }
                        let f2 = Foundation.exp(-d * d / (2 * 0.49))
                        let u = SIMD2<Double>(t / half, v + 0.05 * d)
                        frames.append(Int32(n)); streaks.append(streakID); xs.append(Int32(px)); ys.append(Int32(py))
                        profile.append(Float(f2)); kins.append(SIMD2<Float>(Float(u.x), Float(u.y))); hkl.append(h)
                        let model = intensity * Self.trueMap(frame: n, at: u) * Double(Float(f2))
                        pixelLambda[py * size + px] += model
                    }
                }
                streakID += 1
            }
            // Counts: one draw per pixel, shared by the rows of the pixel.
            var drawn = [Float](repeating: -1, count: size * size)
            for j in firstRow..<frames.count {
                let p = Int(ys[j]) * size + Int(xs[j])
                if drawn[p] < 0 { drawn[p] = c.poissonNoise ? Float(rng.nextPoisson(pixelLambda[p])) : Float(pixelLambda[p]) }
                counts.append(drawn[p])
            }
        }
        table = try CBCTable(frames: frames, streaks: streaks, x: xs, y: ys, counts: counts,
                             background: [Float](repeating: Float(c.background), count: frames.count), profile: profile,
                             kins: kins, hkl: hkl)
    }

    /// The relative RMS error of merged intensities against the truth,
    /// after the best common scale (the scale of |q|² against χ is not
    /// determined by the data): √(mean((s·Î/I − 1)²)) with
    /// log s = −mean(log(Î/I)).
    public func recoveryError(_ merged: MergedReflections) -> Double {
        let ratios = merged.hkl.indices.map { merged.intensity[$0] / trueIntensity(of: merged.hkl[$0]) }
        guard !ratios.isEmpty else { return 0 }
        let logScale = -ratios.map { Foundation.log($0) }.reduce(0, +) / Double(ratios.count)
        let s = Foundation.exp(logScale)
        let sq = ratios.map { (s * $0 - 1) * (s * $0 - 1) }.reduce(0, +) / Double(ratios.count)
        return sq.squareRoot()
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small seeded generator.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A Poisson variate: multiplication of uniforms below mean 10,
    /// Hörmann's PTRS (transformed rejection, as NumPy) above.
    mutating func nextPoisson(_ lam: Double) -> Int {
        if lam <= 0 { return 0 }
        if lam < 10 {
            let limit = Foundation.exp(-lam)
            var k = 0, p = nextUniform()
            while p > limit { k += 1; p *= nextUniform() }
            return k
        }
        let slam = lam.squareRoot(), loglam = Foundation.log(lam)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = nextUniform() - 0.5, v = nextUniform()
            let us = 0.5 - Swift.abs(u)
            let k = Foundation.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if Foundation.log(v) + Foundation.log(invalpha) - Foundation.log(a / (us * us) + b) <= -lam + k * loglam - Foundation.lgamma(k + 1) {
                return Int(k)
            }
        }
    }
}
