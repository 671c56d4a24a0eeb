import BeamlineCLI

BeamlineCommand.main()
