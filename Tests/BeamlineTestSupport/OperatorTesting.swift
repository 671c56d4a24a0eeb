import BeamlineOperators
import BeamlineTensor

/// The dot-product test of an adjoint: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ for seeded
/// normal x and y. Returns the relative gap |⟨A x, y⟩ − ⟨x, Aᵀ y⟩| /
/// (‖A x‖‖y‖ + ‖x‖‖Aᵀ y‖), which is a few ulp for an exact adjoint and of
/// order 1 for a wrong one. Every operator's tests use this one check.
public func adjointGap<Op: LinearOperator>(_ op: Op, seed: UInt64) -> Double where Op.Scalar == Double {
    let x = Tensor<Double>.normal([op.columns], seed: seed), y = Tensor<Double>.normal([op.rows], seed: seed &+ 1)
    let ax = op.apply(x), aty = op.applyAdjoint(y)
    let lhs = dot(ax, y), rhs = dot(x, aty)
    return abs(lhs - rhs) / max(ax.norm() * y.norm() + x.norm() * aty.norm(), 1e-300)
}

/// A seeded uniform random tensor in [−1, 1) (a 64-bit LCG: the same
/// values on every platform, so tolerances that depend on the data stay
/// valid).
public func randomTensor<T: RealElement>(_ shape: [Int], seed: UInt64, as: T.Type = Double.self) -> Tensor<T> {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let count = shape.reduce(1, *)
    var values = [T]()
    values.reserveCapacity(count)
    for _ in 0..<count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        values.append(T(Double(state >> 11) / Double(1 << 53) * 2 - 1))
    }
    return Tensor(shape: shape, elements: values)
}

/// Σ aᵢ bᵢ over the logical elements, accumulated in Double in order.
public func dot<T: RealElement>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    zip(a.elements, b.elements).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
