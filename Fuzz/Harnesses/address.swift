// libFuzzer harness: CLI dataset addresses (file.npy, file.npz:member,
// file.h5:/path[selection]) parsed from arbitrary text.
import BeamlineIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddress(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    if let address = try? DatasetAddress(text) {
        _ = address.description
        _ = address.selection.count
        _ = address.url
    }
    return 0
}
