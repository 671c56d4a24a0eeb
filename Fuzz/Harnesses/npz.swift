// libFuzzer harness: NumPy .npz archives (ZIP structure and members):
// opens the archive from memory and reads every member as an array, as
// raw bytes and as a string.
import BeamlineIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let archive = try? NumpyArchive(data: data) else { return 0 }
    for name in archive.names {
        _ = try? archive.read(name)
        _ = try? archive.memberData(name)
        _ = try? archive.readString(name)
    }
    _ = archive.contains("data")
    return 0
}
