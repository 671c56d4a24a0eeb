import BeamlineTensor
import ComplexModule
import RealModule

extension Registration {
    /// The centre of mass of `image` (`scipy.ndimage.center_of_mass(image)`,
    /// or `center_of_mass(image, labels=mask)` when a mask is given: only
    /// pixels where `mask` is true count). Sums are accumulated in
    /// `Double`; negative masses are allowed.
    ///
    /// - Returns: one coordinate per axis, in pixels from the first element.
    /// - Throws: ``RegistrationError`` for an empty image, non-finite pixels,
    ///   a mask of another shape, or a total mass of exactly zero (SciPy
    ///   returns NaN or infinity with a warning).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func centerOfMass<T: RegistrationScalar>(_ image: Tensor<T>, mask: Tensor<Bool>? = nil) throws(RegistrationError) -> [Double] {
        if let mask {
            guard mask.hasSameShape(as: image) else {
                throw RegistrationError.shapeMismatch(argument: "mask", expected: image.shape, received: mask.shape)
            }
            return try centerOfMass(image, labels: mask.map { Int64($0 ? 1 : 0) }, index: [1])[0]
        }
        return try centerOfMass(image, labels: Tensor<Int64>(shape: image.shape, repeating: 1), index: [1])[0]
    }

    /// Centres of mass of labelled regions
    /// (`scipy.ndimage.center_of_mass(image, labels, index)`): one centre
    /// per value in `index`, each over the pixels whose label equals it.
    ///
    /// - Throws: ``RegistrationError`` for an empty image, non-finite
    ///   pixels, labels of another shape, an empty `index`, or a label
    ///   whose total mass is zero (including labels with no pixel).
    @specialized(where T == Double)
    @specialized(where T == Float)
    public static func centerOfMass<T: RegistrationScalar>(_ image: Tensor<T>, labels: Tensor<Int64>,
                                                           index: [Int64]) throws(RegistrationError) -> [[Double]] {
        try checkImage(image, "image")
        guard labels.hasSameShape(as: image) else {
            throw RegistrationError.shapeMismatch(argument: "labels", expected: image.shape, received: labels.shape)
        }
        guard !index.isEmpty else {
            throw RegistrationError.invalidArgument(name: "index", expected: "at least one label", received: "[]")
        }
        let rank = image.rank
        let shape = image.shape
        var slot: [Int64: Int] = [:]
        for (i, label) in index.enumerated() where slot[label] == nil { slot[label] = i }
        var mass = [Double](repeating: 0, count: index.count)
        var moments = [Double](repeating: 0, count: index.count * rank)
        let values = image.elements, labelValues = labels.elements
        var position = [Int](repeating: 0, count: rank)
        for flat in 0..<values.count {
            if let s = slot[labelValues[flat]] {
                let v = Double(values[flat])
                mass[s] += v
                for a in 0..<rank { moments[s * rank + a] += v * Double(position[a]) }
            }
            var a = rank - 1
            while a >= 0 {
                position[a] += 1
                if position[a] < shape[a] { break }
                position[a] = 0
                a -= 1
            }
        }
        return try index.map { (label) throws(RegistrationError) in
            let s = slot[label]!
            guard mass[s] != 0 else { throw RegistrationError.zeroTotalMass(argument: "image (label \(label))") }
            return (0..<rank).map { moments[s * rank + $0] / mass[s] }
        }
    }
}
