// libFuzzer harness: tomography geometry JSON (mumott's fields), parsed,
// validated and written back.
import BeamlineTomography
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGeometry(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    if let geometry = try? Geometry(json: data) {
        _ = geometry.jsonData()
    }
    return 0
}
