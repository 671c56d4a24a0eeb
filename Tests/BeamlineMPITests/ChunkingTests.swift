@testable import BeamlineMPI
import Testing

// The collectives split buffers longer than `Communicator.maximumChunk`
// elements into consecutive MPI calls (MPI counts are 32-bit). A tiny limit
// makes small buffers take the chunked path; the expected values are the
// unchunked calls' results (the same bits) and, for the rounds of a gather,
// the plain concatenation in rank order. One rank here; scripts/mpi_tests.sh
// runs the chunked sums on 2 and 4 ranks (BEAMLINE_MPI_CHUNK_ELEMENTS).
@Suite("MPI collectives in chunks, one rank")
struct ChunkingTests {
    /// The world with a chunk limit of `limit` elements.
    func communicator(limit: Int) throws -> Communicator {
        var comm = try MPIEnvironment.initialize()
        comm.maximumChunk = limit
        return comm
    }

    @Test func chunkRanges() throws {
        let comm = try communicator(limit: 3)
        #expect(comm.chunks(10) == [0..<3, 3..<6, 6..<9, 9..<10])
        #expect(comm.chunks(6) == [0..<3, 3..<6])
        #expect(comm.chunks(2) == [0..<2])
        #expect(comm.chunks(0).isEmpty)
        #expect(try MPIEnvironment.initialize().maximumChunk == Communicator.defaultMaximumChunk)
        #expect(Communicator.defaultMaximumChunk < Int(Int32.max))
    }

    @Test(arguments: [1, 3, 4, 10, 11])
    func chunkedCollectivesGiveTheUnchunkedBits(limit: Int) throws {
        let plain = try MPIEnvironment.initialize()
        let comm = try communicator(limit: limit)
        let doubles = (0..<10).map { Double($0) * 0.1 - 0.35 }
        let floats = doubles.map { Float($0) * 3 }
        for operation in [ReductionOperation.sum, .max] {
            var a = doubles, b = doubles
            try plain.allreduce(&a, operation)
            try comm.allreduce(&b, operation)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        }
        var a = floats, b = floats
        try plain.broadcast(&a)
        try comm.broadcast(&b)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern) && b == floats)
        var c = doubles, d = doubles
        try c.withUnsafeMutableBufferPointer { try plain.allreduceSumInRankOrder($0) }
        try d.withUnsafeMutableBufferPointer { try comm.allreduceSumInRankOrder($0) }
        #expect(c.map(\.bitPattern) == d.map(\.bitPattern))
        // The rank-order sum of one chunk (what a rank count above 1 runs per chunk).
        var e = doubles
        var received = [Double](repeating: 0, count: 16)
        for range in comm.chunks(e.count) {
            try e.withUnsafeMutableBufferPointer { try comm.sumChunkInRankOrder(UnsafeMutableBufferPointer(rebasing: $0[range]), received: &received) }
        }
        #expect(e.map(\.bitPattern) == doubles.map(\.bitPattern))
        #expect(try comm.allgather(floats) == [floats])
        #expect(try comm.gather(doubles) == doubles)
        #expect(try comm.allgather([Double]()) == [[]])
        #expect(try comm.gather([Float]()) == [])
    }

    /// One counted call per chunk.
    @Test func trafficCountsEveryChunk() throws {
        let comm = try communicator(limit: 4)
        var values = [Double](repeating: 1, count: 10)
        let before = comm.traffic.calls
        try comm.broadcast(&values)
        try comm.allreduce(&values, .sum)
        #expect(comm.traffic.calls - before == 6)
    }

    /// The rounds of a gather of ranks with unequal counts (some empty)
    /// deliver every rank's values to their place in the concatenation;
    /// here the rounds are applied by hand to four simulated ranks.
    @Test(arguments: [1, 2, 3, 5, 11, 100])
    func gatherRoundsCoverTheConcatenation(limit: Int) throws {
        let comm = try communicator(limit: limit)
        let ranks: [[Int]] = [[1, 2, 3, 4], [], [5, 6, 7, 8, 9], [10, 11]]
        var out = [Int](repeating: 0, count: 11)
        var rounds = 0
        for round in comm.gatherRounds(ranks.map(\.count)) {
            rounds += 1
            #expect(round.counts.map { Int($0) }.reduce(0, +) <= limit)
            for k in ranks.indices {
                let part = round.parts[k]
                #expect(Int(round.counts[k]) == part.count)
                for (i, v) in ranks[k][part].enumerated() { out[round.offset + Int(round.displacements[k]) + i] = v }
            }
        }
        #expect(out == Array(1...11))
        #expect(rounds == (11 + limit - 1) / limit)
    }
}
