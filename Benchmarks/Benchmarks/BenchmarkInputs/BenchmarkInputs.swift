import Beamline

// Inputs shared by several benchmark targets (one definition each).

/// pyFAI's notebook set-up on a catalogue detector.
public func notebookModel(_ name: String) -> ThickSensorModel {
    ThickSensorModel(detector: try! Detector.named(name),
                     geometry: try! PONIGeometry(distance: 0.2845, poni1: 0.08865, poni2: 0.08931),
                     sensor: try! Sensor(thickness: 450e-6, mu: 1537.02))
}

/// Rows `rows` of the notebook's Pilatus 1M as a detector of their own (its
/// gap bands kept, the PONI moved with the first row), so every entry pixel
/// sends the same rays as in the full detector. Energy that would cross into
/// rows outside the strip counts as lost through the sides.
public func pilatusStrip(_ rows: Range<Int>) -> ThickSensorModel {
    let full = try! Detector.named("Pilatus1M")
    let strip = try! Detector(name: "Pilatus1M rows \(rows)", rows: rows.count, columns: full.columns,
                              pixelSize1: full.pixelSize1, pixelSize2: full.pixelSize2,
                              gapRows: Array(full.gapRows[rows]), gapColumns: full.gapColumns)
    return ThickSensorModel(detector: strip,
                            geometry: try! PONIGeometry(distance: 0.2845,
                                                        poni1: 0.08865 - Double(rows.lowerBound) * full.pixelSize1,
                                                        poni2: 0.08931),
                            sensor: try! Sensor(thickness: 450e-6, mu: 1537.02))
}

/// Entry pixels of a detector (those that are not masked), one matrix row each.
public func entryPixels(_ detector: Detector) -> Int {
    detector.mask.elements.reduce(0) { $0 + ($1 ? 0 : 1) }
}

/// A benchmark input built the first time it is used, so that a filtered
/// run (`--filter`, `--skip`) builds only the inputs of what it measures.
/// Benchmarks run one at a time, so the unsynchronised first use is safe.
public final class LazyBenchmarkInput<Value>: @unchecked Sendable {
    private let make: () -> Value
    private var built: Value?

    /// An input that `make` builds on first use.
    public init(_ make: @escaping () -> Value) { self.make = make }

    /// The input, built on the first call.
    public var value: Value {
        if let built { return built }
        let value = make()
        built = value
        return value
    }
}
