// swift-tools-version: 6.0
// Beamline: a performance-first Swift numerics framework for synchrotron X-ray imaging.
// Layers (each imports only those below it) are described in docs/architecture.md.
import PackageDescription

let package = Package(
    name: "Beamline",
    platforms: [.macOS(.v14)],
    products: [
        // MARK: - Public API
        .library(name: "Beamline", targets: ["Beamline"]),
        .library(name: "BeamlineTensor", targets: ["BeamlineTensor"]),
        .library(name: "BeamlineOperators", targets: ["BeamlineOperators"]),
        .library(name: "BeamlineIO", targets: ["BeamlineIO"]),
        .library(name: "BeamlineSparse", targets: ["BeamlineSparse"]),
        .library(name: "BeamlineSolvers", targets: ["BeamlineSolvers"]),
        .library(name: "BeamlineRegistration", targets: ["BeamlineRegistration"]),
        .library(name: "BeamlineTomography", targets: ["BeamlineTomography"]),
        .library(name: "BeamlineDetector", targets: ["BeamlineDetector"]),
        .library(name: "BeamlineAlignment", targets: ["BeamlineAlignment"]),
        .library(name: "BeamlineCrystallography", targets: ["BeamlineCrystallography"]),
        // Distributed operators over Open MPI: the only library product that links MPI.
        .library(name: "BeamlineMPI", targets: ["BeamlineMPI"]),
        .executable(name: "beamline", targets: ["beamline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // MARK: - C back ends (system libraries from Debian)
        .systemLibrary(name: "CBLAS", path: "CShims/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "CShims/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CFFTW", path: "CShims/CFFTW", pkgConfig: "fftw3",
                       providers: [.apt(["libfftw3-dev"])]),
        // HDF5 1.10 (Debian's serial build); compression filters such as LZ4 come
        // from hdf5-filter-plugin at run time.
        .systemLibrary(name: "CHDF5", path: "CShims/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev", "hdf5-filter-plugin"])]),
        // Open MPI 4.1 (Debian's libopenmpi-dev; mpirun from openmpi-bin). Only
        // BeamlineMPI (and through it the CLI and the MPI tests) links it.
        .systemLibrary(name: "CMPI", path: "CShims/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // zlib, for NumpyArchive's bounded inflate of deflated .npz members.
        .systemLibrary(name: "CBeamlineZlib", path: "CShims/CBeamlineZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // Fused multiply-add kernels in C (portable, plus AVX2 + FMA chosen at run
        // time on x86-64) for the John-transform projector's column fast path.
        .target(name: "CBeamlineKernels"),

        // MARK: - Layers
        // Bands, each importing only lower bands (never a peer):
        //   BeamlineTensor < {BeamlineOperators, BeamlineIO} < {BeamlineSparse, BeamlineSolvers}
        //   < {BeamlineRegistration, BeamlineTomography, BeamlineDetector, BeamlineCrystallography} < BeamlineAlignment
        //   < BeamlineMPI < Beamline < BeamlineCLI (the umbrella does not import BeamlineMPI).
        .target(
            name: "BeamlineTensor",
            dependencies: [
                "CBLAS", "CLAPACKE", "CFFTW", "CBeamlineKernels",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "BeamlineOperators",
            dependencies: ["BeamlineTensor"]),
        .target(
            name: "BeamlineIO",
            dependencies: [
                "BeamlineTensor", "CHDF5", "CBeamlineZlib",
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]),
        .target(
            name: "BeamlineSparse",
            dependencies: ["BeamlineTensor", "BeamlineOperators", "BeamlineIO"]),
        .target(
            name: "BeamlineSolvers",
            dependencies: [
                "BeamlineTensor", "BeamlineOperators",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "BeamlineRegistration",
            dependencies: [
                "BeamlineTensor", "CBeamlineKernels",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "BeamlineTomography",
            dependencies: [
                "BeamlineTensor", "BeamlineOperators", "BeamlineSolvers", "BeamlineIO", "CBeamlineKernels",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "BeamlineDetector",
            dependencies: ["BeamlineTensor", "BeamlineOperators", "BeamlineIO", "BeamlineSparse", "BeamlineSolvers"]),
        // Tomographic alignment: above registration, tomography and the solvers.
        .target(
            name: "BeamlineAlignment",
            dependencies: ["BeamlineTensor", "BeamlineOperators", "BeamlineSolvers", "BeamlineRegistration",
                           "BeamlineTomography", .product(name: "Numerics", package: "swift-numerics")]),
        .target(
            name: "BeamlineCrystallography",
            dependencies: ["BeamlineTensor", "BeamlineIO", "BeamlineSolvers", "CBeamlineKernels"]),
        // Distributed operators and reconstructions over MPI ranks: above every
        // library layer it uses, beside (not under) the umbrella, which does
        // not import it.
        .target(
            name: "BeamlineMPI",
            dependencies: ["BeamlineTensor", "BeamlineOperators", "BeamlineSolvers", "BeamlineTomography", "CMPI"]),
        .target(
            name: "Beamline",
            dependencies: [
                "BeamlineTensor", "BeamlineOperators", "BeamlineIO", "BeamlineSparse", "BeamlineSolvers",
                "BeamlineRegistration",
                "BeamlineTomography",
                "BeamlineDetector",
                "BeamlineAlignment",
                "BeamlineCrystallography",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "BeamlineCLI",
            dependencies: [
                "Beamline", "BeamlineMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "beamline",
            dependencies: ["BeamlineCLI"]),

        // MARK: - Tests
        // Shared by the test targets only (no product): fixture loading and error measures.
        .target(
            name: "BeamlineTestSupport",
            dependencies: ["BeamlineTensor", "BeamlineOperators", .product(name: "Numerics", package: "swift-numerics")],
            path: "Tests/BeamlineTestSupport"),
        .testTarget(
            name: "BeamlineTensorTests",
            dependencies: ["BeamlineTestSupport", "BeamlineTensor", "BeamlineIO"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineOperatorsTests",
            dependencies: ["BeamlineTestSupport", "BeamlineOperators", "BeamlineTensor"]),
        .testTarget(
            name: "BeamlineIOTests",
            dependencies: ["BeamlineIO", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineSparseTests",
            dependencies: ["BeamlineTestSupport", "BeamlineSparse", "BeamlineOperators", "BeamlineIO", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineSolversTests",
            dependencies: ["BeamlineTestSupport", "BeamlineSolvers", "BeamlineOperators", "BeamlineSparse", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineRegistrationTests",
            dependencies: ["BeamlineTestSupport", "BeamlineRegistration", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineTomographyTests",
            dependencies: ["BeamlineTestSupport", "BeamlineTomography", "BeamlineSolvers", "BeamlineOperators", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineDetectorTests",
            dependencies: ["BeamlineTestSupport", "BeamlineDetector", "BeamlineSolvers", "BeamlineOperators", "BeamlineSparse", "BeamlineIO", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineAlignmentTests",
            dependencies: ["BeamlineTestSupport", "BeamlineAlignment", "BeamlineTomography", "BeamlineSolvers", "BeamlineTensor"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineCrystallographyTests",
            dependencies: ["BeamlineTestSupport", "BeamlineCrystallography", "BeamlineSolvers", "BeamlineIO", "BeamlineTensor",
                           "CBeamlineKernels"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BeamlineMPITests",
            dependencies: ["BeamlineMPI", "BeamlineTomography", "BeamlineSolvers", "BeamlineOperators", "BeamlineTensor"]),
        .testTarget(
            name: "BeamlineCLITests",
            dependencies: ["BeamlineCLI", "Beamline"]),
        // The ```swift blocks of README.md and docs/, compiled (scripts/doc_examples.py).
        .testTarget(
            name: "DocExamplesTests",
            dependencies: ["Beamline", "BeamlineMPI"]),
    ]
)
