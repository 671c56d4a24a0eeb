import Beamline
