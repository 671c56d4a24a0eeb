import BeamlineOperators

/// The sums that join the parts of a tensor-tomography problem whose
/// projections are split over processes (the ranks of an MPI run): each
/// part holds some of the projections (its rows of `B ∘ P`) and the whole
/// coefficient volume.
///
/// A ``GradientResidualCalculator`` with ``GradientResidualCalculator/partialSums``
/// set adds every back-projection (`Pᵀ Bᵀ r`, volume-sized) over the parts
/// with ``sumVolumes(_:)``, and ``TensorTomographyLossFunction`` adds the data
/// term of the loss (a sum over the projections) with ``sumValues(_:)``.
/// Everything else the pipelines of ``TensorReconstruction`` compute lives
/// in the volume, which is the same on every part, so every part takes the
/// same steps (line searches, momentum, stopping tests) with the same
/// numbers. BeamlineMPI conforms the `Communicator` to it; a single process
/// leaves it nil.
///
/// Both sums must give the same bits on every part (add the parts in a
/// fixed order), or the parts' volumes drift apart.
public protocol TensorPartialSums: Sendable {
    /// Replaces `volume`, this part's partial sum, by the sum over all parts
    /// (the same bits on every part).
    func sumVolumes<Scalar: OperatorScalar>(_ volume: UnsafeMutableBufferPointer<Scalar>)
    /// The sum over all parts of `value`, this part's partial sum (the same
    /// bits on every part).
    func sumValues(_ value: Double) -> Double
}
