// libFuzzer harness: pyFAI calibration files, .poni text (versions 1 to 3)
// and the JSON forms (goniometer, get_config, integration worker).
import BeamlineIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPONI(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    if let calibration = try? PONIFile.decode(data) { _ = calibration.energy }
    if let text = String(data: data, encoding: .utf8) {
        _ = try? PONIFile.parsePONI(text)
        _ = try? PONIFile.parseJSON(text)
    }
    return 0
}
