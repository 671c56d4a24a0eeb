// swift-tools-version: 6.1
// Beamline's benchmark suite (ordo-one package-benchmark). A separate package,
// so that depending on Beamline never pulls in the benchmark harness.
// Run from this folder: `swift package benchmark` (see docs/benchmarks.md).
import PackageDescription

/// One benchmark executable per area (docs/benchmarks.md), and whether it
/// uses the shared `BenchmarkInputs`.
let benchmarkTargets: [(name: String, sharedInputs: Bool)] = [
    ("TensorBenchmarks", false),
    ("SparseBenchmarks", false),
    ("RegistrationBenchmarks", false),
    ("RaytraceBenchmarks", true),
    ("ReconstructionBenchmarks", true),
    ("IOBenchmarks", false),
    ("CrystallographyBenchmarks", false),
    ("AlignmentBenchmarks", false),
]

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
    ] + benchmarkTargets.map { name, sharedInputs in
        .executableTarget(
            name: name,
            dependencies: (sharedInputs ? ["BenchmarkInputs"] : []) + [
                .product(name: "Beamline", package: "Beamline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
