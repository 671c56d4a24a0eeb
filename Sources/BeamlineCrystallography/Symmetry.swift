/// A crystallographic point-group symmetry used to merge equivalent
/// reflections, as cbclib's `merge_hkl` does.
///
/// | symmetry | cbclib | representative of (h, k, l) |
/// |---|---|---|
/// | ``none`` | `None` | (h, k, l) |
/// | ``mmm`` | `"mmm"` | (\|h\|, \|k\|, \|l\|) |
/// | ``fourMM`` | `"4mm"` | (min(\|h\|, \|k\|), max(\|h\|, \|k\|), \|l\|) |
///
/// cbclib's documentation states `mmm` as (h, k, l) = (−h, −k, −l) and
/// `4mm` as (h, k, l) = (−h, −k, −l) = (k, h, l); its code (and this type)
/// merges every sign change of each index, which is the Laue class mmm
/// (and 4/mmm for `4mm`): Friedel pairs and the mirror-related reflections.
public enum PointGroupSymmetry: String, Sendable, Hashable, CaseIterable {
    /// No merging.
    case none
    /// Orthorhombic mmm: all sign changes of h, k and l.
    case mmm
    /// Tetragonal 4mm: all sign changes and the exchange of h and k.
    case fourMM = "4mm"

    /// The symmetry named `name` (`"mmm"`, `"4mm"`, `"none"`).
    ///
    /// - Throws: ``CrystallographyError/unknownSymmetry(name:known:)``.
    public init(name: String) throws(CrystallographyError) {
        guard let symmetry = PointGroupSymmetry(rawValue: name.lowercased()) else {
            throw .unknownSymmetry(name: name, known: PointGroupSymmetry.allCases.map(\.rawValue))
        }
        self = symmetry
    }

    /// The representative of the class of reflections equivalent to `hkl`.
    @inlinable
    public func representative(of hkl: SIMD3<Int32>) -> SIMD3<Int32> {
        switch self {
        case .none:
            return hkl
        case .mmm:
            return SIMD3(Swift.abs(hkl.x), Swift.abs(hkl.y), Swift.abs(hkl.z))
        case .fourMM:
            let h = Swift.abs(hkl.x), k = Swift.abs(hkl.y)
            return SIMD3(Swift.min(h, k), Swift.max(h, k), Swift.abs(hkl.z))
        }
    }

    /// The distinct representatives of `hkls` in lexicographic order (as
    /// `numpy.unique(..., axis=0)`) and, for each input, the position of its
    /// representative.
    public func merge(_ hkls: [SIMD3<Int32>]) -> (unique: [SIMD3<Int32>], inverse: [Int]) {
        let reps = hkls.map { representative(of: $0) }
        let unique = Array(Set(reps)).sorted { a, b in
            a.x != b.x ? a.x < b.x : (a.y != b.y ? a.y < b.y : a.z < b.z)
        }
        var position: [SIMD3<Int32>: Int] = [:]
        for (i, u) in unique.enumerated() { position[u] = i }
        return (unique, reps.map { position[$0]! })
    }
}
