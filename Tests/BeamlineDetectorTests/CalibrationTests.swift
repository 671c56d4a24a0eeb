import BeamlineDetector
import BeamlineIO
import BeamlineTensor
import Foundation
import Testing

/// pyFAI calibration files written (or, for the versions pyFAI 2026 no
/// longer writes, read back) by pyFAI; the expected numbers are pyFAI's own
/// reading of each file (Tests/Fixtures/generate_poni.py, expected.json).
@Suite struct CalibrationTests {
    static func url(_ name: String) throws -> URL {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return directory.appendingPathComponent("poni").appendingPathComponent(name)
    }

    static func expected() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: url("expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    static let files = ["pilatus1m_v21.poni", "generic_v21.poni", "pilatus1m_v2.poni", "pilatus1m_v1.poni",
                        "generic_v1.poni", "goniometer.json", "get_config.json"]

    @Test("pyFAI's numbers from every version and form", arguments: files)
    func matchesPyFAI(file: String) throws {
        let pyfai = try #require(try Self.expected()[file])
        let number = { (key: String) throws -> Double in try #require(pyfai[key] as? Double) }
        let calibration = try PONIFile.read(from: Self.url(file))
        #expect(calibration.distance == (try number("dist")))
        #expect(calibration.poni1 == (try number("poni1")))
        #expect(calibration.poni2 == (try number("poni2")))
        #expect(calibration.rot1 == (try number("rot1")))
        #expect(calibration.rot2 == (try number("rot2")))
        #expect(calibration.rot3 == (try number("rot3")))
        #expect(calibration.wavelength == (try number("wavelength")))
        #expect(calibration.version == (file.hasSuffix("_v1.poni") ? 1 : file.hasSuffix("_v2.poni") ? 2 :
                                        file.hasSuffix(".poni") ? 2.1 : nil))

        let maxShape = (pyfai["max_shape"] as? [Int])
        // Version 1 files of a generic detector state no shape: give it.
        let detector = try Detector(calibration: calibration, shape: maxShape == nil ? [1100, 1000] : nil)
        #expect(detector.pixelSize1 == (try number("pixel1")))
        #expect(detector.pixelSize2 == (try number("pixel2")))
        if let maxShape { #expect(detector.shape == maxShape) }
        let name = try #require(pyfai["detector"] as? String)
        #expect(detector.name == (name == "Detector" ? "custom" : name))

        // pyFAI's calc_pos_zyx and 2θ at three pixel centres.
        let geometry = try PONIGeometry(calibration)
        let pixels = try #require(pyfai["pixels"] as? [[Double]])
        let zyx = try #require(pyfai["zyx"] as? [[Double]]), tth = try #require(pyfai["tth"] as? [Double])
        for (k, pixel) in pixels.enumerated() {
            let lab = geometry.labPosition(x1: (pixel[0] + 0.5) * detector.pixelSize1,
                                           x2: (pixel[1] + 0.5) * detector.pixelSize2)
            #expect(abs(lab.z - zyx[k][0]) < 1e-15 && abs(lab.y - zyx[k][1]) < 1e-15 && abs(lab.x - zyx[k][2]) < 1e-15,
                    "\(file) pixel \(pixel)")
            let twoTheta = atan2((lab.x * lab.x + lab.y * lab.y).squareRoot(), lab.z)
            #expect(abs(twoTheta - tth[k]) < 1e-13, "\(file) pixel \(pixel)")
        }
    }

    @Test("the v2.1 file in detail")
    func details() throws {
        let calibration = try PONIFile.read(from: Self.url("generic_v21.poni"))
        #expect(calibration.detectorName == "Detector")
        #expect(calibration.maxShape == [1100, 1000])
        #expect(calibration.orientation == 3)
        #expect(calibration.detectorConfig?.contains("\"max_shape\": [1100, 1000]") == true)
        #expect(abs(try #require(calibration.energy) - 12.398419843320026e-10 / 7e-11) < 1e-12)
        let v1 = try PONIFile.read(from: Self.url("pilatus1m_v1.poni"))
        #expect(v1.detectorName == "Pilatus1M" && v1.pixelSize1 == 172e-6 && v1.detectorConfig == nil && v1.orientation == nil)
        // Keys are case-insensitive, the last one wins, comments are skipped.
        let text = "# Distance: 9\ndistance: 1\nDISTANCE: 2\nponi1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\nRot3: 0\nno colon here\n"
        let parsed = try PONIFile.decode(Data(text.utf8))
        #expect(parsed.distance == 2 && parsed.version == 1 && parsed.wavelength == nil && parsed.detectorName == nil)
        // Version 3 adds `parallax` (ignored); CRLF line ends; `Wavelength: None`.
        let v3 = "poni_version: 3\r\nDetector: Eiger2_4M\r\nDetector_config: {\"orientation\": 3}\r\nparallax: True\r\n"
            + "Distance: 0.5\r\nPoni1: 0.1\r\nPoni2: 0.2\r\nRot1: 0\r\nRot2: 0\r\nRot3: 0\r\nWavelength: None\r\n"
        let three = try PONIFile.decode(Data(v3.utf8))
        #expect(three.version == 3 && three.detectorName == "Eiger2_4M" && three.distance == 0.5 && three.wavelength == nil)
        #expect(try Detector(calibration: three).shape == (try Detector.named("Eiger2_4M")).shape)
        // The integration-worker JSON nests the geometry under "poni".
        let worker = #"{"version": 4, "poni": {"dist": 0.3, "poni1": 0.01, "poni2": 0.02, "rot1": 0, "rot2": 0, "#
            + #""rot3": 0, "detector": "Pilatus 1M", "wavelength": 1e-10}, "unit": "2th_deg"}"#
        let fromWorker = try PONIFile.decode(Data(worker.utf8))
        #expect(fromWorker.distance == 0.3 && fromWorker.detectorName == "Pilatus 1M" && fromWorker.wavelength == 1e-10)
        #expect(try Detector(calibration: fromWorker).name == "Pilatus1M")
    }

    @Test("bad files name the file and the key")
    func badFiles() throws {
        let cases: [(String, (String) -> PONIFileError)] = [
            ("missing_poni2.poni", { .missingKey(source: $0, key: "Poni2") }),
            ("bad_rot1.poni", { .badValue(source: $0, key: "Rot1", expected: "a number", found: "0.1rad") }),
            ("version4.poni", { .unsupportedVersion(source: $0, version: "4") }),
        ]
        for (file, error) in cases {
            let url = try Self.url(file)
            #expect(throws: error(url.path)) { try PONIFile.read(from: url) }
        }
        let config = try Self.url("bad_config.poni")
        #expect { try PONIFile.read(from: config) } throws: { error in
            guard case let .badValue(source, key, expected, _) = error as? PONIFileError else { return false }
            return source == config.path && key == "Detector_config" && expected == "a JSON object"
        }
        #expect(PONIFileError.missingKey(source: "a.poni", key: "Poni2").description == "a.poni: missing key 'Poni2'")
        #expect(PONIFileError.unsupportedVersion(source: "a.poni", version: "4").description
            == "a.poni: unsupported poni_version 4 (supported: 1, 2, 2.1, 3)")
        let missing = URL(fileURLWithPath: "/nonexistent/calib.poni")
        #expect { try PONIFile.read(from: missing) } throws: { error in
            "\(error)".hasPrefix("/nonexistent/calib.poni: open failed")
        }
        // JSON forms: a missing parameter, a non-number.
        #expect(throws: PONIFileError.missingKey(source: "<memory>", key: "rot3")) {
            try PONIFile.decode(Data(#"{"param_names": ["dist", "poni1", "poni2", "rot1", "rot2"], "param": [1, 0, 0, 0, 0]}"#.utf8))
        }
        #expect(throws: PONIFileError.badValue(source: "<memory>", key: "poni1", expected: "a number", found: "[1.0]")) {
            try PONIFile.decode(Data(#"{"dist": 1, "poni1": [1], "poni2": 0, "rot1": 0, "rot2": 0, "rot3": 0}"#.utf8))
        }
        #expect(throws: PONIFileError.malformed(source: "<memory>", reason: "not valid JSON")) {
            try PONIFile.decode(Data("{\"dist\": ".utf8))
        }
        // A flipped detector orientation is refused, naming it.
        let flipped = try PONIFile.read(from: Self.url("orientation1.poni"))
        #expect(flipped.orientation == 1)
        #expect { try PONIGeometry(flipped) } throws: { "\($0)".contains("orientation") }
        // A catalogue detector whose stated pixel size disagrees; a pyFAI detector Beamline does not know.
        var wrong = try PONIFile.read(from: Self.url("pilatus1m_v21.poni"))
        wrong.pixelSize1 = 100e-6
        #expect { try Detector(calibration: wrong) } throws: { "\($0)".contains("pixel1") }
        wrong.detectorName = "Mar345"
        #expect(throws: DetectorError.unknownDetector(name: "Mar345", known: Detector.catalogueNames)) {
            try Detector(calibration: wrong)
        }
        // A generic detector without max_shape needs the shape.
        let v1 = try PONIFile.read(from: Self.url("generic_v1.poni"))
        #expect { try Detector(calibration: v1) } throws: { "\($0)".contains("shape") }
    }
}
