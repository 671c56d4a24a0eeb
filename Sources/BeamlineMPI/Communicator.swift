import BeamlineOperators
import BeamlineTensor
import CMPI
import Foundation

/// Errors of the MPI layer: a failed MPI call (with MPI's own error name
/// and message), a use before `MPI_Init` or after `MPI_Finalize`, an
/// argument the layer cannot pass to MPI, and a failure that another rank
/// reported (see ``Communicator/agreeOnFailure(_:)``).
public enum MPIError: Error, ArgumentErrorWrapping, Equatable, Sendable, CustomStringConvertible {
    /// An argument the layer cannot use (a count beyond MPI's 32-bit
    /// counts, a root rank out of range, …); see `ArgumentError`.
    case argument(ArgumentError)
    /// An MPI function returned an error code (the world communicator
    /// returns errors instead of aborting: `MPI_ERRORS_RETURN`); `message`
    /// is `MPI_Error_string`'s text.
    case call(function: String, code: Int32, message: String)
    /// An MPI function was called before ``MPIEnvironment/initialize()``.
    case notInitialized
    /// MPI was already finalized in this process (it cannot start again).
    case alreadyFinalized
    /// A rank failed; every rank throws this after
    /// ``Communicator/agreeOnFailure(_:)``, with the message of the lowest
    /// failing rank.
    case failedOnRank(rank: Int, message: String)

    /// A one-line message naming the MPI function, the rank or the argument.
    public var description: String {
        switch self {
        case let .argument(error): return error.description
        case let .call(function, code, message): return "\(function) failed (MPI error \(code)): \(message)"
        case .notInitialized: return "MPI is not initialized (call MPIEnvironment.initialize() first)"
        case .alreadyFinalized: return "MPI was already finalized in this process and cannot be initialized again"
        case let .failedOnRank(rank, message): return "rank \(rank): \(message)"
        }
    }
}

/// Serialises every MPI call of the process (MPI is initialised with
/// `MPI_THREAD_SERIALIZED`: any thread may call, one at a time).
let mpiLock = NSLock()

/// Runs an MPI call under the lock and turns its return code into
/// ``MPIError/call(function:code:message:)``.
@inline(__always)
func mpiCheck(_ function: String, _ body: () -> Int32) throws(MPIError) {
    try check(function, mpiCall(body))
}

/// Runs an MPI call under the lock; returns its code.
@inline(__always)
func mpiCall(_ body: () -> Int32) -> Int32 {
    mpiLock.withLock { body() }
}

/// Throws ``MPIError/call(function:code:message:)`` for a code other than `MPI_SUCCESS`.
@inline(__always)
func check(_ function: String, _ code: Int32) throws(MPIError) {
    guard code == beamline_mpi_success() else { throw .call(function: function, code: code, message: errorString(code)) }
}

/// `MPI_Error_string` of `code`.
func errorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(beamline_mpi_max_error_string()) + 1)
    var length: Int32 = 0
    guard mpiLock.withLock({ MPI_Error_string(code, &buffer, &length) }) == beamline_mpi_success() else { return "unknown MPI error" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The process's MPI library: initialisation (once per process, as MPI
/// requires), finalisation and abort.
///
/// Plain Beamline commands never call this; `beamline … --distributed`
/// and the MPI tests do. Under `mpirun -np N` each process is one rank of
/// `MPI_COMM_WORLD`; started without `mpirun`, a process is a singleton
/// world of one rank.
public enum MPIEnvironment {
    /// Whether `MPI_Init` has run in this process.
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        _ = mpiLock.withLock { MPI_Initialized(&flag) }
        return flag != 0
    }

    /// Whether `MPI_Finalize` has run in this process.
    public static var isFinalized: Bool {
        var flag: Int32 = 0
        _ = mpiLock.withLock { MPI_Finalized(&flag) }
        return flag != 0
    }

    /// Initialises MPI (`MPI_Init_thread`, serialized calls) unless this
    /// process already did, and returns the world communicator, set to
    /// return errors (`MPI_ERRORS_RETURN`) instead of aborting.
    ///
    /// - Throws: ``MPIError/alreadyFinalized`` after ``finalize()``, and
    ///   ``MPIError/call(function:code:message:)`` when MPI cannot start
    ///   (for example `MPI_THREAD_SERIALIZED` is not available).
    public static func initialize() throws(MPIError) -> Communicator {
        if isFinalized { throw .alreadyFinalized }
        if !isInitialized {
            var provided: Int32 = 0
            try mpiCheck("MPI_Init_thread") { MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided) }
            guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
                throw .call(function: "MPI_Init_thread", code: -1,
                            message: "the MPI library provides thread level \(provided), Beamline needs MPI_THREAD_SERIALIZED (2)")
            }
        }
        let world: MPI_Comm = beamline_mpi_comm_world()!
        try mpiCheck("MPI_Comm_set_errhandler") { MPI_Comm_set_errhandler(world, beamline_mpi_errors_return()) }
        return try Communicator(handle: world)
    }

    /// Finalises MPI (`MPI_Finalize`) if it was initialised and not yet
    /// finalised; afterwards no MPI call can be made in this process.
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public static func finalize() throws(MPIError) {
        guard isInitialized && !isFinalized else { return }
        try mpiCheck("MPI_Finalize") { MPI_Finalize() }
    }

    /// Ends every rank of the world (`MPI_Abort`), after writing `message`
    /// as one line on standard error. The last resort when a rank cannot
    /// reach the point where the ranks agree on a failure (an MPI error in
    /// the middle of an operator's `apply`).
    public static func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        _ = MPI_Abort(beamline_mpi_comm_world()!, code)
        exit(code)
    }
}

/// How ``Communicator/allreduce(_:_:)`` combines values.
public enum ReductionOperation: Sendable, Equatable {
    /// The sum (`MPI_SUM`; order implementation-defined: use
    /// ``Communicator/allreduceSumInRankOrder(_:)`` for fixed bits).
    case sum
    /// The maximum (`MPI_MAX`; exact, so independent of the order).
    case max
}

/// An MPI communicator (the world, from ``MPIEnvironment/initialize()``):
/// rank and size, barrier, broadcast, reductions and gathers of `Float` and
/// `Double` buffers, shapes and offsets.
///
/// Every method is collective: every rank of the communicator calls it, in
/// the same order, with matching counts. Reductions that Beamline relies on
/// for reproducible results combine in rank order
/// (``allreduceSumInRankOrder(_:)``, ``sumInRankOrder(_:)``), never in
/// arrival order.
public struct Communicator: @unchecked Sendable {
    /// The `MPI_Comm` handle.
    let handle: MPI_Comm
    /// What this rank has sent and how long it spent in MPI (shared by the copies).
    let counters = TrafficCounters()
    /// This process's rank, `0..<size`.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// The largest number of elements that one MPI call of the buffer
    /// collectives carries (`broadcast(_:root:)` of a buffer,
    /// ``allreduce(_:_:)``, ``allreduceSumInRankOrder(_:)``, `allgather(_:)`
    /// of a buffer, ``gather(_:root:)``): longer buffers go in consecutive chunks, so
    /// they are not limited by MPI's 32-bit counts. Internal and settable so
    /// that tests exercise the chunking on small buffers; the environment
    /// variable `BEAMLINE_MPI_CHUNK_ELEMENTS` sets it when MPI starts
    /// (scripts/mpi_tests.sh uses it).
    var maximumChunk: Int

    /// The largest number of elements one MPI call of the buffer collectives
    /// carries, unless `BEAMLINE_MPI_CHUNK_ELEMENTS` says otherwise: 2²⁷ elements (512 MiB of `Float`,
    /// 1 GiB of `Double` per call), far below MPI's 2³¹ − 1 counts and
    /// displacements, and below the 2 GiB messages that some transports
    /// still handle badly; large enough that the per-call cost is nothing
    /// next to the transfer.
    public static let defaultMaximumChunk = 1 << 27

    /// The environment variable that overrides ``defaultMaximumChunk``.
    static let maximumChunkVariable = "BEAMLINE_MPI_CHUNK_ELEMENTS"

    /// Wraps `handle`, reading its rank and size; the chunk limit is
    /// `BEAMLINE_MPI_CHUNK_ELEMENTS` when set to a whole number ≥ 1,
    /// else ``defaultMaximumChunk``.
    init(handle: MPI_Comm) throws(MPIError) {
        var r: Int32 = 0, s: Int32 = 0
        try mpiCheck("MPI_Comm_rank") { MPI_Comm_rank(handle, &r) }
        try mpiCheck("MPI_Comm_size") { MPI_Comm_size(handle, &s) }
        self.handle = handle
        rank = Int(r)
        size = Int(s)
        maximumChunk = Self.defaultMaximumChunk
        if let text = ProcessInfo.processInfo.environment[Self.maximumChunkVariable] {
            guard let n = Int(text), n >= 1, n <= Self.defaultMaximumChunk else {
                throw .invalidArgument(name: Self.maximumChunkVariable, expected: "a whole number in 1...\(Self.defaultMaximumChunk)",
                                       received: text)
            }
            maximumChunk = n
        }
    }

    /// `0..<n` in consecutive ranges of at most `maximumChunk` elements
    /// (none for `n == 0`).
    func chunks(_ n: Int) -> [Range<Int>] {
        let c = Swift.max(1, Swift.min(maximumChunk, Int(Int32.max) / Swift.max(2, size)))
        return stride(from: 0, to: n, by: c).map { $0..<Swift.min($0 + c, n) }
    }

    /// Whether this is rank 0 (the rank that prints and writes files).
    public var isRoot: Bool { rank == 0 }

    /// What this rank has sent through this communicator (and its copies)
    /// since it was created, and the time it spent in the collective calls
    /// (waiting for slower ranks included).
    public var traffic: Traffic { counters.snapshot() }

    /// Counts `bytes` sent by this rank and the time since `start`.
    func record(bytes: Int, since start: ContinuousClock.Instant) {
        counters.add(bytes: bytes, duration: ContinuousClock.now - start)
    }

    /// Waits until every rank has called it (`MPI_Barrier`).
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func barrier() throws(MPIError) {
        try mpiCheck("MPI_Barrier") { MPI_Barrier(handle) }
    }

    /// A count as MPI's `int`, or an error naming `argument`.
    func count(_ n: Int, _ argument: String) throws(MPIError) -> Int32 {
        guard n >= 0 && n <= Int(Int32.max) else {
            throw .invalidArgument(name: argument, expected: "at most 2³¹ − 1 elements (MPI counts are 32-bit)", received: "\(n)")
        }
        return Int32(n)
    }

    /// Checks a root rank.
    func checkRoot(_ root: Int) throws(MPIError) {
        guard root >= 0 && root < size else {
            throw .invalidArgument(name: "root", expected: "a rank in 0..<\(size)", received: "\(root)")
        }
    }

    // MARK: - Broadcast

    /// Replaces `values` on every rank with `root`'s (`MPI_Bcast`, in
    /// chunks of at most ``defaultMaximumChunk`` elements); every rank must pass the
    /// same count.
    ///
    /// - Throws: ``MPIError`` for a bad root or a failed call.
    public func broadcast<S: OperatorScalar>(_ values: inout [S], root: Int = 0) throws(MPIError) {
        try checkRoot(root)
        let type = datatype(S.self), handle = handle
        for range in chunks(values.count) {
            let start = ContinuousClock.now
            let code = values.withUnsafeMutableBufferPointer { buffer in
                mpiCall { MPI_Bcast(buffer.baseAddress! + range.lowerBound, Int32(range.count), type, Int32(root), handle) }
            }
            try check("MPI_Bcast", code)
            record(bytes: rank == root ? range.count * MemoryLayout<S>.stride * (size - 1) : 0, since: start)
        }
    }

    /// `root`'s integers (shapes, offsets, flags) on every rank; the other
    /// ranks' `values` are ignored (their count need not match).
    ///
    /// - Throws: ``MPIError`` for a bad root or a failed call.
    public func broadcast(_ values: [Int], root: Int = 0) throws(MPIError) -> [Int] {
        try checkRoot(root)
        var length = [Double(rank == root ? values.count : 0)]
        try broadcast(&length, root: root)
        var buffer = rank == root ? values.map(Int64.init) : [Int64](repeating: 0, count: Int(length[0]))
        let n = try count(buffer.count, "values"), handle = handle
        let code = buffer.withUnsafeMutableBytes { bytes in
            mpiCall { MPI_Bcast(bytes.baseAddress, n, beamline_mpi_int64(), Int32(root), handle) }
        }
        try check("MPI_Bcast", code)
        return buffer.map(Int.init)
    }

    /// `root`'s string on every rank (the others' `text` is ignored).
    ///
    /// - Throws: ``MPIError`` for a bad root or a failed call.
    public func broadcast(_ text: String, root: Int = 0) throws(MPIError) -> String {
        try checkRoot(root)
        let bytes = Array(text.utf8)
        let length = try broadcast([bytes.count], root: root)[0]
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: length)
        let n = try count(length, "text"), handle = handle
        let code = buffer.withUnsafeMutableBytes { raw in
            mpiCall { MPI_Bcast(raw.baseAddress, n, beamline_mpi_byte(), Int32(root), handle) }
        }
        try check("MPI_Bcast", code)
        return String(decoding: buffer, as: UTF8.self)
    }

    // MARK: - Reductions

    /// Combines `values` elementwise over every rank with `MPI_Allreduce`
    /// (in chunks of at most ``defaultMaximumChunk`` elements), in place; every
    /// rank gets the result. The order of a ``ReductionOperation/sum`` is
    /// MPI's (implementation-defined); ``ReductionOperation/max`` is exact.
    /// For sums that must have the same bits whatever the number of ranks
    /// and the network, use ``allreduceSumInRankOrder(_:)``.
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func allreduce<S: OperatorScalar>(_ values: inout [S], _ operation: ReductionOperation) throws(MPIError) {
        let type = datatype(S.self), handle = handle
        let op = operation == .sum ? beamline_mpi_op_sum() : beamline_mpi_op_max()
        for range in chunks(values.count) {
            let start = ContinuousClock.now
            let code = values.withUnsafeMutableBufferPointer { buffer in
                mpiCall {
                    MPI_Allreduce(beamline_mpi_in_place(), buffer.baseAddress! + range.lowerBound, Int32(range.count), type, op, handle)
                }
            }
            try check("MPI_Allreduce", code)
            record(bytes: size > 1 ? range.count * MemoryLayout<S>.stride : 0, since: start)
        }
    }

    /// The elementwise sum of `buffer` over every rank, in place, with the
    /// same bits on every rank and for every network: each chunk of at most
    /// ``defaultMaximumChunk`` elements is split into `size` parts, rank k
    /// receives part k from every rank (`MPI_Alltoallv`) and adds them in
    /// rank order (in `Double`), and the summed parts are gathered on every
    /// rank (`MPI_Allgatherv`). Every element is the same rank-order sum
    /// whatever the chunking, so the bits do not depend on the chunk limit.
    /// Each rank sends and receives about `2 · count · (size − 1) / size`
    /// elements and holds one more buffer of at most one chunk while it
    /// runs. On one rank the buffer is left as it is.
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func allreduceSumInRankOrder<S: OperatorScalar>(_ buffer: UnsafeMutableBufferPointer<S>) throws(MPIError) {
        guard size > 1 else { return }
        let parts = chunks(buffer.count)
        let largest = parts.map(\.count).max() ?? 0
        var received = [S](repeating: 0, count: ((largest + size - 1) / size) * size)
        for range in parts {
            try sumChunkInRankOrder(UnsafeMutableBufferPointer(rebasing: buffer[range]), received: &received)
        }
    }

    /// One chunk of ``allreduceSumInRankOrder(_:)`` (at most
    /// `maximumChunk` elements); `received` holds at least
    /// `⌈count / size⌉ · size` elements.
    func sumChunkInRankOrder<S: OperatorScalar>(_ buffer: UnsafeMutableBufferPointer<S>, received: inout [S]) throws(MPIError) {
        let n = buffer.count
        let p = size
        func start(_ k: Int) -> Int { k * n / p }
        let mine = start(rank)..<start(rank + 1)
        let length = mine.count
        var sendCounts = [Int32](), sendDisplacements = [Int32](), receiveCounts = [Int32](), receiveDisplacements = [Int32]()
        for k in 0..<p {
            sendCounts.append(Int32(start(k + 1) - start(k)))
            sendDisplacements.append(Int32(start(k)))
            receiveCounts.append(Int32(length))
            receiveDisplacements.append(Int32(k * length))
        }
        let type = datatype(S.self), handle = handle
        let startTime = ContinuousClock.now
        // Sent: every part but its own (all-to-all), then its own part to every other rank.
        defer { record(bytes: ((n - length) + length * (p - 1)) * MemoryLayout<S>.stride, since: startTime) }
        let code = received.withUnsafeMutableBytes { raw in
            mpiCall {
                MPI_Alltoallv(buffer.baseAddress, sendCounts, sendDisplacements, type,
                              raw.baseAddress, receiveCounts, receiveDisplacements, type, handle)
            }
        }
        try check("MPI_Alltoallv", code)
        received.withUnsafeBufferPointer { r in
            let (rp, out) = (SendableBuffer(r), SendableMutableBuffer(buffer))
            let offset = mine.lowerBound
            VectorKernels.forEach(length) { range in
                for i in range {
                    var sum = Double(rp[i])
                    for k in 1..<p { sum += Double(rp[k * length + i]) }
                    out[offset + i] = S(sum)
                }
            }
        }
        try mpiCheck("MPI_Allgatherv") {
            MPI_Allgatherv(beamline_mpi_in_place(), 0, type, buffer.baseAddress, sendCounts, sendDisplacements, type, handle)
        }
    }

    /// The sum over every rank of `value` (lane by lane), added in rank
    /// order (rank 0's value first) after an `MPI_Allgather`, so every rank
    /// gets the same bits, whatever the network. On one rank: `value`.
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func sumInRankOrder(_ value: SIMD2<Double>) throws(MPIError) -> SIMD2<Double> {
        guard size > 1 else { return value }
        let all = try allgather([value.x, value.y])
        var total = SIMD2(all[0][0], all[0][1])
        for k in 1..<size { total += SIMD2(all[k][0], all[k][1]) }
        return total
    }

    // MARK: - Gathers

    /// Every rank's `values` (counts may differ between ranks), on every
    /// rank, in rank order (`MPI_Allgather` of the counts, then
    /// `MPI_Allgatherv` in rounds of at most ``defaultMaximumChunk`` elements of
    /// the concatenation).
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func allgather<S: OperatorScalar>(_ values: [S]) throws(MPIError) -> [[S]] {
        let counts = try allgatherCounts(values.count)
        var out = [S](repeating: 0, count: counts.reduce(0, +))
        let type = datatype(S.self), handle = handle
        for round in gatherRounds(counts) {
            let mine = round.parts[rank]
            let start = ContinuousClock.now
            let code = values.withUnsafeBufferPointer { send in
                out.withUnsafeMutableBufferPointer { receive in
                    mpiCall {
                        MPI_Allgatherv(send.baseAddress.map { $0 + mine.lowerBound }, Int32(mine.count), type,
                                       receive.baseAddress! + round.offset, round.counts, round.displacements, type, handle)
                    }
                }
            }
            try check("MPI_Allgatherv", code)
            record(bytes: mine.count * MemoryLayout<S>.stride * (size - 1), since: start)
        }
        var offset = 0
        return counts.map { c in defer { offset += c }; return Array(out[offset..<(offset + c)]) }
    }

    /// The rounds of a gather of every rank's values concatenated in rank
    /// order (`counts` per rank), each round at most `maximumChunk`
    /// elements of the concatenation starting at `offset`: per rank, the
    /// range of its own values it sends in the round, and the counts and
    /// displacements (relative to `offset`) MPI needs.
    func gatherRounds(_ counts: [Int]) -> [(offset: Int, parts: [Range<Int>], counts: [Int32], displacements: [Int32])] {
        var starts = [Int](), total = 0
        for c in counts { starts.append(total); total += c }
        return chunks(total).map { round in
            var parts = [Range<Int>](), roundCounts = [Int32](), displacements = [Int32]()
            for k in counts.indices {
                let lower = Swift.max(round.lowerBound, starts[k]), upper = Swift.min(round.upperBound, starts[k] + counts[k])
                let part = lower < upper ? (lower - starts[k])..<(upper - starts[k]) : 0..<0
                parts.append(part)
                roundCounts.append(Int32(part.count))
                displacements.append(Int32(lower < upper ? lower - round.lowerBound : 0))
            }
            return (round.lowerBound, parts, roundCounts, displacements)
        }
    }

    /// Every rank's integers (shapes, offsets, counts), on every rank, in
    /// rank order.
    ///
    /// - Throws: ``MPIError/call(function:code:message:)``.
    public func allgather(_ values: [Int]) throws(MPIError) -> [[Int]] {
        try allgather(values.map { Double($0) }).map { $0.map { Int($0) } }
    }

    /// The `count` of every rank, in rank order.
    func allgatherCounts(_ n: Int) throws(MPIError) -> [Int] {
        var mine = Int64(n)
        var all = [Int64](repeating: 0, count: size)
        let handle = handle
        let code = all.withUnsafeMutableBytes { raw in
            mpiCall {
                MPI_Allgather(&mine, 1, beamline_mpi_int64(), raw.baseAddress, 1, beamline_mpi_int64(), handle)
            }
        }
        try check("MPI_Allgather", code)
        return all.map { Int($0) }
    }

    /// Every rank's `values` concatenated in rank order on `root`
    /// (`MPI_Gatherv`, in rounds of at most ``defaultMaximumChunk`` elements of the
    /// concatenation); nil on the other ranks. Counts may differ between
    /// ranks.
    ///
    /// - Throws: ``MPIError`` for a bad root or a failed call.
    public func gather<S: OperatorScalar>(_ values: [S], root: Int = 0) throws(MPIError) -> [S]? {
        try checkRoot(root)
        let counts = try allgatherCounts(values.count)
        var out = [S](repeating: 0, count: rank == root ? counts.reduce(0, +) : 0)
        let type = datatype(S.self), handle = handle
        for round in gatherRounds(counts) {
            let mine = round.parts[rank]
            let start = ContinuousClock.now
            let code = values.withUnsafeBufferPointer { send in
                out.withUnsafeMutableBufferPointer { receive in
                    mpiCall {
                        MPI_Gatherv(send.baseAddress.map { $0 + mine.lowerBound }, Int32(mine.count), type,
                                    receive.baseAddress.map { $0 + round.offset }, round.counts, round.displacements, type,
                                    Int32(root), handle)
                    }
                }
            }
            try check("MPI_Gatherv", code)
            record(bytes: rank == root ? 0 : mine.count * MemoryLayout<S>.stride, since: start)
        }
        return rank == root ? out : nil
    }

    // MARK: - Failures

    /// Agrees on failure: every rank calls this at the same point with its
    /// own error message (nil when it succeeded). If any rank failed, every
    /// rank throws ``MPIError/failedOnRank(rank:message:)`` with the message
    /// of the lowest failing rank (an `MPI_Allreduce` of a flag, then a
    /// broadcast of the message); otherwise it returns.
    ///
    /// - Throws: ``MPIError/failedOnRank(rank:message:)``, or
    ///   ``MPIError/call(function:code:message:)`` when MPI itself fails.
    public func agreeOnFailure(_ message: String?) throws(MPIError) {
        // The lowest failing rank r is found as the maximum of size − r.
        var flag = [Double(message == nil ? 0 : size - rank)]
        try allreduce(&flag, .max)
        guard flag[0] > 0 else { return }
        let failing = size - Int(flag[0])
        let text = try broadcast(message ?? "", root: failing)
        throw .failedOnRank(rank: failing, message: text)
    }
}

/// The MPI datatype of `Float` or `Double`.
@inline(__always)
func datatype<S: OperatorScalar>(_: S.Type) -> MPI_Datatype {
    S.self == Float.self ? beamline_mpi_float() : beamline_mpi_double()
}

/// What a rank has sent through a ``Communicator`` and the time it spent in
/// its collective calls.
public struct Traffic: Sendable, Equatable {
    /// Payload bytes this rank handed to MPI for other ranks (counted from
    /// the calls' arguments: a broadcast counts on its root, once per other
    /// rank; an allgather once per other rank; the rank-order sum its
    /// all-to-all and allgather parts; `MPI_Allreduce` once, whatever MPI's
    /// algorithm sends). Shapes, counts and flags are not counted.
    public var bytesSent: Int
    /// Wall-clock seconds spent inside the counted calls, including waiting
    /// for slower ranks.
    public var seconds: Double
    /// The number of counted calls (a buffer collective split into chunks
    /// counts once per chunk: once per MPI call).
    public var calls: Int

    /// Counters with the given values.
    public init(bytesSent: Int = 0, seconds: Double = 0, calls: Int = 0) {
        self.bytesSent = bytesSent
        self.seconds = seconds
        self.calls = calls
    }
}

/// The lock-protected counters behind ``Communicator/traffic``.
final class TrafficCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Traffic()

    func add(bytes: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        lock.withLock {
            value.bytesSent += bytes
            value.seconds += seconds
            value.calls += 1
        }
    }

    func snapshot() -> Traffic { lock.withLock { value } }
}
