import BeamlineMPI
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography
import Testing

// The tensor pipelines split by projections, on the one rank of `swift test`
// (2 and 4 ranks: scripts/mpi_tests.sh). Expected values: the single-process
// `TensorReconstruction.run` on the same calculator.
@Suite("Tensor tomography over MPI ranks, one rank")
struct DistributedTensorTests {
    /// 8 tilted projections of a 5 × 5 × 4 volume, 6 segments, ℓmax 2.
    func calculator() throws -> GradientResidualCalculator<Double, SphericalHarmonics> {
        var g = try Geometry.fromAngles(innerAngles: (0..<8).map { Double($0) * .pi / 4 }, outerAngles: (0..<8).map { Double($0 % 2) * 0.3 },
                                        volumeShape: [5, 5, 4], projectionShape: [6, 5])
        g.detectorAngles = (0..<6).map { Double($0) * .pi / 6 }
        let values = (0..<1440).map { Double(($0 * 7919) % 101) / 50 }
        return try GradientResidualCalculator(geometry: g, basisSet: try SphericalHarmonics(ellMax: 2),
                                              data: Tensor(shape: [8, 6, 5, 6], elements: values))
    }

    /// On one rank the sums over ranks are the rank's own values: every
    /// pipeline gives the single-process bits, loss history included.
    @Test(arguments: TensorPipeline.allCases)
    func oneRankGivesTheSingleProcessBits(pipeline: TensorPipeline) throws {
        let comm = try MPIEnvironment.initialize()
        let options = TensorReconstructionOptions(iterations: 4)
        let plain = try TensorReconstruction.run(pipeline, calculator: try calculator(), options: options)
        let split = try DistributedTensorTomography.run(pipeline, calculator: try calculator(), options: options, communicator: comm)
        #expect(split.coefficients.elements.map(\.bitPattern) == plain.coefficients.elements.map(\.bitPattern))
        #expect(split.lossHistory.map(\.bitPattern) == plain.lossHistory.map(\.bitPattern))
        #expect(split.iterations == plain.iterations && split.evaluations == plain.evaluations)
    }

    /// Bad options are the pipeline's typed errors, agreed on by the ranks;
    /// a stop from the progress callback stops at that iteration.
    @Test func badOptionsAndStops() throws {
        let comm = try MPIEnvironment.initialize()
        #expect(throws: MPIError.failedOnRank(rank: 0, message: "sirt: invalid iterations: expected ≥ 0, received -1")) {
            try DistributedTensorTomography.run(.sirt, calculator: try calculator(), options: .init(iterations: -1), communicator: comm)
        }
        let stopped = try DistributedTensorTomography.run(.mitra, calculator: try calculator(), options: .init(iterations: 10),
                                                          communicator: comm, progress: { $0.iteration == 3 ? .stop : .continue })
        #expect(stopped.iterations == 3 && stopped.stopReason == .cancelled)
    }
}
