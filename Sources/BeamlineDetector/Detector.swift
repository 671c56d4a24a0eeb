import BeamlineTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sample–detector geometry in pyFAI's convention (the six parameters of
/// a `.poni` file, lengths in metres, angles in radians).
///
/// - `distance`: from the sample to the point of normal incidence (PONI),
///   measured along the detector normal;
/// - `poni1`, `poni2`: coordinates of the PONI on the detector, along the
///   slow (row, dim 1) and fast (column, dim 2) axes, from the outer corner
///   of pixel (0, 0); pixel `(i, j)` has its centre at
///   `((i + ½)·pixelSize1, (j + ½)·pixelSize2)`;
/// - `rot1`, `rot2`, `rot3`: rotations of the detector about the sample,
///   applied in this order (pyFAI's `calc_pos_zyx`).
///
/// Because the PONI is by definition the orthogonal projection of the
/// sample onto the detector plane, the sample sits at `(poni1, poni2,
/// −distance)` in the detector's own frame whatever the rotations. The
/// rotations move the detector (and so where the direct beam lands) but not
/// the direction in which a ray from the sample crosses the sensor: the
/// incidence direction at a point `(x1, x2)` of the front face is
/// `(x1 − poni1, x2 − poni2, distance)`, normalised. ``incidenceDirection(x1:x2:)``
/// returns it, ``labPosition(x1:x2:)`` gives the laboratory position for
/// checks against pyFAI.
public struct PONIGeometry: Sendable, Equatable {
    /// Sample–PONI distance along the detector normal (m, > 0).
    public var distance: Double
    /// PONI along the slow axis (m).
    public var poni1: Double
    /// PONI along the fast axis (m).
    public var poni2: Double
    /// First rotation (rad).
    public var rot1: Double
    /// Second rotation (rad).
    public var rot2: Double
    /// Third rotation (rad).
    public var rot3: Double

    /// A geometry, validated.
    ///
    /// - Throws: ``DetectorError/raysParallelToSensor(argument:received:)``
    ///   when `distance ≤ 0` (rays would run parallel to, or arrive from
    ///   behind, the sensor), ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a non-finite value.
    public init(distance: Double, poni1: Double, poni2: Double, rot1: Double = 0, rot2: Double = 0,
                rot3: Double = 0) throws(DetectorError) {
        for (name, value) in [("distance", distance), ("poni1", poni1), ("poni2", poni2), ("rot1", rot1),
                              ("rot2", rot2), ("rot3", rot3)] where !value.isFinite {
            throw .invalidArgument(name: name, expected: "a finite number", received: "\(value)")
        }
        guard distance > 0 else {
            throw .raysParallelToSensor(argument: "distance", received: "\(distance) m")
        }
        self.distance = distance
        self.poni1 = poni1
        self.poni2 = poni2
        self.rot1 = rot1
        self.rot2 = rot2
        self.rot3 = rot3
    }

    /// Unit vector of the ray from the sample to the front-face point
    /// `(x1, x2)` (m), in the detector frame (axis 3 points into the sensor).
    @inlinable
    public func incidenceDirection(x1: Double, x2: Double) -> (Double, Double, Double) {
        let k1 = x1 - poni1, k2 = x2 - poni2
        let norm = (k1 * k1 + k2 * k2 + distance * distance).squareRoot()
        return (k1 / norm, k2 / norm, distance / norm)
    }

    /// Laboratory position `(z, y, x)` (m) of the front-face point `(x1, x2)`
    /// (pyFAI's `calc_pos_zyx`: z along the beam).
    public func labPosition(x1: Double, x2: Double) -> (z: Double, y: Double, x: Double) {
        let c1 = cos(rot1), s1 = sin(rot1), c2 = cos(rot2), s2 = sin(rot2), c3 = cos(rot3), s3 = sin(rot3)
        let p1 = x1 - poni1, p2 = x2 - poni2, l = distance
        let t1 = p1 * c2 * c3 + p2 * (c3 * s1 * s2 - c1 * s3) - l * (c1 * c3 * s2 + s1 * s3)
        let t2 = p1 * c2 * s3 + p2 * (c1 * c3 + s1 * s2 * s3) - l * (-(c3 * s1) + c1 * s2 * s3)
        let t3 = p1 * s2 - p2 * c2 * s1 + l * c1 * c2
        return (t3, t1, t2)
    }

    /// Unit normal of the detector in the laboratory frame `(z, y, x)`,
    /// pointing away from the sample.
    public var labNormal: (z: Double, y: Double, x: Double) {
        let a = labPosition(x1: poni1, x2: poni2)
        return (a.z / distance, a.y / distance, a.x / distance)
    }
}

/// A pixel detector: pixel grid, module gaps and masked (dead) pixels.
///
/// **Gaps versus masked pixels.** A *gap* pixel lies between sensor
/// modules: there is no sensor material, nothing is read out, and a ray that
/// reaches it has left its module through the side (its remaining energy is
/// counted as side-lost and it is not followed into the next module; the
/// catalogue's gaps, ≥ 7 pixels for Pilatus and ≥ 10 for Eiger, are wider
/// than any lateral path through a 450–1000 µm sensor at the usual
/// angles). Gaps are whole bands of rows and columns (``gapRows``,
/// ``gapColumns``), as in every modular detector of the catalogue. A
/// *masked* (dead, hot, or user-masked) pixel has sensor material: it
/// absorbs like any other pixel but is not read out; energy absorbed there
/// is reported in ``PointSpreadMatrix/absorbedInMasked``. Rows of the
/// point-spread matrix are traced only for pixels that are neither gaps nor
/// masked (as in pyFAI's notebook); columns of gap and masked pixels are
/// empty.
public struct Detector: Sendable, Equatable {
    /// Name (catalogue name or "custom").
    public var name: String
    /// Number of rows (slow axis, dim 1).
    public let rows: Int
    /// Number of columns (fast axis, dim 2).
    public let columns: Int
    /// Pixel size along the slow axis (m).
    public let pixelSize1: Double
    /// Pixel size along the fast axis (m).
    public let pixelSize2: Double
    /// `true` for rows that are inter-module gaps (length ``rows``).
    public let gapRows: [Bool]
    /// `true` for columns that are inter-module gaps (length ``columns``).
    public let gapColumns: [Bool]
    /// `true` for masked (dead) pixels with sensor material, row-major
    /// (length `rows · columns`).
    public private(set) var deadPixels: [Bool]
    /// Default sensor thickness from the specification (m), if known.
    public var nominalThickness: Double?

    /// `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// A detector without gaps.
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a non-positive shape or pixel size.
    public init(name: String = "custom", rows: Int, columns: Int, pixelSize1: Double,
                pixelSize2: Double) throws(DetectorError) {
        try self.init(name: name, rows: rows, columns: columns, pixelSize1: pixelSize1, pixelSize2: pixelSize2,
                      gapRows: [Bool](repeating: false, count: max(0, rows)),
                      gapColumns: [Bool](repeating: false, count: max(0, columns)))
    }

    /// A detector with gap bands given per row and per column.
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a non-positive shape or pixel size,
    ///   ``DetectorError/shapeMismatch(argument:expected:received:)`` for gap
    ///   arrays of the wrong length.
    public init(name: String = "custom", rows: Int, columns: Int, pixelSize1: Double, pixelSize2: Double,
                gapRows: [Bool], gapColumns: [Bool]) throws(DetectorError) {
        guard rows > 0, columns > 0, rows <= 1 << 20, columns <= 1 << 20, rows * columns <= Int(Int32.max) else {
            throw .invalidArgument(name: "shape", expected: "positive rows and columns, at most 2^31 pixels",
                                   received: "\(rows)×\(columns)")
        }
        guard pixelSize1.isFinite, pixelSize1 > 0 else {
            throw .invalidArgument(name: "pixelSize1", expected: "a finite size > 0 m", received: "\(pixelSize1)")
        }
        guard pixelSize2.isFinite, pixelSize2 > 0 else {
            throw .invalidArgument(name: "pixelSize2", expected: "a finite size > 0 m", received: "\(pixelSize2)")
        }
        guard gapRows.count == rows else { throw .shapeMismatch(argument: "gapRows", expected: [rows], received: [gapRows.count]) }
        guard gapColumns.count == columns else {
            throw .shapeMismatch(argument: "gapColumns", expected: [columns], received: [gapColumns.count])
        }
        self.name = name
        self.rows = rows
        self.columns = columns
        self.pixelSize1 = pixelSize1
        self.pixelSize2 = pixelSize2
        self.gapRows = gapRows
        self.gapColumns = gapColumns
        self.deadPixels = [Bool](repeating: false, count: rows * columns)
    }

    /// A modular detector: `moduleCount1 × moduleCount2` modules of
    /// `moduleSize` pixels separated by `moduleGap` gap pixels (pyFAI's
    /// `MODULE_SIZE` / `MODULE_GAP`).
    public init(name: String, moduleSize: (Int, Int), moduleGap: (Int, Int), moduleCount: (Int, Int),
                pixelSize: Double, nominalThickness: Double? = nil) throws(DetectorError) {
        let rows = moduleCount.0 * moduleSize.0 + (moduleCount.0 - 1) * moduleGap.0
        let columns = moduleCount.1 * moduleSize.1 + (moduleCount.1 - 1) * moduleGap.1
        let gap1 = (0..<max(0, rows)).map { $0 % (moduleSize.0 + moduleGap.0) >= moduleSize.0 }
        let gap2 = (0..<max(0, columns)).map { $0 % (moduleSize.1 + moduleGap.1) >= moduleSize.1 }
        try self.init(name: name, rows: rows, columns: columns, pixelSize1: pixelSize, pixelSize2: pixelSize,
                      gapRows: gap1, gapColumns: gap2)
        self.nominalThickness = nominalThickness
    }

    /// Whether pixel `(row, column)` is in a gap (no sensor material).
    @inlinable
    public func isGap(row: Int, column: Int) -> Bool { gapRows[row] || gapColumns[column] }

    /// Whether pixel `(row, column)` is masked (dead or gap): not read out.
    @inlinable
    public func isMasked(row: Int, column: Int) -> Bool {
        gapRows[row] || gapColumns[column] || deadPixels[row * columns + column]
    }

    /// The gap mask, `true` in gaps (pyFAI's `calc_mask()` for the catalogue).
    public var gapMask: Tensor<Bool> { Tensor(shape: [rows, columns], elements: flags(includingDead: false)) }

    /// Gaps and dead pixels together, `true` where nothing is read out.
    public var mask: Tensor<Bool> { Tensor(shape: [rows, columns], elements: flags(includingDead: true)) }

    /// Row-major gap (and optionally dead) flags.
    func flags(includingDead: Bool) -> [Bool] {
        var out = includingDead ? deadPixels : [Bool](repeating: false, count: rows * columns)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows {
                let rowGap = gapRows[r]
                for c in 0..<columns where rowGap || gapColumns[c] { o[r * columns + c] = true }
            }
        }
        return out
    }

    /// Marks the pixels where `mask` is `true` as dead (masked; combined
    /// with the existing dead pixels; gaps stay gaps).
    ///
    /// - Throws: ``DetectorError/shapeMismatch(argument:expected:received:)``
    ///   when `mask` is not `rows × columns`.
    public mutating func addMask(_ mask: Tensor<Bool>) throws(DetectorError) {
        guard mask.shape == shape else { throw .shapeMismatch(argument: "mask", expected: shape, received: mask.shape) }
        for (k, value) in mask.elements.enumerated() where value { deadPixels[k] = true }
    }

    /// A copy with `mask` added (see ``addMask(_:)``).
    public func masking(_ mask: Tensor<Bool>) throws(DetectorError) -> Detector {
        var copy = self
        try copy.addMask(mask)
        return copy
    }

    // MARK: - Catalogue

    /// Names in the catalogue, as pyFAI spells them.
    public static let catalogueNames: [String] = [
        "Pilatus100k", "Pilatus300k", "Pilatus1M", "Pilatus2M", "Pilatus6M",
        "Eiger1M", "Eiger4M", "Eiger9M", "Eiger16M",
        "Eiger2_1M", "Eiger2_4M", "Eiger2_9M", "Eiger2_16M",
    ]

    /// A detector of the catalogue by name (case-insensitive; `-` and `_`
    /// are ignored, so "pilatus1m", "Eiger2-4M" and "Eiger2_4M" all work).
    ///
    /// Module layouts from the manufacturer's specifications, identical to
    /// pyFAI's detector definitions (checked in the tests): Pilatus modules
    /// are 195 × 487 pixels of 172 µm with gaps of 17 rows and 7 columns;
    /// Eiger modules 514 × 1030 pixels of 75 µm with gaps of 37 rows and 10
    /// columns; Eiger2 modules 512 × 1028 with gaps of 38 rows and 12
    /// columns. The nominal sensor is 450 µm silicon (the standard option;
    /// 320 µm, 1000 µm and CdTe variants exist, so pass the thickness you
    /// have). Chip-boundary pixels inside an Eiger module are sensor material:
    /// mask them as dead pixels if your images flag them.
    ///
    /// - Throws: ``DetectorError/unknownDetector(name:known:)``.
    public static func named(_ name: String) throws(DetectorError) -> Detector {
        func key(_ s: String) -> String { s.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " } }
        guard let canonical = catalogueNames.first(where: { key($0) == key(name) }) else {
            throw .unknownDetector(name: name, known: catalogueNames)
        }
        let pilatus = ((195, 487), (17, 7), 172e-6)
        let eiger = ((514, 1030), (37, 10), 75e-6)
        let eiger2 = ((512, 1028), (38, 12), 75e-6)
        let layouts: [String: (((Int, Int), (Int, Int), Double), (Int, Int))] = [
            "Pilatus100k": (pilatus, (1, 1)), "Pilatus300k": (pilatus, (3, 1)), "Pilatus1M": (pilatus, (5, 2)),
            "Pilatus2M": (pilatus, (8, 3)), "Pilatus6M": (pilatus, (12, 5)),
            "Eiger1M": (eiger, (2, 1)), "Eiger4M": (eiger, (4, 2)), "Eiger9M": (eiger, (6, 3)), "Eiger16M": (eiger, (8, 4)),
            "Eiger2_1M": (eiger2, (2, 1)), "Eiger2_4M": (eiger2, (4, 2)), "Eiger2_9M": (eiger2, (6, 3)),
            "Eiger2_16M": (eiger2, (8, 4)),
        ]
        let (spec, count) = layouts[canonical]!
        return try Detector(name: canonical, moduleSize: spec.0, moduleGap: spec.1, moduleCount: count,
                            pixelSize: spec.2, nominalThickness: 450e-6)
    }
}
