// libFuzzer harness: NumPy .npy headers and payloads (NumpyFile.decode,
// the typed and mask reads, and the string reader). Built and run by
// scripts/fuzz.sh; not part of the package.
import BeamlineIO
import BeamlineTensor
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    if let tensor = try? NumpyFile.decode(data) {
        _ = try? tensor.tensor(as: Double.self, conversion: .valuePreserving)
        _ = try? tensor.tensor(as: Int32.self, conversion: .numpyCast)
        _ = try? tensor.maskFlags()
        _ = NumpyFile.encode(tensor)
    }
    _ = try? NumpyFile.decodeString(data)
    return 0
}
