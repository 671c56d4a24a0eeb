import BeamlineIO
import BeamlineTensor
import ComplexModule
import Foundation
import Testing

/// The fixture directory copied into the test bundle (files written by
/// Tests/Fixtures/generate_io.py with NumPy 2.4).
func fixtureURL(_ name: String) throws -> URL {
    guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
        throw FixtureMissing(name: "Fixtures")
    }
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else { throw FixtureMissing(name: name) }
    return url
}

/// The bytes of a fixture.
func fixtureData(_ name: String) throws -> Data {
    try Data(contentsOf: fixtureURL(name))
}

struct FixtureMissing: Error { let name: String }

/// A fresh, empty directory under the system temporary directory, removed
/// by the caller with `removeItem`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("beamline-io-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The values generate_io.py saves, rebuilt with the same formulas.
enum Expected {
    /// `(np.arange(6, dtype=np.float32) * np.float32(0.25) - np.float32(0.5)).reshape(2, 3)`
    static let f4 = Tensor<Float>(shape: [2, 3], elements: (0..<6).map { Float($0) * 0.25 - 0.5 })
    /// `(np.arange(6.0) * 0.1).reshape(2, 3)`
    static let f8 = Tensor<Double>(shape: [2, 3], elements: (0..<6).map { Double($0) * 0.1 })
    /// `np.array([1 + 2j, -0.5 + 0.25j, 3 - 4j], dtype=np.complex64)`
    static let c8 = Tensor<Complex<Float>>([Complex(1, 2), Complex(-0.5, 0.25), Complex(3, -4)])
    /// `np.array([[1 + 2j, 0.1 - 0.2j], [3j, -4]], dtype=np.complex128)`
    static let c16 = Tensor<Complex<Double>>(shape: [2, 2],
                                             elements: [Complex(1, 2), Complex(0.1, -0.2), Complex(0, 3), Complex(-4, 0)])
    /// `np.array([-2147483648, -1, 0, 2147483647], dtype=np.int32)`
    static let i4 = Tensor<Int32>([Int32.min, -1, 0, Int32.max])
    /// `np.array([[-9223372036854775808, -1], [0, 9223372036854775807]], dtype=np.int64)`
    static let i8 = Tensor<Int64>(shape: [2, 2], elements: [Int64.min, -1, 0, Int64.max])
    /// `np.array([0, 1, 127, 128, 255], dtype=np.uint8)`
    static let u1 = Tensor<UInt8>([0, 1, 127, 128, 255])
    /// `np.array([True, False, False, True])`
    static let b1 = Tensor<Bool>([true, false, false, true])

    /// Every element type, keyed by fixture name.
    static let typed: [(String, AnyTensor)] = [
        ("f4", AnyTensor(f4)), ("f8", AnyTensor(f8)), ("c8", AnyTensor(c8)), ("c16", AnyTensor(c16)),
        ("i4", AnyTensor(i4)), ("i8", AnyTensor(i8)), ("u1", AnyTensor(u1)), ("b1", AnyTensor(b1)),
    ]

    /// `np.arange(24.0).reshape(2, 3, 4)`
    static let arange24 = Tensor<Double>(shape: [2, 3, 4], elements: (0..<24).map(Double.init))
    /// `np.arange(24, dtype=np.int64).reshape(2, 3, 4)`
    static let arange24Int = Tensor<Int64>(shape: [2, 3, 4], elements: (0..<24).map(Int64.init))
    /// `(np.arange(1000) % 256).astype(np.uint8)`
    static let u1Long = Tensor<UInt8>((0..<1000).map { UInt8($0 % 256) })
}
