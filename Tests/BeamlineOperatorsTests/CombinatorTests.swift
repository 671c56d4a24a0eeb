import BeamlineOperators
import BeamlineTensor
import Testing

