import BeamlineMPI
import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography
import Foundation
import Testing

// Single-process tests of the MPI layer: `swift test` runs them without
// mpirun, so MPI starts as a singleton (a world of one rank). MPI can be
// initialised only once per process: every test calls
// `MPIEnvironment.initialize()`, which starts MPI the first time and returns
// the same world afterwards; nothing finalises it (the process ends).
// The runs on 2 and 4 ranks are scripts/mpi_tests.sh (mpirun, called by .ci/run).

/// The world communicator (one rank here).
func world() throws -> Communicator { try MPIEnvironment.initialize() }

/// A single-axis scan about z, K = Z (detector rows on the volume slices):
/// the geometry the slab decomposition accepts.
func slabGeometry(projections: Int = 12, volume: [Int] = [10, 9, 8], detectorColumns: Int = 12) throws -> Geometry {
    let angles = (0..<projections).map { Double($0) * Double.pi / Double(projections) + 0.1 }
    return try Geometry.fromAngles(innerAngles: angles, volumeShape: volume, projectionShape: [detectorColumns, volume[2]])
}

@Suite("MPI layer, one rank (no mpirun)")
struct MPILayerTests {
    @Test func worldOfOneRank() throws {
        let comm = try world()
        #expect(MPIEnvironment.isInitialized)
        #expect(!MPIEnvironment.isFinalized)
        #expect(comm.size == 1 && comm.rank == 0 && comm.isRoot)
        // A second initialisation returns the same world.
        #expect(try MPIEnvironment.initialize().size == 1)
        try comm.barrier()
    }

    /// On one rank every collective returns its input (nothing to combine):
    /// the expected values are the inputs themselves.
    @Test func collectivesOnOneRank() throws {
        let comm = try world()
        var doubles: [Double] = [1.5, -2, 3]
        try comm.broadcast(&doubles)
        #expect(doubles == [1.5, -2, 3])
        var floats: [Float] = [1, 2.5]
        try comm.allreduce(&floats, .sum)
        #expect(floats == [1, 2.5])
        try comm.allreduce(&floats, .max)
        #expect(floats == [1, 2.5])
        #expect(try comm.broadcast([4, 5, 6]) == [4, 5, 6])
        #expect(try comm.broadcast("shape mismatch") == "shape mismatch")
        #expect(try comm.allgather([7, 8]) == [[7, 8]])
        #expect(try comm.allgather([Float(1), 2, 3]) == [[1, 2, 3]])
        #expect(try comm.gather([0.25, 0.5]) == [0.25, 0.5])
        #expect(try comm.sumInRankOrder(SIMD2(1, 2)) == SIMD2(1, 2))
        var buffer: [Double] = [1, 2, 3]
        try buffer.withUnsafeMutableBufferPointer { try comm.allreduceSumInRankOrder($0) }
        #expect(buffer == [1, 2, 3])
    }

    @Test func agreementOnFailure() throws {
        let comm = try world()
        try comm.agreeOnFailure(nil)
        #expect(throws: MPIError.failedOnRank(rank: 0, message: "bad file")) { try comm.agreeOnFailure("bad file") }
    }

    /// Bad arguments are typed errors naming the argument, never traps.
    @Test func badArguments() throws {
        let comm = try world()
        var values: [Double] = [1]
        #expect(throws: MPIError.invalidArgument(name: "root", expected: "a rank in 0..<1", received: "3")) {
            try comm.broadcast(&values, root: 3)
        }
        #expect(throws: MPIError.invalidArgument(name: "root", expected: "a rank in 0..<1", received: "-1")) {
            _ = try comm.gather(values, root: -1)
        }
        let message = MPIError.call(function: "MPI_Bcast", code: 3, message: "MPI_ERR_COUNT: invalid count argument").description
        #expect(message.contains("MPI_Bcast") && message.contains("invalid count"))
    }
}

@Suite("Distributed tomography, one rank")
struct DistributedTomographyTests {
    /// Contiguous runs in rank order, rank r from ⌊r·n/size⌋ (the
    /// expected ranges are worked out by hand for 10 items over 4 ranks).
    @Test func partitions() throws {
        let g = try slabGeometry(projections: 10, volume: [6, 6, 7], detectorColumns: 6)
        let runs = try (0..<4).map { try TomographyPartition(.projections, geometry: g, rank: $0, size: 4).projections }
        #expect(runs == [0..<2, 2..<5, 5..<7, 7..<10])
        let slabs = try (0..<4).map { try TomographyPartition(.slabs, geometry: g, rank: $0, size: 4) }
        #expect(slabs.map(\.slices) == [0..<1, 1..<3, 3..<5, 5..<7])
        #expect(slabs.allSatisfy { $0.projections == 0..<10 })
        #expect(throws: MPIError.invalidArgument(name: "--distributed slabs", expected: "at least one of the 7 z-slices per rank",
                                                 received: "8 ranks")) {
            _ = try TomographyPartition(.slabs, geometry: g, rank: 0, size: 8)
        }
        #expect(throws: MPIError.invalidArgument(name: "--distributed projections",
                                                 expected: "at least one of the 10 projections per rank", received: "11 ranks")) {
            _ = try TomographyPartition(.projections, geometry: g, rank: 0, size: 11)
        }
        #expect(throws: MPIError.self) { _ = try TomographyPartition(.projections, geometry: g, rank: 4, size: 4) }
    }

    /// Geometries where a ray leaves its z-slab are refused, naming the field.
    @Test func slabGeometryIsChecked() throws {
        let g = try slabGeometry()
        try DistributedTomography.checkSlabGeometry(g)
        var shifted = g
        shifted.kOffsets[3] = 0.5
        #expect(throws: MPIError.invalidArgument(name: "geometry k_offsets[3]", expected: "0 for --distributed slabs", received: "0.5")) {
            try DistributedTomography.checkSlabGeometry(shifted)
        }
        let tilted = try Geometry.fromAngles(innerAngles: [0, 1], outerAngles: [0, 0.3], volumeShape: [6, 6, 6], projectionShape: [6, 6])
        #expect {
            try DistributedTomography.checkSlabGeometry(tilted)
        } throws: { error in
            guard case let MPIError.argument(argument) = error else { return false }
            return argument.description.contains("rotations[1]")
        }
        let short = try Geometry.fromAngles(innerAngles: [0, 1], volumeShape: [6, 6, 6], projectionShape: [6, 5])
        #expect(throws: MPIError.self) { try DistributedTomography.checkSlabGeometry(short) }
    }

    /// The slab projectors of 1, 2 and 4 ranks, put together, are the whole
    /// projector bit for bit (forward and adjoint): each ray stays in its
    /// slab and is computed with the same constants. The expected values are
    /// the whole projector's, on one process.
    @Test(arguments: [1, 2, 4])
    func slabProjectorsEqualTheWholeProjector(ranks: Int) throws {
        let g = try slabGeometry()
        let whole = try JohnTransformProjector<Float>(geometry: g)
        let volume = Phantom.randomEllipsoids(shape: g.volumeShape, count: 6, seed: 3, as: Float.self).reshaped(whole.volumeShape)
        let projections = whole.apply(volume)
        let back = whole.applyAdjoint(projections)
        var pieces: [Tensor<Float>] = [], backPieces: [Tensor<Float>] = []
        for rank in 0..<ranks {
            let part = try TomographyPartition(.slabs, geometry: g, rank: rank, size: ranks)
            var sub = g
            sub.volumeShape[2] = part.slices.count
            sub.projectionShape[1] = part.slices.count
            let projector = try JohnTransformProjector<Float>(geometry: sub)
            pieces.append(projector.apply(try DistributedTomography.localVolume(volume, partition: part)))
            backPieces.append(projector.applyAdjoint(try DistributedTomography.localProjections(projections, partition: part)))
        }
        #expect(try Tensor.concatenated(pieces, axis: 2).elements == projections.elements)
        #expect(try Tensor.concatenated(backPieces, axis: 2).elements == back.elements)
    }

    /// On one rank the projection split is the plain reconstruction, bit for
    /// bit (expected values: `Reconstruction.run` on the same projector).
    @Test(arguments: [Reconstruction.Method.sirt, .mitra, .cgls, .lsmr])
    func projectionSplitOnOneRankIsThePlainReconstruction(method: Reconstruction.Method) throws {
        let comm = try world()
        let g = try slabGeometry()
        let projector = try JohnTransformProjector<Float>(geometry: g)
        let volume = Phantom.randomEllipsoids(shape: g.volumeShape, count: 6, seed: 5, as: Float.self).reshaped(projector.volumeShape)
        let data = projector.apply(volume)
        var options = method == .mitra ? Reconstruction.Options.mitra : Reconstruction.Options()
        options.iterations = 6
        let plain = try Reconstruction.run(method, projector: projector, projections: data, options: options)
        let part = try TomographyPartition(.projections, geometry: g, rank: 0, size: 1)
        let distributed = try DistributedTomography.reconstruct(method, geometry: g, channels: 1, localProjections: data,
                                                               partition: part, communicator: comm, options: options)
        #expect(distributed.volume.elements == plain.volume.elements)
        #expect(distributed.residualNorm == plain.residualNorm)
        #expect(distributed.residualHistory == plain.residualHistory)
        let gathered = try DistributedTomography.gatherVolume(distributed.volume, partition: part, geometry: g, communicator: comm)
        #expect(gathered?.elements == plain.volume.elements)
    }

    /// The slab decomposition on one rank against the plain reconstruction:
    /// the operator is the same bit for bit (test above); only the order of
    /// the sums in the norms differs (per slice instead of fixed blocks),
    /// so the volumes agree to float32 rounding accumulated over 6
    /// iterations: relative max difference ≤ 1e-4 (observed ~1e-6).
    @Test(arguments: [Reconstruction.Method.sirt, .mitra, .cgls, .lsmr])
    func slabsOnOneRankAgreeWithThePlainReconstruction(method: Reconstruction.Method) throws {
        let comm = try world()
        let g = try slabGeometry()
        let projector = try JohnTransformProjector<Float>(geometry: g)
        let volume = Phantom.randomEllipsoids(shape: g.volumeShape, count: 6, seed: 5, as: Float.self).reshaped(projector.volumeShape)
        let data = projector.apply(volume)
        var options = method == .mitra ? Reconstruction.Options.mitra : Reconstruction.Options()
        options.iterations = 6
        let plain = try Reconstruction.run(method, projector: projector, projections: data, options: options)
        let part = try TomographyPartition(.slabs, geometry: g, rank: 0, size: 1)
        let distributed = try DistributedTomography.reconstruct(method, geometry: g, channels: 1, localProjections: data,
                                                               partition: part, communicator: comm, options: options)
        let (a, b) = (distributed.volume.elements, plain.volume.elements)
        let scale = b.map { Swift.abs(Double($0)) }.max()!
        let difference = zip(a, b).map { Swift.abs(Double($0) - Double($1)) }.max()!
        #expect(difference <= 1e-4 * scale)
        #expect(Swift.abs(distributed.residualNorm - plain.residualNorm) <= 1e-4 * plain.residualNorm)
    }

    /// Every rank checks its part before solving; a bad part is one typed error.
    @Test func badProjectionsAreTypedErrors() throws {
        let comm = try world()
        let g = try slabGeometry()
        let part = try TomographyPartition(.projections, geometry: g, rank: 0, size: 1)
        let wrong = Tensor<Float>(shape: [3, 12, 8, 1], repeating: 1)
        #expect(throws: MPIError.failedOnRank(rank: 0, message: "projections: expected this rank's part of shape [12, 12, 8, 1], received [3, 12, 8, 1]")) {
            _ = try DistributedTomography.reconstruct(.sirt, geometry: g, channels: 1, localProjections: wrong, partition: part, communicator: comm)
        }
        var nan = Tensor<Float>(shape: [12, 12, 8, 1], repeating: 1)
        nan[at: 2, 3, 4, 0] = .nan
        #expect(throws: MPIError.self) {
            _ = try DistributedTomography.reconstruct(.cgls, geometry: g, channels: 1, localProjections: nan, partition: part, communicator: comm)
        }
        #expect(throws: MPIError.self) {
            _ = try DistributedTomography.reconstruct(.fbp, geometry: g, channels: 1, localProjections: nan, partition: part, communicator: comm)
        }
        // A volume that cannot fit (40000 × 40000 × 8 voxels: ≈ 360 GB of
        // solver vectors) is refused before anything is allocated.
        let huge = try Geometry.fromAngles(innerAngles: [0, 1], volumeShape: [40000, 40000, 8], projectionShape: [20, 8])
        let hugePart = try TomographyPartition(.projections, geometry: huge, rank: 0, size: 1)
        #expect {
            _ = try DistributedTomography.reconstruct(.sirt, geometry: huge, channels: 1,
                                                      localProjections: Tensor<Float>(shape: [2, 20, 8, 1], repeating: 1),
                                                      partition: hugePart, communicator: comm)
        } throws: { error in
            guard case let MPIError.failedOnRank(0, message) = error else { return false }
            return message.hasPrefix("memory: this rank needs about")
        }
    }
}

@Suite("Distributed operators around any LinearOperator, one rank")
struct DistributedOperatorTests {
    /// A fixed, well-conditioned 12 × 8 matrix (entries from a formula).
    static func matrix() throws -> DenseMatrixOperator<Double> {
        let entries = (0..<96).map { k -> Double in
            let (i, j) = (k / 8, k % 8)
            let diagonal: Double = i == j ? 4 : 0
            let wobble: Double = Foundation.sin(Double(3 * i + 7 * j))
            return diagonal + 0.5 * wobble
        }
        return try DenseMatrixOperator(Tensor(shape: [12, 8], elements: entries))
    }

    /// On one rank the row split is the operator itself: LSMR, CGLS and
    /// ASTRA's SIRT give the bits of the plain solve (the expected values).
    @Test func rowSplitOfADenseMatrixSolvesBitForBit() throws {
        let comm = try world()
        let a = try Self.matrix()
        let b = Tensor<Double>((0..<12).map { Foundation.cos(Double($0)) })
        let split = try RowDistributedOperator(local: a, communicator: comm)
        #expect(try LSMR.solve(split, rhs: b).solution.elements == LSMR.solve(a, rhs: b).solution.elements)
        #expect(try CGLS.solve(split, rhs: b).solution.elements == CGLS.solve(a, rhs: b).solution.elements)
        let positive = try DenseMatrixOperator(Tensor(shape: [12, 8], elements: a.matrix.elements.map { Swift.abs($0) }))
        let positiveSplit = try RowDistributedOperator(local: positive, communicator: comm)
        #expect(try SIRT.solve(positiveSplit, rhs: b, configuration: .init(maximumIterations: 30)).solution.elements
                == SIRT.solve(positive, rhs: b, configuration: .init(maximumIterations: 30)).solution.elements)
    }

    /// A slab split of a diagonal operator (block diagonal in every split):
    /// the solves agree with the plain ones to 1e-12 relative (the sums run
    /// per element instead of in one block, so the last bits may differ).
    @Test func slabSplitOfADiagonalOperatorSolves() throws {
        let comm = try world()
        let d = try DiagonalOperator(Tensor<Double>((0..<10).map { 1 + Double($0) / 4 }))
        let b = Tensor<Double>((0..<10).map { Foundation.sin(Double($0)) })
        let split = try SlabDistributedOperator(local: d, inputAxis: 0, outputAxis: 0, communicator: comm)
        let plain = try LSMR.solve(d, rhs: b).solution.elements
        let distributed = try LSMR.solve(split, rhs: b).solution.elements
        #expect(zip(plain, distributed).allSatisfy { Swift.abs($0 - $1) <= 1e-12 * Swift.abs($0) })
        #expect(throws: MPIError.self) { _ = try SlabDistributedOperator(local: d, inputAxis: 1, outputAxis: 0, communicator: comm) }
    }
}
