import CFFTW
import Synchronization

/// How hard FFTW searches for a fast plan.
public enum FFTPlanning: Sendable, Hashable {
    /// `FFTW_ESTIMATE`: a heuristic plan, made instantly (the default).
    case estimate
    /// `FFTW_MEASURE`: times candidate plans on scratch buffers (your data
    /// is never touched while planning); slower to plan, often faster to run.
    case measure

    var flags: UInt32 {
        switch self {
        case .estimate: return UInt32(FFTW_ESTIMATE)
        case .measure: return UInt32(FFTW_MEASURE)
        }
    }
}

/// The key of a cached plan: everything FFTW's plan depends on.
struct FFTPlanKey: Hashable {
    var precision: DType
    var kind: FFTKind
    var sign: Int32
    /// Transformed dimensions as (n, input stride, output stride) triples.
    var dims: [Int]
    /// Loop (batch) dimensions as (n, input stride, output stride) triples.
    var howMany: [Int]
    var flags: UInt32
    var inputAlignment: Int32
    var outputAlignment: Int32
    var threads: Int

    /// `dimensions` as (n, input stride, output stride) triples, in one allocation.
    static func triples(_ dimensions: [fftw_iodim64]) -> [Int] {
        var result = [Int]()
        result.reserveCapacity(3 * dimensions.count)
        for d in dimensions { result.append(d.n); result.append(d.is); result.append(d.os) }
        return result
    }
}

/// A plan owned by the cache; destroyed (under the planner lock) when the
/// last reference goes away.
final class FFTPlanHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let destroy: @Sendable (OpaquePointer) -> Void

    init(pointer: OpaquePointer, destroy: @escaping @Sendable (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.destroy = destroy
    }

    deinit {
        let plan = pointer, destroy = self.destroy
        fftwPlanner.withLock { _ in destroy(plan) }
    }
}

/// FFTW's threading, set up once before any planning (Swift initialises
/// globals lazily and exactly once).
let fftwThreadsReady: Bool = {
    let double = Double._fftwInitThreads()
    let single = Float._fftwInitThreads()
    // Multi-threaded plans split their loops over Beamline's pool instead of
    // FFTW's own threads, whose workers sleep between transforms.
    fftw_threads_set_callback(runFFTWLoop, nil)
    fftwf_threads_set_callback(runFFTWLoop, nil)
    return double && single
}()

/// FFTW's parallel-loop callback: `jobs` independent calls of `work` on
/// consecutive `elementSize`-byte records of `jobData`, through ``runConcurrently(iterations:_:)``.
private func runFFTWLoop(work: (@convention(c) (UnsafeMutablePointer<CChar>?) -> UnsafeMutableRawPointer?)?,
                         jobData: UnsafeMutablePointer<CChar>?, elementSize: Int, jobs: Int32,
                         data: UnsafeMutableRawPointer?) {
    guard let work, let jobData, jobs > 0 else { return }
    let records = SendableMutableBuffer(UnsafeMutableBufferPointer(start: jobData, count: Int(jobs) * elementSize))
    runConcurrently(iterations: Int(jobs)) { job in _ = work(records.pointer(at: job * elementSize, count: elementSize)) }
}

/// The planner lock: FFTW's planner (plan creation and destruction, wisdom)
/// is not thread-safe, so every call into it happens while holding this.
/// The value is the plan cache itself.
let fftwPlanner = Mutex<[FFTPlanKey: FFTPlanHandle]>([:])

extension FFT {
    /// How many parts FFTW's multi-threaded plans split their work into:
    /// the number of cores, whatever ``Parallel/threadCount`` says. The
    /// parts run on Beamline's pool with ``Parallel/threadCount`` threads
    /// (one after another with 1), so a transform's arithmetic, and its
    /// result, do not depend on the thread setting.
    public static let planThreads = Swift.max(2, Parallel.processorCount)

    /// Number of plans in the cache (for tests and diagnostics).
    public static var cachedPlanCount: Int { fftwPlanner.withLock { $0.count } }

    /// Drops every cached plan (they are destroyed once no transform in
    /// flight still uses them). Wisdom is kept.
    public static func clearPlanCache() {
        var old: [FFTPlanKey: FFTPlanHandle] = [:]
        fftwPlanner.withLock { cache in swap(&old, &cache) }
        old.removeAll()   // deinit takes the lock, so release outside it
    }

    /// A plan for the problem, from the cache or made now (serialised).
    ///
    /// With ``FFTPlanning/estimate`` FFTW plans on the caller's arrays
    /// without touching them; with ``FFTPlanning/measure`` it plans on
    /// scratch buffers with the same alignment, so inputs are not clobbered.
    /// `threads` overrides ``FFT/planThreads`` (1 for plans executed
    /// inside Beamline's own parallel loops).
    static func plan<T: FFTScalar>(_ type: T.Type, kind: FFTKind, sign: Int32, dims: [fftw_iodim64],
                                   howMany: [fftw_iodim64], planning: FFTPlanning,
                                   input: UnsafeMutableRawPointer, inputBytes: Int,
                                   output: UnsafeMutableRawPointer, outputBytes: Int,
                                   threads requestedThreads: Int? = nil) throws(TensorError) -> FFTPlanHandle {
        _ = fftwThreadsReady
        let threads = requestedThreads ?? FFT.planThreads
        let key = FFTPlanKey(precision: T.dtype, kind: kind, sign: sign,
                             dims: FFTPlanKey.triples(dims), howMany: FFTPlanKey.triples(howMany),
                             flags: planning.flags,
                             inputAlignment: T._fftwAlignment(of: input), outputAlignment: T._fftwAlignment(of: output),
                             threads: threads)
        let made: FFTPlanHandle? = fftwPlanner.withLock { cache in
            if let cached = cache[key] { return cached }
            T._fftwPlanWithThreads(Int32(clamping: threads))
            var planIn = input, planOut = output
            var scratch: [UnsafeMutableRawPointer] = []
            if planning == .measure {
                // Scratch buffers with the caller's alignment offsets.
                let inOffset = Int(key.inputAlignment), outOffset = Int(key.outputAlignment)
                let a = UnsafeMutableRawPointer.allocate(byteCount: inputBytes + 64, alignment: 64)
                let b = UnsafeMutableRawPointer.allocate(byteCount: outputBytes + 64, alignment: 64)
                scratch = [a, b]
                planIn = a + inOffset
                planOut = b + outOffset
            }
            defer { scratch.forEach { $0.deallocate() } }
            let pointer = dims.withUnsafeBufferPointer { d in
                howMany.withUnsafeBufferPointer { h in
                    T._fftwPlan(kind: kind, rank: Int32(d.count), dims: d.baseAddress!,
                               howManyRank: Int32(h.count), howManyDims: h.baseAddress ?? d.baseAddress!,
                               input: planIn, output: planOut, sign: sign, flags: planning.flags)
                }
            }
            guard let pointer else { return nil }
            let handle = FFTPlanHandle(pointer: pointer, destroy: { T._fftwDestroy($0) })
            cache[key] = handle
            return handle
        }
        guard let made else {
            throw TensorError.backendFailure(routine: "\(T.self == Float.self ? "fftwf" : "fftw")_plan_guru64 (\(kind))",
                                             code: 0)
        }
        return made
    }

    // MARK: - Wisdom

    /// FFTW's accumulated wisdom (plans learnt with ``FFTPlanning/measure``)
    /// for one precision (`Float.self` or `Double.self`), as text
    /// (`fftw_export_wisdom_to_string`).
    public static func exportWisdom<T: FFTScalar>(for type: T.Type) -> String {
        _ = fftwThreadsReady
        return fftwPlanner.withLock { _ in T._fftwExportWisdom() }
    }

    /// Adds wisdom from text made by ``exportWisdom(for:)``
    /// (`fftw_import_wisdom_from_string`). Throws
    /// ``TensorError/invalidArgument(name:expected:received:)`` when FFTW
    /// cannot parse it.
    public static func importWisdom<T: FFTScalar>(_ text: String, for type: T.Type) throws(TensorError) {
        _ = fftwThreadsReady
        let ok = fftwPlanner.withLock { _ in T._fftwImportWisdom(text) }
        guard ok else {
            throw TensorError.invalidArgument(name: "wisdom", expected: "FFTW wisdom text for \(T.self)",
                                              received: "\(text.prefix(40))...")
        }
    }

    /// Writes the wisdom for one precision to a file
    /// (`fftw_export_wisdom_to_filename`); throws
    /// ``TensorError/backendFailure(routine:code:)`` when it cannot be written.
    public static func exportWisdom<T: FFTScalar>(for type: T.Type, toFile path: String) throws(TensorError) {
        _ = fftwThreadsReady
        let ok = fftwPlanner.withLock { _ in T._fftwExportWisdom(toFile: path) }
        guard ok else { throw TensorError.backendFailure(routine: "fftw_export_wisdom_to_filename(\(path))", code: 0) }
    }

    /// Reads wisdom for one precision from a file
    /// (`fftw_import_wisdom_from_filename`); throws
    /// ``TensorError/backendFailure(routine:code:)`` when the file is missing
    /// or not wisdom.
    public static func importWisdom<T: FFTScalar>(for type: T.Type, fromFile path: String) throws(TensorError) {
        _ = fftwThreadsReady
        let ok = fftwPlanner.withLock { _ in T._fftwImportWisdom(fromFile: path) }
        guard ok else { throw TensorError.backendFailure(routine: "fftw_import_wisdom_from_filename(\(path))", code: 0) }
    }

    /// Forgets all wisdom for one precision (`fftw_forget_wisdom`); cached
    /// plans stay valid.
    public static func forgetWisdom<T: FFTScalar>(for type: T.Type) {
        _ = fftwThreadsReady
        fftwPlanner.withLock { _ in T._fftwForgetWisdom() }
    }
}
