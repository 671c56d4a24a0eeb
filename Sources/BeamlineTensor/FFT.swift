import CFFTW
import ComplexModule

/// NumPy's `norm` argument: which direction of a transform pair is scaled.
public enum FFTNormalization: String, Sendable, CaseIterable {
    /// No scaling forward, `1/N` on the inverse (NumPy's default).
    case backward
    /// `1/√N` both ways (the transform is unitary).
    case ortho
    /// `1/N` forward, no scaling on the inverse.
    case forward

    /// The factor applied to a transform of `count` points.
    func scale(count: Int, inverse: Bool) -> Double {
        switch self {
        case .backward: return inverse ? 1 / Double(count) : 1
        case .ortho: return 1 / Double(count).squareRoot()
        case .forward: return inverse ? 1 : 1 / Double(count)
        }
    }
}

/// Discrete Fourier transforms on FFTW3, with NumPy's `numpy.fft` API and
/// conventions: forward transforms use `exp(-2πi jk/n)`, results are in
/// standard order (zero frequency first), `n`/`s` crop or zero-pad the
/// input, and the real transforms halve the last transformed axis to
/// `n/2 + 1`.
///
/// Every transform runs as one FFTW guru plan over all chosen axes, with
/// the other axes as FFTW's batch ("howmany") loop, so a stack of images is
/// one plan. Plans are cached by problem (shape, strides, precision, kind,
/// direction, axes, flags, alignment, threads) and made one at a time
/// behind a lock, since FFTW's planner is not thread-safe; execution uses
/// FFTW's new-array functions and is safe from many threads. Plans use
/// ``Parallel/threadCount`` threads.
///
/// Inputs of any layout are accepted (non-contiguous views are copied to
/// contiguous memory first); results are new C-contiguous tensors.
/// `Float` data uses the `fftwf_` library and `Double` data `fftw_`.
///
/// Errors: an axis outside the tensor throws
/// ``TensorError/axisOutOfRange(axis:rank:)``; repeated axes, a length
/// below 1 in `n`/`s`, `s` and `axes` of different lengths, or an empty
/// (length-0) transformed axis throw
/// ``TensorError/invalidArgument(name:expected:received:)``.
public enum FFT {
    // MARK: - Complex transforms

    /// The 1-d discrete Fourier transform along `axis` (`numpy.fft.fft`).
    ///
    /// - Parameters:
    ///   - x: complex input of any rank; the other axes are a batch.
    ///   - n: transform length; the input is cropped or zero-padded to it
    ///     along `axis` (default: the axis length).
    ///   - axis: the transformed axis (negative counts from the end).
    ///   - norm: scaling convention (default ``FFTNormalization/backward``: none).
    ///   - planning: FFTW planning effort.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fft<T: FFTScalar>(_ x: Tensor<Complex<T>>, n: Int? = nil, axis: Int = -1,
                                         norm: FFTNormalization = .backward,
                                         planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try complexTransform(x, s: n.map { [$0] }, axes: [axis], inverse: false, norm: norm, planning: planning)
    }

    /// ``fft(_:n:axis:norm:planning:)`` of real input (converted to complex first, as NumPy does).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fft<T: FFTScalar>(_ x: Tensor<T>, n: Int? = nil, axis: Int = -1,
                                         norm: FFTNormalization = .backward,
                                         planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try fft(x.map { Complex($0, 0) }, n: n, axis: axis, norm: norm, planning: planning)
    }

    /// The 1-d inverse transform along `axis` (`numpy.fft.ifft`): with the
    /// default norm, `ifft(fft(x)) == x`.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func ifft<T: FFTScalar>(_ x: Tensor<Complex<T>>, n: Int? = nil, axis: Int = -1,
                                          norm: FFTNormalization = .backward,
                                          planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try complexTransform(x, s: n.map { [$0] }, axes: [axis], inverse: true, norm: norm, planning: planning)
    }

    /// The N-d transform over `axes` (`numpy.fft.fftn`; `fft2` is
    /// `axes: [-2, -1]`).
    ///
    /// - Parameters:
    ///   - x: the input, of any rank and layout.
    ///   - s: lengths of the transformed axes (crop or zero-pad); with
    ///     `axes` nil, `s` applies to the last `s.count` axes.
    ///   - axes: transformed axes (default: all, or the last `s.count`).
    ///   - norm: which direction is scaled (NumPy's `norm`).
    ///   - planning: how FFTW chooses its plan (estimate, or measure by timing).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fftn<T: FFTScalar>(_ x: Tensor<Complex<T>>, s: [Int]? = nil, axes: [Int]? = nil,
                                          norm: FFTNormalization = .backward,
                                          planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try complexTransform(x, s: s, axes: axes, inverse: false, norm: norm, planning: planning)
    }

    /// ``fftn(_:s:axes:norm:planning:)`` of real input.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func fftn<T: FFTScalar>(_ x: Tensor<T>, s: [Int]? = nil, axes: [Int]? = nil,
                                          norm: FFTNormalization = .backward,
                                          planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try fftn(x.map { Complex($0, 0) }, s: s, axes: axes, norm: norm, planning: planning)
    }

    /// The N-d inverse transform over `axes` (`numpy.fft.ifftn`).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func ifftn<T: FFTScalar>(_ x: Tensor<Complex<T>>, s: [Int]? = nil, axes: [Int]? = nil,
                                           norm: FFTNormalization = .backward,
                                           planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try complexTransform(x, s: s, axes: axes, inverse: true, norm: norm, planning: planning)
    }

    // MARK: - Real transforms

    /// The transform of real input along `axis`, keeping the `n/2 + 1`
    /// non-negative frequencies (`numpy.fft.rfft`).
    ///
    /// - Parameters:
    ///   - x: the real input, of any rank and layout.
    ///   - n: number of input points used (crop or zero-pad; default the axis length).
    ///   - axis: the transformed axis (negative counts from the end).
    ///   - norm: which direction is scaled (NumPy's `norm`).
    ///   - planning: how FFTW chooses its plan (estimate, or measure by timing).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func rfft<T: FFTScalar>(_ x: Tensor<T>, n: Int? = nil, axis: Int = -1,
                                          norm: FFTNormalization = .backward,
                                          planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        try rfftn(x, s: n.map { [$0] }, axes: [axis], norm: norm, planning: planning)
    }

    /// The inverse of ``rfft(_:n:axis:norm:planning:)`` (`numpy.fft.irfft`):
    /// real output of length `n` along `axis` (default `2 * (m - 1)` for an
    /// input axis of length `m`; pass `n` to get an odd length back). The
    /// input is cropped or zero-padded to `n/2 + 1` points.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func irfft<T: FFTScalar>(_ x: Tensor<Complex<T>>, n: Int? = nil, axis: Int = -1,
                                           norm: FFTNormalization = .backward,
                                           planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<T> {
        try irfftn(x, s: n.map { [$0] }, axes: [axis], norm: norm, planning: planning)
    }

    /// The N-d transform of real input (`numpy.fft.rfftn`): the last axis
    /// in `axes` is halved to `s.last / 2 + 1`, the others are full.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func rfftn<T: FFTScalar>(_ x: Tensor<T>, s: [Int]? = nil, axes: [Int]? = nil,
                                           norm: FFTNormalization = .backward,
                                           planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<Complex<T>> {
        var inShape = x.shape
        let (resolved, lengths) = try resolveAxes(rank: x.rank, shape: inShape, s: s, axes: axes)
        for (a, n) in zip(resolved, lengths) { inShape[a] = n }
        let input = try resized(x, to: inShape)
        var outShape = inShape
        outShape[resolved.last!] = inShape[resolved.last!] / 2 + 1
        return try execute(kind: .realToComplex, input: input, outShape: outShape, axes: resolved,
                           logical: lengths, sign: Int32(FFTW_FORWARD), inverse: false, norm: norm,
                           planning: planning, precision: T.self, output: Complex<T>.self)
    }

    /// ``rfftn(_:s:axes:norm:planning:)`` over all axes of several real
    /// tensors of one shape, transformed concurrently: each image's
    /// transform is one single-threaded FFTW plan, and the images are spread
    /// over ``Parallel/threadCount`` threads (images of fewer than
    /// ``FFT/batchConcurrencyMinimum`` outputs run in turn). For a few small or mid-sized
    /// images (a registration pair, a short stack) this beats transforming
    /// them one after another with every thread on each, where waking the
    /// threads and splitting small passes costs more than it saves.
    /// The plans do not depend on the thread count, so neither do the
    /// results; they equal `rfftn` of each image to rounding (a different
    /// FFTW decomposition may be chosen).
    ///
    /// Images of more than ``FFT/batchImageLimit`` output elements are
    /// transformed one at a time with ``rfftn(_:s:axes:norm:planning:)``.
    ///
    /// - Throws: ``TensorError/invalidArgument(name:expected:received:)``
    ///   if the images differ in shape or one has an empty axis.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func rfftn<T: FFTScalar>(batch images: [Tensor<T>], norm: FFTNormalization = .backward,
                                           planning: FFTPlanning = .estimate) throws(TensorError) -> [Tensor<Complex<T>>] {
        guard let first = images.first else { return [] }
        if let other = images.first(where: { !$0.hasSameShape(as: first) }) {
            throw TensorError.invalidArgument(name: "images", expected: "tensors of one shape \(first.shape)",
                                              received: "shape \(other.shape)")
        }
        var outShape = first.shape
        let (axes, lengths) = try resolveAxes(rank: first.rank, shape: outShape, s: nil, axes: nil)
        outShape[outShape.count - 1] = outShape[outShape.count - 1] / 2 + 1
        if outShape.reduce(1, *) > batchImageLimit {
            return try images.map { (image) throws(TensorError) in try rfftn(image, norm: norm, planning: planning) }
        }
        let inputs = images.map { $0.contiguous() }
        // Plans (cache hits after the first) and outputs are made here, so
        // the concurrent part takes no lock and allocates nothing.
        let planned: [PlannedTransform<Complex<T>>] = try inputs.map { (input) throws(TensorError) in
            try plan(kind: .realToComplex, input: input, outShape: outShape, axes: axes, logical: lengths,
                     sign: Int32(FFTW_FORWARD), planning: planning, precision: T.self, threads: 1)
        }
        let factor = T(norm.scale(count: lengths.reduce(1, *), inverse: false))
        // Images under `batchConcurrencyMinimum` outputs run one after another.
        let perTask = outShape.reduce(1, *) < batchConcurrencyMinimum ? inputs.count : 1
        Parallel.forEachChunk(count: inputs.count, minimumChunk: perTask) { range in
            for i in range {
                run(planned[i], kind: .realToComplex, input: inputs[i], precision: T.self)
                if factor != 1 { scaleUnshared(planned[i].output, by: factor, singleThreaded: true) }
            }
        }
        return planned.map(\.output)
    }

    /// Largest output (elements per image) that ``rfftn(batch:norm:planning:)``
    /// transforms with one single-threaded plan per image; larger images
    /// use the multi-threaded passes (2¹⁹: 512 × 1024 real).
    public static let batchImageLimit = 1 << 19

    /// Smallest output (elements per image) for which
    /// ``rfftn(batch:norm:planning:)`` spreads images over threads (2¹²: a
    /// 64² real image): with the pool's workers awake, even a 128² pair
    /// runs in about the time of one transform.
    public static let batchConcurrencyMinimum = 1 << 12

    /// The inverse of ``rfftn(_:s:axes:norm:planning:)`` (`numpy.fft.irfftn`):
    /// `s` gives the real output lengths (default: the input lengths, with
    /// the last axis `2 * (m - 1)`).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func irfftn<T: FFTScalar>(_ x: Tensor<Complex<T>>, s: [Int]? = nil, axes: [Int]? = nil,
                                            norm: FFTNormalization = .backward,
                                            planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<T> {
        var inShape = x.shape
        var (resolved, lengths) = try resolveAxes(rank: x.rank, shape: inShape, s: s, axes: axes)
        if s == nil {
            lengths[lengths.count - 1] = 2 * (x.layout.length(resolved.last!) - 1)
            guard lengths.last! >= 1 else {
                throw TensorError.invalidArgument(name: "n", expected: "at least 1 output point",
                                                  received: "\(lengths.last!) (input axis length \(x.layout.length(resolved.last!)))")
            }
        }
        for (a, n) in zip(resolved, lengths) { inShape[a] = n }
        inShape[resolved.last!] = lengths.last! / 2 + 1
        // c2r destroys its input: always work on a fresh copy.
        var input = try resized(x, to: inShape)
        if input.storage === x.storage { input = input.copied() }
        var outShape = inShape
        outShape[resolved.last!] = lengths.last!
        return try execute(kind: .complexToReal, input: input, outShape: outShape, axes: resolved,
                           logical: lengths, sign: Int32(FFTW_BACKWARD), inverse: true, norm: norm,
                           planning: planning, precision: T.self, output: T.self)
    }

    /// ``irfftn(_:s:axes:norm:planning:)`` over all axes of a C-contiguous
    /// half spectrum that the caller will not read again: FFTW's c2r
    /// overwrites it instead of a copy (one pass over the spectrum saved).
    /// `s` is the full real shape (the last axis of `x` is `s.last / 2 + 1`).
    package static func irfftn<T: FFTScalar>(destroying x: Tensor<Complex<T>>, s: [Int],
                                             norm: FFTNormalization = .backward,
                                             planning: FFTPlanning = .estimate) throws(TensorError) -> Tensor<T> {
        var half = s
        half[half.count - 1] = s[s.count - 1] / 2 + 1
        guard x.isContiguous && x.shape == half else { return try irfftn(x, s: s, norm: norm, planning: planning) }
        return try execute(kind: .complexToReal, input: x, outShape: s, axes: Array(0..<s.count), logical: s,
                           sign: Int32(FFTW_BACKWARD), inverse: true, norm: norm, planning: planning,
                           precision: T.self, output: T.self)
    }

    // MARK: - Frequencies and shifts

    /// Sample frequencies of an `n`-point transform with sample spacing `d`
    /// (`numpy.fft.fftfreq`): `[0, 1, …, ⌈n/2⌉-1, -⌊n/2⌋, …, -1] / (d·n)`.
    ///
    /// Throws ``TensorError/invalidArgument(name:expected:received:)`` for
    /// `n < 1` or a zero or non-finite `d`.
    public static func fftfreq<T: FFTScalar>(_ n: Int, d: T = 1) throws(TensorError) -> Tensor<T> {
        try checkFrequencyArguments(n, d)
        let positive = (n - 1) / 2 + 1
        return Tensor(unsafeUninitializedShape: [n]) { buffer in
            let scale = 1 / (d * T(n))
            for i in 0..<n { buffer[i] = T(i < positive ? i : i - n) * scale }
        }
    }

    /// Sample frequencies of an `n`-point real transform
    /// (`numpy.fft.rfftfreq`): `[0, 1, …, ⌊n/2⌋] / (d·n)`.
    public static func rfftfreq<T: FFTScalar>(_ n: Int, d: T = 1) throws(TensorError) -> Tensor<T> {
        try checkFrequencyArguments(n, d)
        return Tensor(unsafeUninitializedShape: [n / 2 + 1]) { buffer in
            let scale = 1 / (d * T(n))
            for i in 0...(n / 2) { buffer[i] = T(i) * scale }
        }
    }

    static func checkFrequencyArguments<T: FFTScalar>(_ n: Int, _ d: T) throws(TensorError) {
        guard n >= 1 else { throw TensorError.invalidArgument(name: "n", expected: "at least 1", received: "\(n)") }
        guard d.isFinite && d != 0 else {
            throw TensorError.invalidArgument(name: "d", expected: "a finite, non-zero spacing", received: "\(d)")
        }
    }

    /// Moves the zero-frequency term to the centre (`numpy.fft.fftshift`):
    /// rolls each axis in `axes` (default: all) by `n/2`. Works on any
    /// element type; returns a new contiguous tensor.
    public static func fftshift<E: TensorElement>(_ x: Tensor<E>, axes: [Int]? = nil) throws(TensorError) -> Tensor<E> {
        try shift(x, axes: axes, inverse: false)
    }

    /// The inverse of ``fftshift(_:axes:)`` (`numpy.fft.ifftshift`): rolls by
    /// `-(n/2)`, which differs from `fftshift` for odd lengths.
    public static func ifftshift<E: TensorElement>(_ x: Tensor<E>, axes: [Int]? = nil) throws(TensorError) -> Tensor<E> {
        try shift(x, axes: axes, inverse: true)
    }

    static func shift<E: TensorElement>(_ x: Tensor<E>, axes: [Int]?, inverse: Bool) throws(TensorError) -> Tensor<E> {
        let resolved = try (axes ?? Array(0..<x.rank)).map { (axis) throws(TensorError) in try x.normalizedAxis(axis) }
        var result = x
        for a in resolved {
            let n = result.layout.length(a)
            guard n > 1 else { continue }
            let k = inverse ? n - n / 2 : n / 2   // roll by k: result[i] = x[(i - k) mod n]
            var head = [TensorIndex](repeating: .all, count: x.rank)
            var tail = head
            head[a] = .range((n - k)..<n)
            tail[a] = .range(0..<(n - k))
            result = try Tensor.concatenated([try result.view(head), try result.view(tail)], axis: a)
        }
        return result.contiguous()
    }

    // MARK: - Implementation

    static func complexTransform<T: FFTScalar>(_ x: Tensor<Complex<T>>, s: [Int]?, axes: [Int]?, inverse: Bool,
                                               norm: FFTNormalization,
                                               planning: FFTPlanning) throws(TensorError) -> Tensor<Complex<T>> {
        var shape = x.shape
        let (resolved, lengths) = try resolveAxes(rank: x.rank, shape: shape, s: s, axes: axes)
        for (a, n) in zip(resolved, lengths) { shape[a] = n }
        let input = try resized(x, to: shape)
        return try execute(kind: .complexToComplex, input: input, outShape: shape, axes: resolved,
                           logical: lengths, sign: Int32(inverse ? FFTW_BACKWARD : FFTW_FORWARD),
                           inverse: inverse, norm: norm, planning: planning, precision: T.self, output: Complex<T>.self)
    }

    /// Resolves `axes` and `s` with NumPy's rules; returns the axes and the
    /// logical transform length of each.
    static func resolveAxes(rank: Int, shape: [Int], s: [Int]?, axes: [Int]?) throws(TensorError) -> ([Int], [Int]) {
        let requested: [Int]
        if let axes {
            requested = axes
        } else if let s {
            guard s.count <= rank else {
                throw TensorError.invalidArgument(name: "s", expected: "at most \(rank) lengths", received: "\(s)")
            }
            requested = Array((rank - s.count)..<rank)
        } else {
            requested = Array(0..<rank)
        }
        var resolved: [Int] = []
        for axis in requested {
            let a = axis < 0 ? axis + rank : axis
            guard a >= 0 && a < rank else { throw TensorError.axisOutOfRange(axis: axis, rank: rank) }
            resolved.append(a)
        }
        guard !resolved.isEmpty else {
            throw TensorError.invalidArgument(name: "axes", expected: "at least one axis", received: "\(requested)")
        }
        guard Set(resolved).count == resolved.count else {
            throw TensorError.invalidArgument(name: "axes", expected: "distinct axes", received: "\(requested)")
        }
        let lengths: [Int]
        if let s {
            guard s.count == resolved.count else {
                throw TensorError.invalidArgument(name: "s", expected: "\(resolved.count) lengths (one per axis)",
                                                  received: "\(s)")
            }
            guard s.allSatisfy({ $0 >= 1 }) else {
                throw TensorError.invalidArgument(name: s.count == 1 ? "n" : "s", expected: "lengths of at least 1",
                                                  received: "\(s)")
            }
            lengths = s
        } else {
            lengths = resolved.map { shape[$0] }
            if let a = resolved.first(where: { shape[$0] == 0 }) {
                throw TensorError.invalidArgument(name: "x", expected: "at least 1 point along axis \(a)",
                                                  received: "shape \(shape)")
            }
        }
        return (resolved, lengths)
    }

    /// `x` cropped or zero-padded to `shape` (same rank), C-contiguous.
    static func resized<E: TensorElement>(_ x: Tensor<E>, to shape: [Int]) throws(TensorError) -> Tensor<E> {
        if x.hasShape(shape) { return x.contiguous() }
        var result = Tensor<E>(shape: shape, repeating: ._zeroValue)
        let common = zip(shape, x.shape).map { Swift.min($0, $1) }
        if common.contains(0) { return result }
        let ranges = common.map { TensorIndex.range(0..<$0) }
        try result.assign(try x.view(ranges), to: ranges)
        return result
    }

    /// Transforms with fewer elements (input or output) than this run their
    /// FFTW plan as one part; larger ones split it into ``FFT/planThreads``
    /// parts on Beamline's pool, whose awake workers make even small splits
    /// pay (2-d real plans, 1 thread against 2 on this 2-core machine:
    /// 128² r2c 26 µs against 15 µs, c2r 30 µs against 20 µs; 256² 115
    /// against 59 µs and 138 against 78 µs; FFTW's own threads, which sleep
    /// between transforms, lost below 512²).
    static let singleThreadLimit = 1 << 12

    /// Runs one guru plan: `input` is C-contiguous with its final shape,
    /// the output is a new C-contiguous tensor of `outShape`.
    static func execute<T: FFTScalar, In: TensorElement, Out: TensorElement>(
        kind: FFTKind, input: Tensor<In>, outShape: [Int], axes: [Int], logical: [Int], sign: Int32,
        inverse: Bool, norm: FFTNormalization, planning: FFTPlanning, precision: T.Type, output: Out.Type,
        singleThreaded: Bool = false
    ) throws(TensorError) -> Tensor<Out> {
        precondition(input.isContiguous)
        let outCount = outShape.reduce(1, *)
        if !singleThreaded && outCount >= passThreshold(kind: kind, axes: axes) && axes != [outShape.count - 1] {
            let result: Tensor<Out> = try executeByPasses(kind: kind, input: input, outShape: outShape, axes: axes,
                                                          logical: logical, sign: sign, planning: planning,
                                                          precision: T.self)
            let factor = T(norm.scale(count: logical.reduce(1, *), inverse: inverse))
            if factor != 1 { scaleUnshared(result, by: factor) }
            return result
        }
        let planned: PlannedTransform<Out> = try plan(
            kind: kind, input: input, outShape: outShape, axes: axes, logical: logical, sign: sign, planning: planning,
            precision: T.self,
            threads: singleThreaded || Swift.max(input.count, outCount) < singleThreadLimit ? 1 : nil)
        run(planned, kind: kind, input: input, precision: T.self)
        let result = planned.output   // fresh, so scaling writes it in place (no copy-on-write)
        let factor = T(norm.scale(count: logical.reduce(1, *), inverse: inverse))
        if factor != 1 { scaleUnshared(result, by: factor, singleThreaded: singleThreaded) }
        return result
    }

    /// FFTW's guru dimensions for a transform between C-contiguous arrays of
    /// `inShape` and `outShape` over `axes` (lengths `logical`, in the
    /// order given): one entry per transformed axis, and the batch loops,
    /// every other axis longer than 1 in increasing order. Strides are
    /// computed on the way (two arrays are allocated, nothing else).
    static func guruDimensions<Axes: Collection<Int>, Lengths: Collection<Int>>(
        inShape: [Int], outShape: [Int], axes: Axes, logical: Lengths
    ) -> (dims: [fftw_iodim64], loops: [fftw_iodim64]) {
        var dims = [fftw_iodim64](repeating: fftw_iodim64(n: 0, is: 0, os: 0), count: axes.count)
        var loops = [fftw_iodim64]()
        loops.reserveCapacity(outShape.count)
        var inStride = 1, outStride = 1
        for axis in Swift.stride(from: outShape.count - 1, through: 0, by: -1) {
            if let position = axes.firstIndex(of: axis) {
                let slot = axes.distance(from: axes.startIndex, to: position)
                let length = logical[logical.index(logical.startIndex, offsetBy: slot)]
                dims[slot] = fftw_iodim64(n: length, is: inStride, os: outStride)
            } else if outShape[axis] > 1 {
                loops.append(fftw_iodim64(n: outShape[axis], is: inStride, os: outStride))
            }
            inStride *= Swift.max(inShape[axis], 1)
            outStride *= Swift.max(outShape[axis], 1)
        }
        loops.reverse()
        return (dims, loops)
    }

    /// A new C-contiguous output tensor and the FFTW plan that fills it from one input.
    struct PlannedTransform<Out: TensorElement> {
        /// Uninitialised until the plan runs (FFTW writes every element).
        let output: Tensor<Out>
        /// Nil when the output is empty (a batch axis of length 0).
        let plan: FFTPlanHandle?
    }

    /// Plans one guru transform of the C-contiguous `input` into a new
    /// tensor of `outShape` (from the cache, under the planner lock), split
    /// into `threads` parts (nil: ``FFT/planThreads``).
    static func plan<T: FFTScalar, In: TensorElement, Out: TensorElement>(
        kind: FFTKind, input: Tensor<In>, outShape: [Int], axes: [Int], logical: [Int], sign: Int32,
        planning: FFTPlanning, precision: T.Type, threads: Int?
    ) throws(TensorError) -> PlannedTransform<Out> {
        precondition(input.isContiguous)
        let output = Tensor<Out>(unsafeUninitializedShape: outShape) { _ in }  // FFTW writes every element
        if output.count == 0 { return PlannedTransform(output: output, plan: nil) }
        let (dims, loops) = guruDimensions(inShape: input.shape, outShape: outShape, axes: axes, logical: logical)
        defer { _fixLifetime(input); _fixLifetime(output) }
        let handle = try plan(T.self, kind: kind, sign: sign, dims: dims, howMany: loops, planning: planning,
                              input: UnsafeMutableRawPointer(input.storage.base + input.offset),
                              inputBytes: input.count * MemoryLayout<In>.stride,
                              output: UnsafeMutableRawPointer(output.storage.base + output.offset),
                              outputBytes: output.count * MemoryLayout<Out>.stride, threads: threads)
        return PlannedTransform(output: output, plan: handle)
    }

    /// Runs a plan from ``plan(kind:input:outShape:axes:logical:sign:planning:precision:threads:)``
    /// on its input, writing its (not yet shared) output tensor. Safe to
    /// call for different transforms concurrently.
    static func run<T: FFTScalar, In: TensorElement, Out: TensorElement>(
        _ planned: PlannedTransform<Out>, kind: FFTKind, input: Tensor<In>, precision: T.Type
    ) {
        guard let plan = planned.plan else { return }
        withExtendedLifetime((input.storage, planned.output.storage, plan)) {
            T._fftwExecute(kind: kind, plan: plan.pointer,
                          input: UnsafeMutableRawPointer(input.storage.base + input.offset),
                          output: UnsafeMutableRawPointer(planned.output.storage.base + planned.output.offset))
        }
    }

    /// Multiplies every real component of `tensor` (real or complex
    /// elements of `T`, C-contiguous) by `factor`, in parallel unless
    /// `singleThreaded`. It writes `tensor`'s storage without copying it
    /// first, so that storage must be referenced by no other tensor (a
    /// plan's fresh output).
    static func scaleUnshared<T: FFTScalar, E: TensorElement>(_ tensor: Tensor<E>, by factor: T,
                                                              singleThreaded: Bool = false) {
        let scalars = tensor.count * MemoryLayout<E>.stride / MemoryLayout<T>.stride
        withExtendedLifetime(tensor.storage) {
            let reals = SendableMutableBuffer(UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(tensor.storage.base + tensor.offset).assumingMemoryBound(to: T.self),
                count: scalars))
            Parallel.forEachChunk(count: scalars, minimumChunk: singleThreaded ? scalars : 1 << 16) { range in
                for i in range { reals[i] *= factor }
            }
        }
    }
}
