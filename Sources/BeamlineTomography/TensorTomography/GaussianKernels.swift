import BeamlineTensor
import Foundation

/// mumott's `GaussianKernels` basis: `2(g+1)²` Gaussian kernels on the
/// Kurihara grid of the half sphere (grid scale `g`; twice as many without
/// Friedel symmetry), each `exp(−½ (d/σ)²)` of the great-circle distance `d`
/// from its centre (Friedel-symmetric: the distance to the nearer of `±u`),
/// `σ = s·√(2π) / (2(g+1))` with the kernel scale parameter `s`, and scaled by
/// the reciprocal of its sum over all grid points, so that kernels where the
/// grid is denser are weaker (mumott's normalisation).
public struct GaussianKernels: TensorBasisSet {
    /// The grid scale `g` (mumott's `grid_scale`, default 4 → 50 kernels).
    public let gridScale: Int
    /// The kernel width parameter `s` (mumott's `kernel_scale_parameter`, default 1).
    public let kernelScale: Double
    /// Whether `u` and `−u` are the same point (default true).
    public let friedelSymmetry: Bool
    /// How segments are integrated (default mumott's adaptive Simpson rule).
    public var integration: SegmentIntegration
    /// Polar angles of the kernel centres.
    public let theta: [Double]
    /// Azimuths of the kernel centres, in [0, 2π).
    public let phi: [Double]
    /// Per-kernel normalisation factors.
    let normalisation: [Double]

    /// Gaussian kernels on the Kurihara grid of scale `gridScale`.
    ///
    /// - Throws: ``TomographyError`` for a negative grid scale, a
    ///   non-positive kernel scale, or bad integration parameters.
    public init(gridScale: Int = 4, kernelScale: Double = 1, friedelSymmetry: Bool = true,
                integration: SegmentIntegration = .default) throws(TomographyError) {
        guard gridScale >= 0 else { throw .invalidArgument(name: "gridScale", expected: "≥ 0", received: "\(gridScale)") }
        guard kernelScale > 0 && kernelScale.isFinite else {
            throw .invalidArgument(name: "kernelScale", expected: "a positive number", received: "\(kernelScale)")
        }
        try SphericalHarmonics.validate(integration)
        self.gridScale = gridScale
        self.kernelScale = kernelScale
        self.friedelSymmetry = friedelSymmetry
        self.integration = integration
        var t = [Double](), p = [Double]()
        let twoPi = 2 * Double.pi
        for i in stride(from: gridScale, through: 0, by: -1) {
            let half = Double(i) + 0.5
            let count = Int((2 * half).rounded(.up))
            for j in 0..<count {
                let a = (Double(j) + 0.5) / (2 * half) * Double.pi
                let polar = half / Double(gridScale + 1) * Double.pi / 2
                p.append(a.truncatingRemainder(dividingBy: twoPi))
                let b = (-a).truncatingRemainder(dividingBy: twoPi)
                p.append(b < 0 ? b + twoPi : b)
                t.append(polar); t.append(polar)
            }
        }
        if !friedelSymmetry {
            t += t.map { acos(-cos($0)) }
            p += p
        }
        theta = t
        phi = p
        let sigma = kernelScale * (2 * Double.pi).squareRoot() / (2 * Double(gridScale + 1))
        normalisation = (0..<t.count).map { a in
            var s = 0.0
            for b in 0..<t.count {
                let d = Self.distance(t[a], t[b], p[a], p[b], friedel: friedelSymmetry)
                s += exp(-0.5 * (d / sigma) * (d / sigma))
            }
            return 1 / s
        }
    }

    /// mumott's `_get_spherical_distances` (radius 1).
    static func distance(_ t1: Double, _ t2: Double, _ p1: Double, _ p2: Double, friedel: Bool) -> Double {
        let s = sin(t1) * sin(t2) * cos(Swift.abs(p1 - p2))
        let c = cos(t1) * cos(t2)
        return friedel ? acos(Swift.min(1, Swift.max(0, Swift.abs(s + c)))) : acos(Swift.min(1, Swift.max(-1, s + c)))
    }

    /// Number of kernels, `2(g+1)²` (twice that without Friedel symmetry).
    public var count: Int { theta.count }

    /// The kernel values at each point, `(points.count, count)` row-major.
    public func evaluate(at points: [SIMD3<Double>], into values: inout [Double]) {
        let c = count
        let sigma = kernelScale * (2 * Double.pi).squareRoot() / (2 * Double(gridScale + 1))
        for (index, u) in points.enumerated() {
            let r = (u * u).sum().squareRoot()
            let polar = acos(u.z / r), azimuth = atan2(u.y, u.x)
            for k in 0..<c {
                let d = Self.distance(theta[k], polar, phi[k], azimuth, friedel: friedelSymmetry)
                values[index * c + k] = exp(-0.5 * (d / sigma) * (d / sigma)) * normalisation[k]
            }
        }
    }

    /// The projection matrix (see ``TensorBasisSet``).
    public func projectionMatrix(for coordinates: ProbedCoordinates) -> Tensor<Double> {
        projectionMatrixWithConvergence(for: coordinates).matrix
    }
}
