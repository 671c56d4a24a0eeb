import CFFTW
import ComplexModule
import Synchronization

// Multi-dimensional transforms as a sequence of one-axis passes.
//
// FFTW_ESTIMATE plans for an axis with a large stride walk memory one
// column at a time: measured here, the column pass of a 1024×1024 complex
// transform took 46 ms against 2.8 ms for the rows. Instead, each axis
// that is not the innermost is transformed in blocks: 16 neighbouring
// columns are gathered into a small contiguous buffer (n × 16), transformed
// there as a 16-wide vector of 1-d transforms, and scattered back (3.3 ms
// for the same columns, single-threaded). Blocks run in parallel through
// ``Parallel``; each block's arithmetic is the same whatever the thread
// count, so results are identical with 1 or many threads.

/// Columns gathered per block: 16 complex doubles are 256 bytes per row of
/// the block, which keeps an n × 16 block in L2 for n up to a few thousand.
let fftBlockWidth = 16

/// Storage of ``FFT/passThreshold``.
let passThresholdSetting = Atomic<Int>(1 << 14)

/// Storage of ``FFT/realPlaneThreshold``.
let realPlaneThresholdSetting = Atomic<Int>(1 << 19)

extension FFT {
    /// Below this many output elements one guru plan does the whole
    /// transform (pass overheads would dominate). Tests move it to compare
    /// both paths.
    static var passThreshold: Int {
        get { passThresholdSetting.load(ordering: .relaxed) }
        set { passThresholdSetting.store(newValue, ordering: .relaxed) }
    }

    /// The threshold for 2-d real transforms (r2c and c2r over two axes),
    /// where FFTW's own plan is faster than the passes up to about 512²
    /// (measured with FFTW_ESTIMATE on one thread: 256² r2c 108 µs and c2r
    /// 118 µs, 512² 439 µs and 467 µs, against 121 µs / 152 µs and
    /// 471 µs / 558 µs through the passes on two threads). FFTW's complex
    /// 2-d ESTIMATE plans are the ones that walk columns (2.0 ms at 256²),
    /// so complex transforms keep ``passThreshold``. Tests move it too.
    static var realPlaneThreshold: Int {
        get { realPlaneThresholdSetting.load(ordering: .relaxed) }
        set { realPlaneThresholdSetting.store(newValue, ordering: .relaxed) }
    }

    /// The output size from which a transform of `kind` over `axes` runs
    /// as passes.
    static func passThreshold(kind: FFTKind, axes: [Int]) -> Int {
        kind != .complexToComplex && axes.count == 2 ? realPlaneThreshold : passThreshold
    }

    /// Runs an N-d transform as one-axis passes. Same contract as
    /// `execute`: `input` is C-contiguous with its final (cropped/padded)
    /// shape; the result is a new C-contiguous tensor of `outShape`.
    static func executeByPasses<T: FFTScalar, In: TensorElement, Out: TensorElement>(
        kind: FFTKind, input: Tensor<In>, outShape: [Int], axes: [Int], logical: [Int], sign: Int32,
        planning: FFTPlanning, precision: T.Type
    ) throws(TensorError) -> Tensor<Out> {
        let innermost = outShape.count - 1
        // Every element of the fresh result is written below. Its storage and the
        // input's are used through raw pointers (no closures, whose contexts
        // would be allocated on each call); `_fixLifetime` keeps both alive.
        let result = Tensor<Out>(unsafeUninitializedShape: outShape) { _ in }
        defer { _fixLifetime(input); _fixLifetime(result) }
        let destination = UnsafeMutableRawPointer(result.storage.base + result.offset)
        let source = UnsafeMutableRawPointer(mutating: input.storage.base + input.offset)
        let halved = axes.last!
        switch kind {
        case .complexToComplex:
            if axes.contains(innermost) {
                // Innermost axis straight from the input into the result.
                try guruPass(T.self, kind: .complexToComplex, from: source, inShape: input.shape,
                             to: destination, outShape: outShape, axis: innermost, logicalLength: outShape[innermost],
                             sign: sign, planning: planning)
            } else {
                destination.copyMemory(from: source, byteCount: input.count * MemoryLayout<In>.stride)
            }
            try complexPasses(T.self, destination, shape: outShape, axes: axes, skipping: innermost, sign: sign,
                              planning: planning)
        case .realToComplex:
            try guruPass(T.self, kind: .realToComplex, from: source, inShape: input.shape, to: destination,
                         outShape: outShape, axis: halved, logicalLength: input.layout.length(halved),
                         sign: sign, planning: planning)
            try complexPasses(T.self, destination, shape: outShape, axes: axes, skipping: halved, sign: sign,
                              planning: planning)
        case .complexToReal:
            // c2r destroys its input, and the complex passes run in place. `irfftn`
            // hands over a fresh copy that nothing else references (the same
            // contract as the single-plan path in `execute`), so it is the workspace.
            let workShape = input.shape
            try complexPasses(T.self, source, shape: workShape, axes: axes, skipping: halved, sign: sign,
                              planning: planning)
            try guruPass(T.self, kind: .complexToReal, from: source, inShape: workShape, to: destination,
                         outShape: outShape, axis: halved, logicalLength: outShape[halved], sign: sign,
                         planning: planning)
        }
        return result
    }

    /// The c2c passes of ``executeByPasses(kind:input:outShape:axes:logical:sign:planning:precision:)``
    /// over every axis of `axes` but `skipped` (the axis its first pass
    /// did), in place on the contiguous complex buffer `data`.
    static func complexPasses<T: FFTScalar>(
        _ type: T.Type, _ data: UnsafeMutableRawPointer, shape: [Int], axes: [Int], skipping skipped: Int,
        sign: Int32, planning: FFTPlanning
    ) throws(TensorError) {
        for axis in axes where axis != skipped {
            try transformAxisInPlace(T.self, data: data, shape: shape, axis: axis, sign: sign, planning: planning)
        }
    }

    /// One guru plan over `axis` with every other axis as the batch loop.
    static func guruPass<T: FFTScalar>(
        _ type: T.Type, kind: FFTKind, from input: UnsafeMutableRawPointer, inShape: [Int],
        to output: UnsafeMutableRawPointer, outShape: [Int], axis: Int, logicalLength: Int,
        sign: Int32, planning: FFTPlanning
    ) throws(TensorError) {
        let (dims, loops) = guruDimensions(inShape: inShape, outShape: outShape, axes: CollectionOfOne(axis),
                                           logical: CollectionOfOne(logicalLength))
        let inScalars = kind == .realToComplex ? 1 : 2, outScalars = kind == .complexToReal ? 1 : 2
        let inBytes = inShape.reduce(1, *) * inScalars * MemoryLayout<T>.stride
        let outBytes = outShape.reduce(1, *) * outScalars * MemoryLayout<T>.stride
        let handle = try plan(T.self, kind: kind, sign: sign, dims: dims, howMany: loops, planning: planning,
                              input: input, inputBytes: inBytes, output: output, outputBytes: outBytes)
        withExtendedLifetime(handle) {
            T._fftwExecute(kind: kind, plan: handle.pointer, input: input, output: output)
        }
    }

    /// Transforms the contiguous complex array `data` of `shape` along
    /// `axis`, in place: innermost axes by one batched plan, others in
    /// gathered blocks of ``fftBlockWidth`` columns, in parallel.
    static func transformAxisInPlace<T: FFTScalar>(
        _ type: T.Type, data: UnsafeMutableRawPointer, shape: [Int], axis: Int, sign: Int32, planning: FFTPlanning
    ) throws(TensorError) {
        let n = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        guard n > 1, inner > 0, outer > 0 else { return }
        if inner == 1 {
            try guruPass(T.self, kind: .complexToComplex, from: data, inShape: shape, to: data, outShape: shape,
                         axis: axis, logicalLength: n, sign: sign, planning: planning)
            return
        }
        let complexBytes = 2 * MemoryLayout<T>.stride
        let width = Swift.min(fftBlockWidth, inner)
        let tail = inner % width
        // Plans for an n × w block (rows of w columns, transformed down the rows), one thread each.
        func blockPlan(_ w: Int) throws(TensorError) -> FFTPlanHandle {
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: n * w * complexBytes, alignment: 64)
            defer { scratch.deallocate() }
            return try plan(T.self, kind: .complexToComplex, sign: sign, dims: [fftw_iodim64(n: n, is: w, os: w)],
                            howMany: [fftw_iodim64(n: w, is: 1, os: 1)], planning: planning,
                            input: scratch, inputBytes: n * w * complexBytes,
                            output: scratch, outputBytes: n * w * complexBytes, threads: 1)
        }
        let full = try blockPlan(width)
        let partial = tail > 0 ? try blockPlan(tail) : nil
        let blocksPerOuter = (inner + width - 1) / width
        let tasks = outer * blocksPerOuter
        let base = SendableMutableBuffer(UnsafeMutableBufferPointer(start: data.assumingMemoryBound(to: UInt8.self),
                                                                    count: outer * n * inner * complexBytes))
        let minimumTasks = Swift.max(1, (1 << 15) / (n * width))
        withExtendedLifetime((full, partial)) {
            Parallel.forEachChunk(count: tasks, minimumChunk: minimumTasks) { range in
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: n * width * complexBytes, alignment: 64)
                defer { buffer.deallocate() }
                for task in range {
                    let o = task / blocksPerOuter, column = (task % blocksPerOuter) * width
                    let w = Swift.min(width, inner - column)
                    let rowBytes = w * complexBytes
                    let start = UnsafeMutableRawPointer(base.pointer(at: (o * n * inner + column) * complexBytes))
                    let strideBytes = inner * complexBytes
                    for i in 0..<n {
                        (buffer + i * rowBytes).copyMemory(from: start + i * strideBytes, byteCount: rowBytes)
                    }
                    let handle = w == width ? full : partial!
                    T._fftwExecute(kind: .complexToComplex, plan: handle.pointer, input: buffer, output: buffer)
                    for i in 0..<n {
                        (start + i * strideBytes).copyMemory(from: buffer + i * rowBytes, byteCount: rowBytes)
                    }
                }
            }
        }
    }
}
