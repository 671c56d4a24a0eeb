// The umbrella module: `import Beamline` brings in every layer.
@_exported import BeamlineAlignment
@_exported import BeamlineCrystallography
@_exported import BeamlineDetector
@_exported import BeamlineIO
@_exported import BeamlineOperators
@_exported import BeamlineRegistration
@_exported import BeamlineSolvers
@_exported import BeamlineSparse
@_exported import BeamlineTensor
@_exported import BeamlineTomography
@_exported import ComplexModule
@_exported import RealModule

/// Beamline's version (semantic versioning).
public enum BeamlineVersion {
    /// The version string, e.g. "0.1.0".
    public static let string = "0.1.0"
}
