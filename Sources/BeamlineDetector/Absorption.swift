#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which tabulated coefficient gives the linear attenuation used for the
/// sensor.
public enum AttenuationKind: String, Sendable, Equatable, CaseIterable {
    /// Mass energy-absorption coefficient μ_en/ρ (the default, as in
    /// pyFAI's notebook): the energy deposited locally. For a photon-counting
    /// sensor it is the better model of where counts arise, because coherent
    /// (Rayleigh) scattering deposits nothing and Compton electrons at these
    /// energies fall below the counting threshold, while the photoelectric
    /// effect, which dominates μ_en, gives the count.
    case energyAbsorption
    /// Total mass attenuation coefficient μ/ρ (with coherent scattering):
    /// how fast the beam is removed, an upper bound on absorption.
    case attenuation
}

/// Sensor materials with tabulated NIST coefficients.
///
/// Tables: J. H. Hubbell and S. M. Seltzer, *Tables of X-Ray Mass
/// Attenuation Coefficients and Mass Energy-Absorption Coefficients*, NIST
/// Standard Reference Database 126 (NISTIR 5632), Table 3 (Si, Ge) and
/// Table 4 (GaAs, CdTe), 1 keV – 1 MeV, every absorption edge listed twice
/// (below and above). Interpolation is linear in log(energy)–log(μ/ρ)
/// within a segment and never across an edge: at an edge energy the value
/// above the edge is used. Densities are NIST's (Si 2.33, Ge 5.323, GaAs
/// 5.31, CdTe 6.2 g/cm³).
public enum SensorMaterial: String, Sendable, Equatable, CaseIterable {
    /// Silicon (Pilatus, Eiger).
    case silicon = "Si"
    /// Germanium.
    case germanium = "Ge"
    /// Gallium arsenide.
    case galliumArsenide = "GaAs"
    /// Cadmium telluride (Pilatus3/Eiger2 CdTe).
    case cadmiumTelluride = "CdTe"

    /// A material from its chemical symbol (case-insensitive) or English name.
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``.
    public static func named(_ name: String) throws(DetectorError) -> SensorMaterial {
        let key = name.lowercased()
        for material in allCases where material.rawValue.lowercased() == key || "\(material)".lowercased() == key {
            return material
        }
        throw .invalidArgument(name: "material", expected: "one of Si, Ge, GaAs, CdTe", received: "\"\(name)\"")
    }

    /// Density (g/cm³), NIST SRD 126 Tables 1 and 2.
    public var density: Double {
        switch self {
        case .silicon: 2.33
        case .germanium: 5.323
        case .galliumArsenide: 5.31
        case .cadmiumTelluride: 6.2
        }
    }

    /// Tabulated range (keV).
    public static let energyRange: ClosedRange<Double> = 1.0...1000.0

    /// The NIST table: (energy keV, μ/ρ, μ_en/ρ in cm²/g), edges repeated.
    public var table: [(energy: Double, attenuation: Double, energyAbsorption: Double)] {
        switch self {
        case .silicon: SensorMaterial.silicon_
        case .germanium: SensorMaterial.germanium_
        case .galliumArsenide: SensorMaterial.galliumArsenide_
        case .cadmiumTelluride: SensorMaterial.cadmiumTelluride_
        }
    }

    /// Mass coefficient (cm²/g) at `energy` keV, log–log interpolated.
    ///
    /// - Throws: ``DetectorError/energyOutOfRange(argument:energy:minimum:maximum:)``.
    public func massCoefficient(energy: Double, kind: AttenuationKind = .energyAbsorption) throws(DetectorError) -> Double {
        let range = SensorMaterial.energyRange
        guard energy.isFinite, range.contains(energy) else {
            throw .energyOutOfRange(argument: "energy", energy: energy, minimum: range.lowerBound, maximum: range.upperBound)
        }
        let t = table
        func value(_ k: Int) -> Double { kind == .attenuation ? t[k].attenuation : t[k].energyAbsorption }
        // Last tabulated point with energy ≤ E: at an edge this is the above-edge entry.
        var k = 0
        while k + 1 < t.count && t[k + 1].energy <= energy { k += 1 }
        if k == t.count - 1 || t[k].energy == energy { return value(k) }
        let e0 = t[k].energy, e1 = t[k + 1].energy
        let f = log(energy / e0) / log(e1 / e0)
        return exp(log(value(k)) + f * (log(value(k + 1)) - log(value(k))))
    }

    /// Linear coefficient μ (1/m) at `energy` keV: mass coefficient × density.
    ///
    /// - Throws: ``DetectorError/energyOutOfRange(argument:energy:minimum:maximum:)``.
    public func linearAttenuation(energy: Double, kind: AttenuationKind = .energyAbsorption) throws(DetectorError) -> Double {
        try massCoefficient(energy: energy, kind: kind) * density * 100
    }

    static let silicon_: [(energy: Double, attenuation: Double, energyAbsorption: Double)] = [
        (1.0, 1570.0, 1567.0),
        (1.5, 535.5, 533.1),
        (1.8389, 309.2, 307.0),
        (1.8389, 3192.0, 3059.0),
        (2.0, 2777.0, 2669.0),
        (3.0, 978.4, 951.6),
        (4.0, 452.9, 442.7),
        (5.0, 245.0, 240.0),
        (6.0, 147.0, 143.9),
        (8.0, 64.68, 63.13),
        (10.0, 33.89, 32.89),
        (15.0, 10.34, 9.794),
        (20.0, 4.464, 4.076),
        (30.0, 1.436, 1.164),
        (40.0, 0.7012, 0.4782),
        (50.0, 0.4385, 0.243),
        (60.0, 0.3207, 0.1434),
        (80.0, 0.2228, 0.06896),
        (100.0, 0.1835, 0.04513),
        (150.0, 0.1448, 0.03086),
        (200.0, 0.1275, 0.02905),
        (300.0, 0.1082, 0.02932),
        (400.0, 0.09614, 0.02968),
        (500.0, 0.08748, 0.02971),
        (600.0, 0.08077, 0.02951),
        (800.0, 0.07082, 0.02875),
        (1000.0, 0.06361, 0.02778),
    ]
    static let germanium_: [(energy: Double, attenuation: Double, energyAbsorption: Double)] = [
        (1.0, 1893.0, 1887.0),
        (1.10304, 1502.0, 1496.0),
        (1.2167, 1190.0, 1185.0),
        (1.2167, 4389.0, 4343.0),
        (1.23215, 4734.0, 4684.0),
        (1.2478, 4974.0, 4922.0),
        (1.2478, 6698.0, 6622.0),
        (1.32844, 6348.0, 6279.0),
        (1.4143, 5554.0, 5495.0),
        (1.4143, 6287.0, 6221.0),
        (1.5, 5475.0, 5420.0),
        (2, 2711.0, 2688.0),
        (3, 961.3, 952.7),
        (4, 449.7, 444.5),
        (5, 247.2, 243.3),
        (6, 150.9, 147.7),
        (8, 68.9, 66.6),
        (10, 37.42, 35.64),
        (11.1031, 28.11, 26.53),
        (11.1031, 198.1, 115.7),
        (15, 91.52, 62.56),
        (20, 42.22, 31.78),
        (30, 13.85, 11.26),
        (40, 6.207, 5.152),
        (50, 3.335, 2.759),
        (60, 2.023, 1.642),
        (80, 0.9501, 0.7184),
        (100, 0.555, 0.3803),
        (150, 0.2491, 0.1288),
        (200, 0.1661, 0.06865),
        (300, 0.1131, 0.03891),
        (400, 0.09327, 0.03193),
        (500, 0.08212, 0.0293),
        (600, 0.07452, 0.0279),
        (800, 0.06426, 0.02618),
        (1000, 0.05727, 0.02489),
    ]
    static let galliumArsenide_: [(energy: Double, attenuation: Double, energyAbsorption: Double)] = [
        (1.0, 1917.0, 1911.0),
        (1.05613, 1685.0, 1680.0),
        (1.1154, 1481.0, 1476.0),
        (1.1154, 2772.0, 2752.0),
        (1.12877, 3180.0, 3156.0),
        (1.1423, 3532.0, 3504.0),
        (1.1423, 4372.0, 4333.0),
        (1.21752, 4130.0, 4094.0),
        (1.2977, 3657.0, 3626.0),
        (1.2977, 4066.0, 4031.0),
        (1.31034, 3971.0, 3937.0),
        (1.3231, 3879.0, 3846.0),
        (1.3231, 5652.0, 5593.0),
        (1.34073, 5525.0, 5468.0),
        (1.3586, 5415.0, 5360.0),
        (1.3586, 6266.0, 6197.0),
        (1.5, 5159.0, 5106.0),
        (1.5265, 4939.0, 4888.0),
        (1.5265, 5278.0, 5224.0),
        (2, 2731.0, 2706.0),
        (3, 970.2, 961.4),
        (4, 453.9, 448.6),
        (5, 249.5, 245.6),
        (6, 152.4, 149.2),
        (8, 69.6, 67.28),
        (10, 37.8, 36.01),
        (10.3671, 34.25, 32.54),
        (10.3671, 126.0, 83.15),
        (11.0916, 105.9, 71.88),
        (11.8667, 88.99, 61.93),
        (11.8667, 168.5, 101.6),
        (15, 92.2, 62.57),
        (20, 42.58, 31.89),
        (30, 13.97, 11.32),
        (40, 6.262, 5.187),
        (50, 3.365, 2.779),
        (60, 2.042, 1.655),
        (80, 0.9587, 0.7246),
        (100, 0.5598, 0.3838),
        (150, 0.2509, 0.1299),
        (200, 0.1671, 0.06921),
        (300, 0.1137, 0.03916),
        (400, 0.09371, 0.0321),
        (500, 0.08248, 0.02943),
        (600, 0.07484, 0.02802),
        (800, 0.06452, 0.02628),
        (1000, 0.05751, 0.02499),
    ]
    static let cadmiumTelluride_: [(energy: Double, attenuation: Double, energyAbsorption: Double)] = [
        (1.0, 7927.0, 7913.0),
        (1.0031, 7875.0, 7862.0),
        (1.006, 7824.0, 7811.0),
        (1.006, 8014.0, 8001.0),
        (1.5, 3291.0, 3281.0),
        (2, 1664.0, 1656.0),
        (3, 614.6, 608.2),
        (3.5375, 406.4, 400.4),
        (3.5375, 778.7, 752.5),
        (3.6306, 730.0, 705.6),
        (3.727, 684.0, 661.3),
        (3.727, 860.1, 826.6),
        (4, 723.0, 695.7),
        (4.018, 715.1, 688.1),
        (4.018, 793.4, 762.4),
        (4.1773, 722.1, 694.4),
        (4.3414, 656.2, 631.3),
        (4.3414, 932.8, 888.3),
        (4.4749, 873.9, 832.8),
        (4.612, 813.5, 775.9),
        (4.612, 943.8, 895.5),
        (4.7729, 870.2, 826.5),
        (4.9392, 799.9, 760.6),
        (4.9392, 865.3, 821.4),
        (5, 839.2, 797.0),
        (6, 528.6, 504.6),
        (8, 249.2, 238.9),
        (10, 138.1, 132.2),
        (15, 46.57, 44.04),
        (20, 21.44, 19.88),
        (26.7112, 9.834, 8.833),
        (26.7112, 29.43, 13.68),
        (30, 21.82, 11.19),
        (31.8138, 18.73, 10.01),
        (31.8138, 34.92, 13.51),
        (40, 19.3, 9.635),
        (50, 10.67, 6.229),
        (60, 6.542, 4.163),
        (80, 3.019, 2.083),
        (100, 1.671, 1.181),
        (150, 0.6071, 0.4101),
        (200, 0.3246, 0.1982),
        (300, 0.1628, 0.08144),
        (400, 0.1147, 0.05109),
        (500, 0.09291, 0.03952),
        (600, 0.08042, 0.03391),
        (800, 0.066, 0.02852),
        (1000, 0.05742, 0.02575),
    ]
}

/// The sensor slab: thickness and linear attenuation coefficient.
public struct Sensor: Sendable, Equatable {
    /// Thickness (m, > 0).
    public let thickness: Double
    /// Linear attenuation coefficient μ (1/m, > 0).
    public let mu: Double
    /// The material, when μ came from the tables.
    public let material: SensorMaterial?

    /// A sensor with a given μ (1/m), e.g. `Sensor(thickness: 450e-6, mu:
    /// 1537.02)` for pyFAI's notebook (which interpolates μ_en/ρ of Si
    /// linearly at 17.8 keV; log–log interpolation gives 1355 m⁻¹).
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a thickness or μ that is not finite and > 0.
    public init(thickness: Double, mu: Double) throws(DetectorError) {
        guard thickness.isFinite, thickness > 0 else {
            throw .invalidArgument(name: "thickness", expected: "a finite thickness > 0 m", received: "\(thickness)")
        }
        guard mu.isFinite, mu > 0 else {
            throw .invalidArgument(name: "mu", expected: "a finite coefficient > 0 (1/m)", received: "\(mu)")
        }
        self.thickness = thickness
        self.mu = mu
        self.material = nil
    }

    /// A sensor of `material` at `energy` keV, μ from the NIST tables
    /// (default μ_en/ρ, see ``AttenuationKind/energyAbsorption``).
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a bad thickness, ``DetectorError/energyOutOfRange(argument:energy:minimum:maximum:)``.
    public init(material: SensorMaterial, energy: Double, thickness: Double,
                kind: AttenuationKind = .energyAbsorption) throws(DetectorError) {
        guard thickness.isFinite, thickness > 0 else {
            throw .invalidArgument(name: "thickness", expected: "a finite thickness > 0 m", received: "\(thickness)")
        }
        self.thickness = thickness
        self.mu = try material.linearAttenuation(energy: energy, kind: kind)
        self.material = material
    }

    /// Fraction absorbed at normal incidence, `1 − exp(−μ T)`.
    public var normalIncidenceEfficiency: Double { -expm1(-mu * thickness) }
}
