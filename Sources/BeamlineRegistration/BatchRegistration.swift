import BeamlineTensor
import ComplexModule
import RealModule

extension Registration {
    /// Registers every image of a stack against the matching image of a
    /// reference stack (axis 0 indexes the images), in parallel over the
    /// images through `Parallel`.
    ///
    /// `reference` has the shape of `moving` (one reference per image) or
    /// the shape of one image (a single reference for all). Each result is
    /// what `phaseCrossCorrelation(_:_:options:)` returns for that pair,
    /// whatever the thread count or the order in which images finish.
    ///
    /// - Throws: the ``RegistrationError`` of the first failing image (by
    ///   index), with the argument named `moving[i]`, or a shape error.
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func registerStack<T: RegistrationScalar>(_ moving: Tensor<T>, against reference: Tensor<T>,
                                                            options: PhaseCorrelationOptions = PhaseCorrelationOptions())
    throws(RegistrationError) -> [RegistrationResult] {
        guard moving.rank >= 2, moving.length(ofAxis: 0) > 0 else {
            throw RegistrationError.emptyImage(argument: "moving (stack)", shape: moving.shape)
        }
        let imageShape = Array(moving.shape.dropFirst())
        let single = reference.shape == imageShape
        guard single || reference.shape == moving.shape else {
            throw RegistrationError.shapeMismatch(argument: "reference (stack)", expected: moving.shape, received: reference.shape)
        }
        let count = moving.length(ofAxis: 0)
        let stack = moving.contiguous(), references = reference.contiguous()
        let imageCount = imageShape.reduce(1, *)
        var outcomes = [Result<RegistrationResult, RegistrationError>?](repeating: nil, count: count)
        outcomes.withUnsafeMutableBufferPointer { buffer in
            let out = SendableMutableBuffer(buffer)
            Parallel.forEachChunk(count: count, minimumChunk: 1) { range in
                for i in range {
                    let image = stack.withUnsafeBufferPointer { b in
                        Array(b[(i * imageCount)..<((i + 1) * imageCount)])
                    }
                    let target: Tensor<T> = single ? references : references.withUnsafeBufferPointer { b in
                        Tensor(shape: imageShape, elements: Array(b[(i * imageCount)..<((i + 1) * imageCount)]))
                    }
                    do throws(RegistrationError) {
                        let result = try phaseCrossCorrelation(target, Tensor(shape: imageShape, elements: image),
                                                               options: options)
                        out[i] = .success(result)
                    } catch {
                        out[i] = .failure(renamed(error, index: i))
                    }
                }
            }
        }
        return try outcomes.map { (outcome) throws(RegistrationError) in try outcome!.get() }
    }

    static func renamed(_ error: RegistrationError, index: Int) -> RegistrationError {
        func rename(_ name: String) -> String { name == "moving" ? "moving[\(index)]" : name == "reference" ? "reference[\(index)]" : name }
        switch error {
        case let .emptyImage(argument, shape): return .emptyImage(argument: rename(argument), shape: shape)
        case var .argument(bad):
            bad.argument = rename(bad.argument)
            return .argument(bad)
        default: return error
        }
    }
}
