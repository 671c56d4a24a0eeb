import BeamlineOperators
import RealModule
import BeamlineTensor

/// A data-fidelity loss `L(p, t) = Σᵢ wᵢ ℓ(pᵢ, tᵢ)` between a prediction
/// `p` and a target `t`, with optional weights `w` (default 1), evaluated
/// together with its gradient with respect to `p`.
///
/// | loss | ℓ(p, t) | ∂ℓ/∂p |
/// |---|---|---|
/// | ``l2`` | ½ (p − t)² | p − t |
/// | ``l1`` | \|p − t\| | sign(p − t) (0 at 0) |
/// | ``huber(delta:)`` | ½ r² if \|r\| ≤ δ, else δ (\|r\| − ½ δ), r = p − t | r clipped to [−δ, δ] |
/// | ``poisson`` | p − t log p (the Poisson negative log-likelihood without the constant log t!) | 1 − t / p |
///
/// For ``poisson`` a prediction `p ≤ 0` gives `+∞` where `t > 0` (and the
/// value `p`, gradient 1, where `t = 0`), which line searches treat as a
/// step too far. Sums run in `Double`, in index order.
public enum Loss: Sendable, Equatable {
    /// Half the squared error.
    case l2
    /// The absolute error.
    case l1
    /// The Huber loss with threshold δ > 0.
    case huber(delta: Double)
    /// The Poisson negative log-likelihood.
    case poisson

    /// Loss value, writing the gradient into `gradient` when given. All
    /// buffers have the same length (a programmer error otherwise).
    @inlinable
    public func evaluate<S: RealElement>(prediction p: UnsafeBufferPointer<S>, target t: UnsafeBufferPointer<S>,
                                         weights w: UnsafeBufferPointer<S>? = nil,
                                         gradient g: UnsafeMutableBufferPointer<S>? = nil) -> Double {
        precondition(p.count == t.count && (w == nil || w!.count == p.count) && (g == nil || g!.count == p.count),
                     "Loss.evaluate: buffer lengths differ")
        var total = 0.0
        for i in 0..<p.count {
            let weight = w.map { Double($0[i]) } ?? 1
            let pi = Double(p[i]), ti = Double(t[i])
            let value: Double, slope: Double
            switch self {
            case .l2:
                let r = pi - ti
                value = 0.5 * r * r
                slope = r
            case .l1:
                let r = pi - ti
                value = Swift.abs(r)
                slope = r > 0 ? 1 : (r < 0 ? -1 : 0)
            case let .huber(delta):
                let r = pi - ti
                if Swift.abs(r) <= delta {
                    value = 0.5 * r * r
                    slope = r
                } else {
                    value = delta * (Swift.abs(r) - 0.5 * delta)
                    slope = r > 0 ? delta : -delta
                }
            case .poisson:
                if ti == 0 {
                    value = pi
                    slope = 1
                } else if pi > 0 {
                    value = pi - ti * Double.log(pi)
                    slope = 1 - ti / pi
                } else {
                    value = .infinity
                    slope = -.infinity
                }
            }
            total += weight * value
            if let g { g[i] = S(weight * slope) }
        }
        return total
    }

    /// Loss value and gradient for tensors of equal element count.
    ///
    /// - Throws: ``SolverError/shapeMismatch(argument:expected:received:)``
    ///   when `target` or `weights` do not match `prediction`,
    ///   ``SolverError/nonFiniteValues(argument:)`` for NaN or infinity in
    ///   the target or weights, ``SolverError/invalidArgument(name:expected:received:)``
    ///   for negative weights, a Huber δ ≤ 0, or (Poisson) a negative target.
    @inlinable
    public func valueAndGradient<S: RealElement>(prediction: Tensor<S>, target: Tensor<S>,
                                                 weights: Tensor<S>? = nil) throws(SolverError) -> (value: Double, gradient: Tensor<S>) {
        try validate(count: prediction.count, target: target, weights: weights)
        let p = prediction.elements, t = target.elements, w = weights?.elements
        var gradient = [S](repeating: 0, count: p.count)
        let value = p.withUnsafeBufferPointer { pp in
            t.withUnsafeBufferPointer { tp in
                gradient.withUnsafeMutableBufferPointer { gp in
                    if let w { return w.withUnsafeBufferPointer { evaluate(prediction: pp, target: tp, weights: $0, gradient: gp) } }
                    return evaluate(prediction: pp, target: tp, weights: nil, gradient: gp)
                }
            }
        }
        return (value, Tensor(shape: prediction.shape, elements: gradient))
    }

    /// Checks a target and weights for a prediction of `count` elements.
    @inlinable
    public func validate<S: RealElement>(count: Int, target: Tensor<S>, weights: Tensor<S>?) throws(SolverError) {
        guard target.count == count else {
            throw .shapeMismatch(argument: "target", expected: [count], received: target.shape)
        }
        if target.elements.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: "target") }
        if let weights {
            guard weights.count == count else {
                throw .shapeMismatch(argument: "weights", expected: [count], received: weights.shape)
            }
            let w = weights.elements
            if w.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: "weights") }
            if let bad = w.firstIndex(where: { $0 < 0 }) {
                throw .invalidArgument(name: "weights", expected: "values ≥ 0", received: "\(w[bad]) at index \(bad)")
            }
        }
        switch self {
        case let .huber(delta) where !(delta > 0 && delta.isFinite):
            throw .invalidArgument(name: "Huber delta", expected: "a finite number > 0", received: "\(delta)")
        case .poisson:
            if let bad = target.elements.firstIndex(where: { $0 < 0 }) {
                throw .invalidArgument(name: "target", expected: "counts ≥ 0 for the Poisson loss",
                                       received: "\(target.elements[bad]) at index \(bad)")
            }
        default: break
        }
    }
}

/// An objective for the optimisers: value and gradient at `x`. It may throw
/// a ``SolverError`` (for example ``SolverError/argument(_:)`` for an `x` it
/// cannot evaluate); the optimisers pass it on.
public typealias Objective<S: RealElement> = (Tensor<S>) throws(SolverError) -> (value: Double, gradient: Tensor<S>)

extension LinearOperator {
    /// The data-fidelity objective `x ↦ loss(A x, data; weights)` with
    /// gradient `Aᵀ ∇loss`, for ``GradientDescent``, ``Adam`` and ``LBFGS``.
    ///
    /// - Throws: the checks of ``Loss/validate(count:target:weights:)``
    ///   (against `LinearOperator.rows`); the returned closure throws
    ///   ``SolverError/shapeMismatch(argument:expected:received:)`` for an
    ///   `x` of the wrong length.
    @inlinable
    public func objective(data: Tensor<Scalar>, loss: Loss,
                          weights: Tensor<Scalar>? = nil) throws(SolverError) -> Objective<Scalar> {
        try loss.validate(count: rows, target: data, weights: weights)
        let target = data.reshaped([rows])
        let w = weights?.reshaped([rows])
        return { x throws(SolverError) in
            guard x.count == columns else {
                throw SolverError.shapeMismatch(argument: "x", expected: [columns], received: x.shape)
            }
            let prediction = apply(x)
            let p = prediction.elements, t = target.elements, wv = w?.elements
            var g = [Scalar](repeating: 0, count: rows)
            let value = p.withUnsafeBufferPointer { pp in
                t.withUnsafeBufferPointer { tp in
                    g.withUnsafeMutableBufferPointer { gp in
                        if let wv { return wv.withUnsafeBufferPointer { loss.evaluate(prediction: pp, target: tp, weights: $0, gradient: gp) } }
                        return loss.evaluate(prediction: pp, target: tp, weights: nil, gradient: gp)
                    }
                }
            }
            return (value, applyAdjoint(Tensor(g)).reshaped(x.shape))
        }
    }
}
