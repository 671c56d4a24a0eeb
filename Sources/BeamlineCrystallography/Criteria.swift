import Foundation

/// The loss applied to the normalised residual r = (I − λ) / σ, σ = √λ, by
/// the least-squares criterion (cbclib's `loss` keyword).
public enum LeastSquaresLoss: String, Sendable, Hashable, CaseIterable {
    /// r².
    case l2
    /// |r|.
    case l1
    /// Huber with δ = 1.345: r² for |r| ≤ δ, 2δ|r| − δ² beyond (continuous;
    /// see ``CBCLibCompatibility/discontinuousHuber``).
    case huber
}

/// cbclib v0.7.2 behaviours that are not the mathematically consistent
/// choice, each reproducible on request (the default is none of them).
public struct CBCLibCompatibility: OptionSet, Sendable, Hashable {
    /// The raw value.
    public let rawValue: Int
    /// Creates an option set.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The least-squares gradient treats σ = √λ as a constant (cbclib's
    /// `ls_criterion`): ∂r/∂λ = −1/σ instead of the true −(λ + I)/(2λ^{3/2}).
    /// The returned gradient is then not the gradient of the value.
    public static let constantSigmaGradient = CBCLibCompatibility(rawValue: 1)
    /// cbclib's Huber loss 2.69 (|r| − 0.7625) beyond |r| = 1.345, which
    /// jumps by 0.242 at the threshold (the continuous form is
    /// 2.69 (|r| − 0.6725)).
    public static let discontinuousHuber = CBCLibCompatibility(rawValue: 2)
}

/// A scaling criterion: cbclib's `kind` (`"poisson"` or `"least_squares"`),
/// `loss`, and the cbclib compatibility options.
public struct ScalingCriterion: Sendable, Hashable, CustomStringConvertible {
    /// The two criteria.
    public enum Kind: String, Sendable, Hashable {
        /// Poisson negative log-likelihood Σ (λ − I log λ).
        case poisson
        /// Least squares Σ ℓ((I − λ)/√λ).
        case leastSquares = "least-squares"
    }
    /// The criterion.
    public var kind: Kind
    /// The least-squares loss (ignored by ``Kind/poisson``).
    public var loss: LeastSquaresLoss
    /// cbclib behaviours to reproduce (least squares only).
    public var compatibility: CBCLibCompatibility

    /// Creates a criterion.
    public init(kind: Kind, loss: LeastSquaresLoss = .l2, compatibility: CBCLibCompatibility = []) {
        self.kind = kind
        self.loss = loss
        self.compatibility = compatibility
    }

    /// The Poisson negative log-likelihood.
    public static let poisson = ScalingCriterion(kind: .poisson)

    /// Least squares with `loss`.
    public static func leastSquares(_ loss: LeastSquaresLoss = .l2,
                                    compatibility: CBCLibCompatibility = []) -> ScalingCriterion {
        ScalingCriterion(kind: .leastSquares, loss: loss, compatibility: compatibility)
    }

    /// For example `poisson` or `least-squares/huber`.
    public var description: String { kind == .poisson ? "poisson" : "least-squares/\(loss.rawValue)" }
}
