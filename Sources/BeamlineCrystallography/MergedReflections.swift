import Foundation

/// Structure factors merged by symmetry (cbclib's `merge_sfac`): one entry
/// per class of equivalent reflections.
public struct MergedReflections: Sendable, Equatable {
    /// Representative Miller indices, in lexicographic order.
    public var hkl: [SIMD3<Int32>]
    /// The mean intensity |q|² = exp θ over the class's streaks (cbclib's `sfac`).
    public var intensity: [Double]
    /// The uncertainty √(intensity / pixels) (cbclib's `serr`).
    public var sigma: [Double]
    /// The number of streaks measuring the class (cbclib's `cnts`).
    public var measurements: [Int]
    /// The number of table rows (pixels) of those streaks.
    public var pixels: [Int]

    /// Creates merged reflections.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for columns of
    ///   different lengths.
    public init(hkl: [SIMD3<Int32>], intensity: [Double], sigma: [Double], measurements: [Int],
                pixels: [Int]) throws(CrystallographyError) {
        for (name, n) in [("intensity", intensity.count), ("sigma", sigma.count), ("measurements", measurements.count),
                          ("pixels", pixels.count)] where n != hkl.count {
            throw .shapeMismatch(argument: name, expected: [hkl.count], received: [n])
        }
        self.hkl = hkl
        self.intensity = intensity
        self.sigma = sigma
        self.measurements = measurements
        self.pixels = pixels
    }

    /// Intensities and uncertainties divided by the mean uncertainty (as
    /// cbclib's `merge_sfac` returns them, so the mean σ is 1); unchanged
    /// when the mean uncertainty is not positive (cbclib divides by zero there).
    public var normalisedBySigma: MergedReflections {
        guard !sigma.isEmpty else { return self }
        let mean = sigma.reduce(0, +) / Double(sigma.count)
        guard mean > 0, mean.isFinite else { return self }
        var copy = self
        copy.intensity = intensity.map { $0 / mean }
        copy.sigma = sigma.map { $0 / mean }
        return copy
    }
}

extension IntensityScaler {
    /// The structure factors of `x` merged under `symmetry` (cbclib's
    /// `merge_sfac`, without its two defects: v0.7.2 never counts the
    /// measurements, so it divides by zero and returns NaN).
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for a bad `x`.
    public func mergedReflections(_ x: [Double], symmetry: PointGroupSymmetry) throws(CrystallographyError) -> MergedReflections {
        let (_, intensities) = try model(x)
        var hkls = [SIMD3<Int32>](repeating: .zero, count: streakCount)
        for j in 0..<table.count {
            let row = Int(order[j])
            hkls[Int(rowStreak[j])] = table.hkl[row]
        }
        let (unique, inverse) = symmetry.merge(hkls)
        var sum = [Double](repeating: 0, count: unique.count)
        var measurements = [Int](repeating: 0, count: unique.count), pixels = measurements
        for s in 0..<streakCount {
            sum[inverse[s]] += intensities[s]
            measurements[inverse[s]] += 1
            pixels[inverse[s]] += streakRows[s]
        }
        let mean = zip(sum, measurements).map { $1 > 0 ? $0 / Double($1) : 0 }
        let sigma = zip(mean, pixels).map { $1 > 0 ? ($0 / Double($1)).squareRoot() : 0 }
        return try MergedReflections(hkl: unique, intensity: mean, sigma: sigma, measurements: measurements, pixels: pixels)
    }
}

/// The text `.hkl` format of cbclib's `export_sfac`: one reflection per
/// line, `h k l F σ count` written with the C format
/// `" %4d %4d %4d %10.2f %10.2f %4d"`.
public enum HKLFile {
    /// The file's text for `reflections` (intensities and uncertainties as
    /// given; use ``MergedReflections/normalisedBySigma`` for cbclib's scale).
    public static func text(_ reflections: MergedReflections) -> String {
        var out = ""
        for i in reflections.hkl.indices {
            let h = reflections.hkl[i]
            out += String(format: " %4d %4d %4d %10.2f %10.2f %4d\n", Int(h.x), Int(h.y), Int(h.z),
                          reflections.intensity[i], reflections.sigma[i], reflections.measurements[i])
        }
        return out
    }

    /// Writes `reflections` to `url`, atomically.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)``.
    public static func write(_ reflections: MergedReflections, to url: URL) throws(CrystallographyError) {
        do { try Data(text(reflections).utf8).write(to: url, options: .atomic) } catch {
            throw .file(path: url.path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Parses `.hkl` text: six whitespace-separated columns per non-empty
    /// line (lines starting with `#` are skipped). Pixel counts are not
    /// stored in the format and read as 0.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)`` naming the line.
    public static func parse(_ text: String, source: String = "<memory>") throws(CrystallographyError) -> MergedReflections {
        var hkl: [SIMD3<Int32>] = [], f: [Double] = [], s: [Double] = [], n: [Int] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 6, let h = Int32(fields[0]), let k = Int32(fields[1]), let l = Int32(fields[2]),
                  let value = Double(fields[3]), let sigma = Double(fields[4]), let count = Int(fields[5]),
                  value.isFinite, sigma.isFinite, sigma >= 0, count >= 0 else {
                throw .file(path: source, problem: "line \(number + 1): expected \"h k l F sigma count\" (integers, finite F, sigma ≥ 0, count ≥ 0), found \"\(trimmed)\"")
            }
            hkl.append(SIMD3(h, k, l)); f.append(value); s.append(sigma); n.append(count)
        }
        return try MergedReflections(hkl: hkl, intensity: f, sigma: s, measurements: n, pixels: [Int](repeating: 0, count: n.count))
    }

    /// Reads an `.hkl` file.
    ///
    /// - Throws: ``CrystallographyError/file(path:problem:)``.
    public static func read(from url: URL) throws(CrystallographyError) -> MergedReflections {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .file(path: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, source: url.path)
    }
}
