import BeamlineTensor
import ComplexModule
import Foundation

/// Expected values computed by the reference libraries (NumPy, SciPy,
/// scikit-image, mumott, pyFAI, the numba peers) and stored as JSON by the
/// generators in Tests/Fixtures (see fixturelib.py). Shared by every test
/// target; each target loads from its own bundle (`Fixtures.load(_:)` in its
/// FixtureSupport.swift).
public struct Fixtures: Sendable {
    /// One stored array: shape, NumPy dtype name and flat data (complex
    /// interleaved, Booleans as 0/1).
    public struct Entry: Decodable, Sendable {
        public let shape: [Int]
        public let dtype: String
        public let data: [Double]
    }

    /// All arrays of the file by name.
    public let entries: [String: Entry]

    /// Loads `Fixtures/<file>` from `bundle`.
    public static func load(_ file: String, in bundle: Bundle) throws -> Fixtures {
        guard let url = bundle.url(forResource: "Fixtures/" + file, withExtension: nil)
            ?? bundle.url(forResource: file, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing(file)
        }
        let data = try Data(contentsOf: url)
        return Fixtures(entries: try JSONDecoder().decode([String: Entry].self, from: data))
    }

    public func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw FixtureError.missing(name) }
        return e
    }

    /// A real tensor (Float or Double).
    public func real<T: RealElement>(_ name: String, as: T.Type = Double.self) throws -> Tensor<T> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { T($0) })
    }

    /// A complex tensor from interleaved data.
    public func complex<T: RealElement>(_ name: String, as: T.Type = Double.self) throws -> Tensor<Complex<T>> {
        let e = try entry(name)
        let values = stride(from: 0, to: e.data.count, by: 2).map { Complex(T(e.data[$0]), T(e.data[$0 + 1])) }
        return Tensor(shape: e.shape, elements: values)
    }

    /// An integer tensor.
    public func integer(_ name: String) throws -> Tensor<Int64> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { Int64($0) })
    }

    /// A Boolean tensor.
    public func bool(_ name: String) throws -> Tensor<Bool> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { $0 != 0 })
    }
}

public enum FixtureError: Error { case missing(String) }

/// Largest |a - b| / max(|b|, floor) over all elements; shapes must match.
public func maxRelativeError<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>, floor: Double = 1e-300) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var worst = 0.0
    for (x, y) in zip(a.elements, b.elements) {
        let d = Double((x - y).modulus), m = max(Double(y.modulus), floor)
        worst = max(worst, d / m)
    }
    return worst
}

/// Largest |a - b| over all elements; shapes must match.
public func maxAbsoluteError<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var worst = 0.0
    for (x, y) in zip(a.elements, b.elements) { worst = max(worst, Double((x - y).modulus)) }
    return worst
}
