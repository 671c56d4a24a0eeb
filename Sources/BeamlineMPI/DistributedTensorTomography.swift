import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography
import Foundation

/// The communicator joins the parts of a tensor-tomography problem split
/// over its ranks by projections: back-projections are added with
/// ``Communicator/allreduceSumInRankOrder(_:)`` and loss values with
/// ``Communicator/sumInRankOrder(_:)``, so every rank holds the same bits.
/// An MPI failure inside a sum cannot be thrown through the calculator: it
/// ends every rank with ``MPIEnvironment/abort(_:code:)`` and one message.
extension Communicator: TensorPartialSums {
    /// Replaces `volume` by its sum over the ranks, in rank order.
    public func sumVolumes<Scalar: OperatorScalar>(_ volume: UnsafeMutableBufferPointer<Scalar>) {
        do { try allreduceSumInRankOrder(volume) } catch {
            MPIEnvironment.abort("rank \(rank): back-projection sum: \(error)")
        }
    }

    /// The sum of `value` over the ranks, in rank order.
    public func sumValues(_ value: Double) -> Double {
        do { return try sumInRankOrder(SIMD2(value, 0)).x } catch {
            MPIEnvironment.abort("rank \(rank): loss sum: \(error)")
        }
    }
}

/// Tensor tomography (`TensorReconstruction`'s pipelines: SIRT, MITRA,
/// SIGTT, group lasso) with the projections split over the ranks of a
/// ``Communicator``.
///
/// Each rank holds a contiguous run of projections (its
/// ``TomographyPartition/projections``: read them with
/// `TensorTomographyData(contentsOf:projections:)`) in its
/// `GradientResidualCalculator`, and the whole coefficient volume. The
/// pipeline runs unchanged on every rank: the back-projections (gradients,
/// the SIRT preconditioner, the power iteration's) are summed over the
/// ranks in rank order, and so is the data term of every loss value, which
/// is all that depends on the projections; the step sizes, momentum, L-BFGS
/// line searches and stopping tests then see the same numbers on every rank.
/// On one rank the result is the single-process one, bit for bit; on
/// several ranks it differs by rounding only (the sums add per-rank partial
/// sums; the tolerance is in docs/mpi.md).
public enum DistributedTensorTomography {
    /// Runs `pipeline` on this rank's part of the problem; every rank of
    /// `communicator` calls it with its own `calculator` (its projections'
    /// geometry, data and weights; the same basis set, volume, starting
    /// coefficients and `options`) and gets the same result.
    ///
    /// - Parameters:
    ///   - pipeline: the reconstruction.
    ///   - calculator: this rank's part (its `partialSums` is set to `communicator` here).
    ///   - options: the pipeline's options (the same on every rank).
    ///   - communicator: the ranks.
    ///   - progress: called on every rank after every iteration (the CLI passes a progress bar on rank 0 only); when
    ///     any rank's callback returns `.stop`, every rank stops at the same iteration.
    /// - Throws: ``MPIError/failedOnRank(rank:message:)`` on every rank when the ranks' coefficient volumes differ in
    ///   shape, or when the pipeline refuses the options or the problem (with the message of the lowest failing rank);
    ///   ``MPIError/call(function:code:message:)`` when MPI fails.
    public static func run<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ pipeline: TensorPipeline, calculator: GradientResidualCalculator<Scalar, Basis>,
        options: TensorReconstructionOptions = TensorReconstructionOptions(), communicator: Communicator,
        progress: ProgressHandler? = nil
    ) throws(MPIError) -> TensorReconstructionResult<Scalar> {
        // Every rank builds its forward model (its projector and basis
        // matrix) first, so that a geometry one rank refuses stops all of
        // them here, and must fit the same volume with the same basis.
        var part = calculator
        part.partialSums = communicator
        var failure: String? = nil
        do { _ = try part.forwardModel() } catch { failure = "\(error)" }
        let shape = part.coefficients.shape
        let all = try communicator.allgather([shape.count] + shape)
        if failure == nil, let bad = all.firstIndex(where: { $0 != all[0] }) {
            failure = "coefficients: expected the same shape on every rank, rank 0 has \(Array(all[0].dropFirst())), rank \(bad) \(Array(all[bad].dropFirst()))"
        }
        try communicator.agreeOnFailure(failure)
        let agreed = DistributedTomography.agreedProgress(progress, communicator: communicator)
        // The pipeline's checks of the options come before any collective
        // call and give the same answer on every rank; a failure later (a
        // geometry the projector refuses) is agreed on before returning.
        let result: TensorReconstructionResult<Scalar>?
        do {
            result = try TensorReconstruction.run(pipeline, calculator: part, options: options, progress: agreed)
            failure = nil
        } catch {
            result = nil
            failure = "\(pipeline.rawValue): \(error)"
        }
        try communicator.agreeOnFailure(failure)
        return result!
    }
}
