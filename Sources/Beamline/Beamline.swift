@_exported import BeamlineTensor
