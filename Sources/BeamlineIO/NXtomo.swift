import BeamlineTensor
import CHDF5
import Foundation

/// A tomography scan read from a NeXus NXtomo file: projections, flat
/// fields, dark fields and the projections' rotation angles.
///
/// The frames come from `<entry>/instrument/detector/data` (or
/// `<entry>/data/data`) and are split by `image_key` (same places):
/// 0 projection, 1 flat field, 2 dark field; frames with any other key
/// (3, "invalid") are skipped. Angles come from
/// `<entry>/sample/rotation_angle` (or `<entry>/data/rotation_angle`), in
/// degrees as NXtomo stores them, one per frame; the scan keeps those of
/// the projections.
///
/// ```swift
/// let scan = try NXtomoScan(contentsOf: url)           // entry "/entry"
/// let sinogramInput = try scan.absorbance()            // −log((p − d)/(f − d))
/// let angles = scan.rotationAnglesRadians
/// ```
///
/// Frames are read as `Float` whatever their stored type (detector counts
/// are usually `uint16` or `uint32`), one run of equal keys at a time, so
/// a scan is never in memory twice.
public struct NXtomoScan: Sendable, Equatable {
    /// The projections, shape `[count, rows, columns]`, in file order.
    public var projections: Tensor<Float>
    /// The flat fields (open beam), shape `[count, rows, columns]` (count
    /// may be 0).
    public var flats: Tensor<Float>
    /// The dark fields (beam off), shape `[count, rows, columns]` (count
    /// may be 0).
    public var darks: Tensor<Float>
    /// The rotation angle of each projection, in degrees (as stored).
    public var rotationAnglesDegrees: [Double]

    /// The rotation angle of each projection, in radians
    /// (`degrees × π / 180`), as Beamline's projectors take them.
    public var rotationAnglesRadians: [Double] {
        rotationAnglesDegrees.map { $0 * .pi / 180 }
    }

    /// A scan from its parts (frames `[count, rows, columns]`, one angle
    /// in degrees per projection).
    public init(projections: Tensor<Float>, flats: Tensor<Float>, darks: Tensor<Float>,
                rotationAnglesDegrees: [Double]) {
        self.projections = projections
        self.flats = flats
        self.darks = darks
        self.rotationAnglesDegrees = rotationAnglesDegrees
    }

    /// Reads the NXtomo entry `entry` of the file at `url`.
    ///
    /// - Throws: ``HDF5Error/missingObject(file:path:)`` naming the
    ///   preferred path when neither place holds the frames, the image keys
    ///   or the angles; ``HDF5Error/shapeMismatch(file:path:expected:found:)``
    ///   when the frames are not three-dimensional or the image keys or
    ///   angles do not have one value per frame; any error of opening or
    ///   reading the file.
    public init(contentsOf url: URL, entry: String = "/entry") throws(HDF5Error) {
        let file = try HDF5File(contentsOf: url)
        let entry = HDF5File.normalise(entry)
        func locate(_ candidates: [String]) throws(HDF5Error) -> String {
            for candidate in candidates where file.contains(entry + candidate) { return entry + candidate }
            throw .missingObject(file: file.path, path: entry + candidates[0])
        }
        let dataPath = try locate(["/instrument/detector/data", "/data/data"])
        let keyPath = try locate(["/instrument/detector/image_key", "/data/image_key"])
        let anglePath = try locate(["/sample/rotation_angle", "/data/rotation_angle"])
        let shape = try file.shape(of: dataPath)
        guard shape.count == 3 else {
            throw .shapeMismatch(file: file.path, path: dataPath, expected: "3 axes [frames, rows, columns]",
                                 found: shape)
        }
        let keys = try file.read(Int64.self, from: keyPath)
        guard keys.shape == [shape[0]] else {
            throw .shapeMismatch(file: file.path, path: keyPath, expected: "one key per frame, [\(shape[0])]",
                                 found: keys.shape)
        }
        let angles = try file.read(Double.self, from: anglePath)
        guard angles.shape == [shape[0]] else {
            throw .shapeMismatch(file: file.path, path: anglePath, expected: "one angle per frame, [\(shape[0])]",
                                 found: angles.shape)
        }
        let keyList = keys.withUnsafeBufferPointer { Array($0) }
        let angleList = angles.withUnsafeBufferPointer { Array($0) }

        /// The frames with key `key`, read run by run.
        func frames(_ key: Int64) throws(HDF5Error) -> Tensor<Float> {
            let selected = keyList.indices.filter { keyList[$0] == key }
            let frameSize = shape[1] * shape[2]
            return try Tensor<Float>(unsafeUninitializedShape: [selected.count, shape[1], shape[2]]) {
                (buffer) throws(HDF5Error) in
                guard let base = buffer.baseAddress, frameSize > 0 else { return }
                try HDF5Library.withLock { () throws(HDF5Error) in
                    let dataset = try file.openDataset(dataPath)
                    defer { _ = H5Dclose(dataset) }
                    let details = try file.info(dataset, path: dataPath)
                    try file.checkFilters(details)
                    var written = 0, index = 0
                    while index < selected.count {
                        var end = index + 1
                        while end < selected.count && selected[end] == selected[end - 1] + 1 { end += 1 }
                        let run = selected[index]..<(selected[end - 1] + 1)
                        try file.readFrames(dataset, path: dataPath, shape: shape, stored: details.elementType, frames: run,
                                            into: UnsafeMutableRawPointer(base + written * frameSize))
                        written += run.count
                        index = end
                    }
                }
            }
        }
        self.init(projections: try frames(0), flats: try frames(1), darks: try frames(2),
                  rotationAnglesDegrees: keyList.indices.filter { keyList[$0] == 0 }.map { angleList[$0] })
    }

    /// The flat- and dark-corrected projections as absorbance (what
    /// tomopy's `normalize` then `minus_log` give, the input of a
    /// reconstruction): with `f` the mean flat and `d` the mean dark per
    /// pixel, each projection value `p` becomes
    /// `−log(max((p − d) / (f − d), minimumTransmission))`.
    ///
    /// Means and ratios are computed in `Double`. A pixel where `f − d` is
    /// 0 uses 1e-6 for it (as tomopy); a ratio that is not above
    /// `minimumTransmission` (including NaN) is clamped to it, so the
    /// result is always finite. Without dark fields the dark is 0.
    ///
    /// - Throws: ``HDF5Error/argument(_:)`` when the scan has no flat
    ///   fields or no projections, or when `minimumTransmission` is not
    ///   positive.
    public func absorbance(minimumTransmission: Double = 1e-6) throws(HDF5Error) -> Tensor<Float> {
        guard minimumTransmission > 0 && minimumTransmission.isFinite else {
            throw .invalidArgument(name: "minimumTransmission", expected: "a positive number",
                                   received: "\(minimumTransmission)")
        }
        guard flats.shape.first ?? 0 > 0 else {
            throw .invalidArgument(name: "flats", expected: "at least one flat field (image_key 1)", received: "none")
        }
        guard projections.shape.first ?? 0 > 0 else {
            throw .invalidArgument(name: "projections", expected: "at least one projection (image_key 0)",
                                   received: "none")
        }
        let frameShape = Array(projections.shape.dropFirst())
        guard Array(flats.shape.dropFirst()) == frameShape,
              darks.shape.first == 0 || Array(darks.shape.dropFirst()) == frameShape else {
            throw .shapeMismatch(argument: "flats, darks", expected: frameShape,
                                 received: Array(flats.shape.dropFirst()))
        }
        let frameSize = frameShape.reduce(1, *)
        func mean(_ stack: Tensor<Float>) -> [Double] {
            var sums = [Double](repeating: 0, count: frameSize)
            let count = stack.shape[0]
            guard count > 0 else { return sums }
            stack.withUnsafeBufferPointer { values in
                for frame in 0..<count {
                    for pixel in 0..<frameSize { sums[pixel] += Double(values[frame * frameSize + pixel]) }
                }
            }
            return sums.map { $0 / Double(count) }
        }
        let flat = mean(flats), dark = mean(darks)
        let denominator = zip(flat, dark).map { $0 - $1 == 0 ? 1e-6 : $0 - $1 }
        return Tensor<Float>(unsafeUninitializedShape: projections.shape) { output in
            projections.withUnsafeBufferPointer { values in
                for index in 0..<values.count {
                    let pixel = index % frameSize
                    let ratio = (Double(values[index]) - dark[pixel]) / denominator[pixel]
                    let clamped = ratio > minimumTransmission ? ratio : minimumTransmission
                    output[index] = Float(-Foundation.log(clamped))
                }
            }
        }
    }
}
