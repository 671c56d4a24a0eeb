import BeamlineIO
import BeamlineTensor
import Foundation

extension PONIGeometry {
    /// The geometry of a pyFAI calibration (a `.poni` file or calibration
    /// JSON read by `PONIFile`): distance, PONI and the three rotations,
    /// unchanged (both use pyFAI's convention).
    ///
    /// - Throws: the checks of ``init(distance:poni1:poni2:rot1:rot2:rot3:)``,
    ///   and ``DetectorError/invalidArgument(name:expected:received:)``
    ///   (argument `orientation`) for a detector orientation other than
    ///   pyFAI's default 3: Beamline indexes pixels as pyFAI does for
    ///   orientation 3 (row 0 at the top, column 0 at the left of the
    ///   stored image) and does not flip images.
    public init(_ calibration: PONICalibration) throws(DetectorError) {
        if let orientation = calibration.orientation, orientation != 3 {
            throw .invalidArgument(name: "orientation",
                                   expected: "3 (pyFAI's default; flipped orientations are not supported)",
                                   received: "\(orientation)")
        }
        try self.init(distance: calibration.distance, poni1: calibration.poni1, poni2: calibration.poni2,
                      rot1: calibration.rot1, rot2: calibration.rot2, rot3: calibration.rot3)
    }
}

extension Detector {
    /// The detector a pyFAI calibration describes.
    ///
    /// A catalogue name (``catalogueNames``: `Pilatus1M`, `Eiger2_4M`, …;
    /// pyFAI's spellings with spaces, such as `Pilatus 1M`, match too) gives
    /// the catalogue detector with its gaps; pixel sizes that the file
    /// states must then agree with the catalogue's (to 1 part in 10⁶). The
    /// generic pyFAI `Detector` (or no name) gives a detector without gaps
    /// of the file's pixel sizes and `max_shape`, or of `shape` when given
    /// (which also wins over `max_shape`).
    ///
    /// - Throws: ``DetectorError/unknownDetector(name:known:)`` for a pyFAI
    ///   detector that is not in the catalogue (give its shape and pixel
    ///   size instead), ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for missing or conflicting pixel sizes or a missing shape.
    public init(calibration: PONICalibration, shape: [Int]? = nil) throws(DetectorError) {
        let name = calibration.detectorName ?? "Detector"
        if name.lowercased() != "detector" {
            let detector = try Detector.named(name)
            for (axis, stated, catalogue) in [("pixel1", calibration.pixelSize1, detector.pixelSize1),
                                              ("pixel2", calibration.pixelSize2, detector.pixelSize2)] {
                if let stated, abs(stated - catalogue) > 1e-6 * catalogue {
                    throw .invalidArgument(name: axis, expected: "the \(detector.name) pixel size \(catalogue) m",
                                           received: "\(stated) m")
                }
            }
            if let shape, shape != detector.shape {
                throw .invalidArgument(name: "shape", expected: "the \(detector.name) shape \(detector.shape)",
                                       received: "\(shape)")
            }
            self = detector
            return
        }
        guard let size1 = calibration.pixelSize1, let size2 = calibration.pixelSize2 else {
            throw .invalidArgument(name: "pixel size", expected: "PixelSize1/PixelSize2 or pixel1/pixel2 in the calibration",
                                   received: "none")
        }
        guard let dims = shape ?? calibration.maxShape, dims.count == 2 else {
            throw .invalidArgument(name: "shape", expected: "max_shape in the calibration, or a shape [rows, columns]",
                                   received: "none")
        }
        try self.init(rows: dims[0], columns: dims[1], pixelSize1: size1, pixelSize2: size2)
    }
}
