import BeamlineTensor
import Foundation

/// A pyFAI detector calibration as a file states it: the six PONI
/// parameters, the wavelength and the detector description.
///
/// Lengths are in metres and angles in radians, in pyFAI's convention (see
/// `PONIGeometry` in BeamlineDetector, which turns this into a validated
/// geometry, and `Detector(calibration:)`, which picks the detector).
/// ``PONIFile`` reads it from a `.poni` file or from pyFAI's calibration
/// JSON.
public struct PONICalibration: Sendable, Equatable {
    /// The `.poni` file version: 1 (no `poni_version` line), 2, 2.1 or 3;
    /// nil for the JSON forms.
    public var version: Double?
    /// pyFAI's detector name (`Pilatus1M`, `Eiger2_4M`, or `Detector` for a
    /// generic detector); nil when the file names none (version 1 files
    /// may omit it).
    public var detectorName: String?
    /// The `Detector_config` JSON object as it appears in the file
    /// (version 2 and later, and the JSON forms); nil when absent.
    public var detectorConfig: String?
    /// Pixel size along the slow axis (m): `PixelSize1` (version 1) or
    /// `pixel1` of the detector configuration.
    public var pixelSize1: Double?
    /// Pixel size along the fast axis (m): `PixelSize2` or `pixel2`.
    public var pixelSize2: Double?
    /// Detector shape `[rows, columns]` (`max_shape` of the configuration).
    public var maxShape: [Int]?
    /// pyFAI's detector orientation (1–4; 3, the default, is the
    /// unflipped image that Beamline uses); nil when not stated (before
    /// version 2.1).
    public var orientation: Int?
    /// Sample–PONI distance (m): `Distance`, or `dist` in the JSON forms.
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
    /// Wavelength (m), if the file states one.
    public var wavelength: Double?

    /// A calibration from its values (for tests and for building one by
    /// hand).
    public init(version: Double? = nil, detectorName: String? = nil, detectorConfig: String? = nil,
                pixelSize1: Double? = nil, pixelSize2: Double? = nil, maxShape: [Int]? = nil, orientation: Int? = nil,
                distance: Double, poni1: Double, poni2: Double, rot1: Double = 0, rot2: Double = 0, rot3: Double = 0,
                wavelength: Double? = nil) {
        self.version = version
        self.detectorName = detectorName
        self.detectorConfig = detectorConfig
        self.pixelSize1 = pixelSize1
        self.pixelSize2 = pixelSize2
        self.maxShape = maxShape
        self.orientation = orientation
        self.distance = distance
        self.poni1 = poni1
        self.poni2 = poni2
        self.rot1 = rot1
        self.rot2 = rot2
        self.rot3 = rot3
        self.wavelength = wavelength
    }

    /// The photon energy (keV) of ``wavelength``: `hc / λ` with
    /// hc = 12.398419843320026 keV·Å (CODATA 2018, as pyFAI uses).
    public var energy: Double? {
        wavelength.map { 12.398419843320026e-10 / $0 }
    }
}

/// Reads pyFAI calibration files: `.poni` text files (versions 1, 2, 2.1
/// and 3) and the calibration JSON that pyFAI notebooks save.
///
/// **`.poni` files** are read as pyFAI reads them: one `Key: value` per
/// line, keys case-insensitive, the last occurrence of a key wins, lines
/// that start with `#` and lines without `:` are ignored. Version 1 (no
/// `poni_version` line) describes the detector by `Detector:` (optional)
/// and `PixelSize1`/`PixelSize2`; versions 2 and later by `Detector:` and
/// `Detector_config:` (a JSON object with `pixel1`, `pixel2`, `max_shape`
/// and, from 2.1, `orientation`). `Distance`, `Poni1`, `Poni2`, `Rot1`,
/// `Rot2` and `Rot3` are required; `Wavelength` is optional.
///
/// ```
/// # Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
/// poni_version: 2.1
/// Detector: Pilatus1M
/// Detector_config: {"pixel1": 0.000172, "pixel2": 0.000172, "orientation": 3}
/// Distance: 0.1
/// Poni1: 0.02
/// Poni2: 0.03
/// Rot1: 0.01
/// Rot2: -0.02
/// Rot3: 0.03
/// Wavelength: 1e-10
/// ```
///
/// **JSON** (a file whose first non-blank character is `{`): the
/// goniometer form (`"param_names": ["dist", "poni1", …]` with `"param"`
/// values, `"wavelength"`, `"detector"`, `"detector_config"`), pyFAI's
/// `Geometry.get_config()` form (`"dist"`, `"poni1"`, … at the top
/// level), and the integration-worker form (the same under `"poni"`).
///
/// Every failure is a ``PONIFileError`` that names the file and the key.
public enum PONIFile {
    /// Reads the calibration in the `.poni` or JSON file at `url`.
    ///
    /// - Throws: ``PONIFileError``: the file cannot be read, is not UTF-8
    ///   text, lacks a required key, holds a value that is not a number
    ///   (or not the expected JSON), or has an unsupported version.
    public static func read(from url: URL) throws(PONIFileError) -> PONICalibration {
        let data: Data
        do { data = try FileIO.readContents(of: url) } catch {
            if case let .ioFailure(path, operation, reason) = error {
                throw .ioFailure(path: path, operation: operation, reason: reason)
            }
            throw .ioFailure(path: url.path, operation: "read", reason: error.description)
        }
        return try decode(data, source: url.path)
    }

    /// Decodes the contents of a `.poni` or JSON calibration file
    /// (`source` names it in errors).
    public static func decode(_ data: Data, source: String = "<memory>") throws(PONIFileError) -> PONICalibration {
        guard let text = String(data: data, encoding: .utf8) else {
            throw .malformed(source: source, reason: "not UTF-8 text")
        }
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            return try parseJSON(text, source: source)
        }
        return try parsePONI(text, source: source)
    }

    // MARK: - .poni text

    /// Parses the text of a `.poni` file.
    public static func parsePONI(_ text: String, source: String = "<memory>") throws(PONIFileError) -> PONICalibration {
        // Lower-cased key -> (key as written, value); the last line wins.
        var entries: [String: (key: String, value: String)] = [:]
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = String(rawLine)
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            entries[key.lowercased()] = (key, value)
        }
        func number(_ name: String, _ aliases: [String] = [], required: Bool = true) throws(PONIFileError) -> Double? {
            for candidate in [name.lowercased()] + aliases {
                guard let entry = entries[candidate] else { continue }
                if !required && entry.value == "None" { return nil }
                guard let value = Double(entry.value) else {
                    throw .badValue(source: source, key: entry.key, expected: "a number", found: entry.value)
                }
                return value
            }
            if required { throw .missingKey(source: source, key: name) }
            return nil
        }

        var version = 1.0
        if let entry = entries["poni_version"] {
            guard let value = Double(entry.value) else {
                throw .badValue(source: source, key: entry.key, expected: "a version number", found: entry.value)
            }
            version = value
        }
        guard [1.0, 2.0, 2.1, 3.0].contains(version) else {
            throw .unsupportedVersion(source: source, version: entries["poni_version"]?.value ?? "1")
        }
        var calibration = PONICalibration(
            version: version, distance: try number("Distance", ["dist"])!, poni1: try number("Poni1")!,
            poni2: try number("Poni2")!, rot1: try number("Rot1")!, rot2: try number("Rot2")!,
            rot3: try number("Rot3")!, wavelength: try number("Wavelength", required: false))
        let detector = entries["detector"]?.value
        calibration.detectorName = detector == "None" ? nil : detector
        if version < 2 {
            calibration.pixelSize1 = try number("PixelSize1", required: false)
            calibration.pixelSize2 = try number("PixelSize2", required: false)
        } else {
            guard calibration.detectorName != nil else { throw .missingKey(source: source, key: "Detector") }
            if let entry = entries["detector_config"] {
                let config: JSONValue
                do { config = try JSONValue.parse(entry.value) } catch {
                    throw .badValue(source: source, key: entry.key, expected: "a JSON object", found: entry.value)
                }
                try apply(config, key: entry.key, text: entry.value, to: &calibration, source: source)
            }
        }
        return calibration
    }

    // MARK: - JSON

    /// Parses pyFAI's calibration JSON (goniometer, `get_config()` or
    /// worker form).
    public static func parseJSON(_ text: String, source: String = "<memory>") throws(PONIFileError) -> PONICalibration {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch {
            throw .malformed(source: source, reason: "not valid JSON")
        }
        guard case var .object(object) = root else {
            throw .malformed(source: source, reason: "the JSON is not an object")
        }
        if case let .object(poni)? = object["poni"] { object = poni }  // integration-worker form
        // Goniometer form: "param_names" and "param" side by side.
        var values = object
        if let names = object["param_names"] {
            guard case let .array(nameList) = names, case let .array(params)? = object["param"],
                  nameList.count == params.count else {
                throw .badValue(source: source, key: "param_names", expected: "a list of names as long as \"param\"",
                                found: names.text)
            }
            for (name, value) in zip(nameList, params) {
                guard case let .string(key) = name else {
                    throw .badValue(source: source, key: "param_names", expected: "names", found: name.text)
                }
                values[key] = value
            }
        }
        func number(_ keys: [String], required: Bool = true) throws(PONIFileError) -> Double? {
            for key in keys {
                guard let value = values[key] else { continue }
                switch value {
                case let .number(x): return x
                case .null where !required: return nil
                case let .string(s):
                    if let x = Double(s) { return x }
                    fallthrough
                default:
                    throw .badValue(source: source, key: key, expected: "a number", found: value.text)
                }
            }
            if required { throw .missingKey(source: source, key: keys[0]) }
            return nil
        }
        var calibration = PONICalibration(
            distance: try number(["dist", "distance"])!, poni1: try number(["poni1"])!, poni2: try number(["poni2"])!,
            rot1: try number(["rot1"])!, rot2: try number(["rot2"])!, rot3: try number(["rot3"])!,
            wavelength: try number(["wavelength"], required: false))
        if let detector = object["detector"] {
            guard case let .string(name) = detector else {
                throw .badValue(source: source, key: "detector", expected: "a detector name", found: detector.text)
            }
            calibration.detectorName = name
        }
        if let config = object["detector_config"], config != .null {
            try apply(config, key: "detector_config", text: config.text, to: &calibration, source: source)
        }
        return calibration
    }

    /// Reads `pixel1`, `pixel2`, `max_shape` and `orientation` from a
    /// detector configuration object.
    static func apply(_ config: JSONValue, key: String, text: String, to calibration: inout PONICalibration,
                      source: String) throws(PONIFileError) {
        guard case let .object(fields) = config else {
            throw .badValue(source: source, key: key, expected: "a JSON object", found: text)
        }
        calibration.detectorConfig = text
        func field(_ name: String) throws(PONIFileError) -> Double? {
            guard let value = fields[name], value != .null else { return nil }
            guard case let .number(x) = value else {
                throw .badValue(source: source, key: "\(key).\(name)", expected: "a number", found: value.text)
            }
            return x
        }
        calibration.pixelSize1 = try field("pixel1")
        calibration.pixelSize2 = try field("pixel2")
        if let orientation = try field("orientation") {
            guard let whole = Int(exactly: orientation) else {
                throw .badValue(source: source, key: "\(key).orientation", expected: "1, 2, 3 or 4", found: "\(orientation)")
            }
            calibration.orientation = whole
        }
        if let shape = fields["max_shape"], shape != .null {
            guard case let .array(axes) = shape, axes.count == 2,
                  case let .number(rows) = axes[0], case let .number(columns) = axes[1],
                  let r = Int(exactly: rows), let c = Int(exactly: columns) else {
                throw .badValue(source: source, key: "\(key).max_shape", expected: "[rows, columns]", found: shape.text)
            }
            calibration.maxShape = [r, c]
        }
    }
}

/// Errors of ``PONIFile``; each names the file (or `"<memory>"`) and, where
/// there is one, the key.
public enum PONIFileError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument that the entry point cannot use; see `ArgumentError`.
    case argument(ArgumentError)
    /// The operating system refused an operation on `path`.
    case ioFailure(path: String, operation: String, reason: String)
    /// The file is not text, or not a JSON object where JSON was expected.
    case malformed(source: String, reason: String)
    /// A required key (`Distance`, `Poni1`, `Poni2`, `Rot1`–`Rot3`, or
    /// `Detector` from version 2 on) is missing.
    case missingKey(source: String, key: String)
    /// The value of `key` is not what it must be (a number, a JSON object,
    /// `[rows, columns]`).
    case badValue(source: String, key: String, expected: String, found: String)
    /// `poni_version` is not 1, 2, 2.1 or 3.
    case unsupportedVersion(source: String, version: String)

    /// A one-line message naming the file and the key.
    public var description: String {
        switch self {
        case let .argument(error):
            return error.description
        case let .ioFailure(path, operation, reason):
            return "\(path): \(operation) failed: \(reason)"
        case let .malformed(source, reason):
            return "\(source): not a pyFAI calibration file: \(reason)"
        case let .missingKey(source, key):
            return "\(source): missing key '\(key)'"
        case let .badValue(source, key, expected, found):
            return "\(source): key '\(key)': expected \(expected), found '\(found.count > 200 ? String(found.prefix(200)) + "..." : found)'"
        case let .unsupportedVersion(source, version):
            return "\(source): unsupported poni_version \(version) (supported: 1, 2, 2.1, 3)"
        }
    }
}

/// A parsed JSON value (numbers as `Double`).
enum JSONValue: Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses JSON text.
    static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// Compact text for messages.
    var text: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return value ? "true" : "false"
        case let .number(value): return "\(value)"
        case let .string(value): return "\"\(value)\""
        case let .array(values): return "[" + values.map(\.text).joined(separator: ", ") + "]"
        case let .object(fields):
            return "{" + fields.keys.sorted().map { "\"\($0)\": \(fields[$0]!.text)" }.joined(separator: ", ") + "}"
        }
    }
}
