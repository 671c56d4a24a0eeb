import BeamlineTensor
import ComplexModule
import Foundation

/// Expected values computed by the reference libraries (NumPy, SciPy, numba peer, pyFAI) and
/// stored as JSON by the generators in Tests/Fixtures (see fixturelib.py).
struct Fixtures {
    struct Entry: Decodable {
        let shape: [Int]
        let dtype: String
        let data: [Double]
    }

    let entries: [String: Entry]

    /// Loads `Fixtures/<file>` from the test bundle.
    static func load(_ file: String) throws -> Fixtures {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + file, withExtension: nil)
            ?? Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing(file)
        }
        let data = try Data(contentsOf: url)
        return Fixtures(entries: try JSONDecoder().decode([String: Entry].self, from: data))
    }

    func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw FixtureError.missing(name) }
        return e
    }

    /// A real tensor (Float or Double).
    func real<T: RealElement>(_ name: String, as: T.Type = Double.self) throws -> Tensor<T> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { T($0) })
    }

    /// A complex tensor from interleaved data.
    func complex<T: RealElement>(_ name: String, as: T.Type = Double.self) throws -> Tensor<Complex<T>> {
        let e = try entry(name)
        let values = stride(from: 0, to: e.data.count, by: 2).map { Complex(T(e.data[$0]), T(e.data[$0 + 1])) }
        return Tensor(shape: e.shape, elements: values)
    }

    /// An integer tensor.
    func integer(_ name: String) throws -> Tensor<Int64> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { Int64($0) })
    }

    /// A Boolean tensor.
    func bool(_ name: String) throws -> Tensor<Bool> {
        let e = try entry(name)
        return Tensor(shape: e.shape, elements: e.data.map { $0 != 0 })
    }
}

enum FixtureError: Error { case missing(String) }

/// Largest |a - b| / max(|b|, floor) over all elements; shapes must match.
func maxRelativeError<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>, floor: Double = 1e-300) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var worst = 0.0
    for (x, y) in zip(a.elements, b.elements) {
        let d = Double((x - y).modulus), m = max(Double(y.modulus), floor)
        worst = max(worst, d / m)
    }
    return worst
}

/// Largest |a - b| over all elements; shapes must match.
func maxAbsoluteError<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var worst = 0.0
    for (x, y) in zip(a.elements, b.elements) { worst = max(worst, Double((x - y).modulus)) }
    return worst
}
