// swift-tools-version: 6.1
// Beamline's benchmark suite (ordo-one package-benchmark). A separate package,
// so that depending on Beamline never pulls in the benchmark harness.
// Run from this folder: `swift package benchmark` (see docs/benchmarks.md).
import PackageDescription

let package = Package(
    name: "BeamlineBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Beamline", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Inputs shared by the benchmark targets (no benchmarks of its own).
        .target(
            name: "BenchmarkInputs",
            dependencies: [.product(name: "Beamline", package: "Beamline")],
            path: "Benchmarks/BenchmarkInputs"
        ),
        .executableTarget(
            name: "TensorBenchmarks",
            dependencies: [
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TensorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SparseBenchmarks",
            dependencies: [
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SparseBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RegistrationBenchmarks",
            dependencies: [
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RegistrationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ReconstructionBenchmarks",
            dependencies: [
                "BenchmarkInputs",
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ReconstructionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RaytraceBenchmarks",
            dependencies: [
                "BenchmarkInputs",
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RaytraceBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
