// swift-tools-version: 6.1
import PackageDescription

// Layers import only downward:
//   C shims (CR, CPython, CArrow) → PolybridgeRuntime / PolybridgeArrow
//   → PolybridgeConversion, PolybridgeJobs → features (PolybridgeFiles, PolybridgeModels, PolybridgePipelines,
//   PolybridgeServe)
//   → Polybridge (public facade; PolybridgeServe is a library of its own)
//   → polybridge (CLI).
//
// Platform: Debian Linux. The package links Debian's libR by name (r-base-dev), finds its own
// executable through /proc/self/exe and has worker processes die with their parent through
// prctl; those Linux-only calls sit behind `#if os(Linux)` / `#ifdef __linux__`, but no other
// system is built or tested.
let package = Package(
    name: "Polybridge",
    products: [
        .library(name: "Polybridge", targets: ["Polybridge"]),
        // The model server apart: a package that only embeds R and Python builds no HTTP stack.
        .library(name: "PolybridgeServe", targets: ["PolybridgeServe"]),
        .executable(name: "polybridge", targets: ["polybridge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C: the three Arrow C Data / C Stream Interface structs (ABI-frozen).
        .target(name: "CArrow"),
        // C: longjmp-safe shims around libR and accessors for R's globals. R's headers are
        // reached through links in Sources/CR/include to Debian's /usr/share/R/include, and
        // libR is linked by name (Debian's /usr/lib/libR.so): no pkg-config, whose libR.pc
        // flags (-fopenmp, -Wl,...) SwiftPM refuses with a warning in every dependent package.
        .target(name: "CR", dependencies: ["CArrow"], linkerSettings: [.linkedLibrary("R")]),
        // C: libpython loaded at run time with dlopen (no link-time Python).
        .target(name: "CPython", dependencies: ["CArrow"],
                linkerSettings: [.linkedLibrary("dl")]),
        // C: process control: worker processes die with the parent, forked children start with
        // default signals, signals that end the process are taken on an ordinary thread.
        .target(name: "CProcess"),
        // Build tool: the Python and R files in a target's Scripts/ folder, embedded as string
        // constants (EmbeddedScripts) so the binary stays one relocatable file.
        .executableTarget(name: "EmbedScriptsTool", path: "Plugins/EmbedScriptsTool"),
        .plugin(name: "EmbedScripts", capability: .buildTool(), dependencies: ["EmbedScriptsTool"]),
        .target(name: "PolybridgeRuntime", dependencies: ["CR", "CPython", "CProcess"],
                exclude: ["Scripts"], plugins: ["EmbedScripts"]),
        .target(name: "PolybridgeArrow", dependencies: ["CArrow"]),
        // Jobs: the unit of work every executor runs (in process, worker pool, Ray, Dask), its
        // wire format, its one error type, and the worker's serving loop.
        .target(name: "PolybridgeJobs", dependencies: ["PolybridgeRuntime", "CProcess"]),
        .target(name: "PolybridgeConversion",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "CPython", "CArrow"],
                exclude: ["Scripts"], plugins: ["EmbedScripts"]),
        // Features: data files (CSV, Feather, Parquet, RDS) converted and inspected, and the
        // policy every output file follows (OutputFile).
        .target(name: "PolybridgeFiles",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "PolybridgeConversion"],
                exclude: ["Scripts"], plugins: ["EmbedScripts"]),
        // Features: linear model fits (R's lm, whole or in chunks merged exactly); a plot is
        // written by PolybridgeFiles' output policy.
        .target(name: "PolybridgeModels",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "PolybridgeConversion", "PolybridgeFiles", "PolybridgeJobs"],
                exclude: ["Scripts"], plugins: ["EmbedScripts"]),
        // Features: pipelines of read, R, Python, fit and write steps run as a DAG.
        .target(name: "PolybridgePipelines",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "PolybridgeConversion", "PolybridgeFiles",
                               "PolybridgeJobs", "PolybridgeModels", .product(name: "Yams", package: "Yams")],
                exclude: ["Scripts"], plugins: ["EmbedScripts"]),
        // Features: R models behind an HTTP server (Hummingbird), with Prometheus metrics.
        .target(name: "PolybridgeServe",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "PolybridgeFiles", "PolybridgeJobs", "PolybridgeModels",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "Metrics", package: "swift-metrics"),
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .target(name: "Polybridge",
                dependencies: ["PolybridgeRuntime", "PolybridgeArrow", "PolybridgeConversion", "PolybridgeFiles",
                               "PolybridgeJobs", "PolybridgeModels", "PolybridgePipelines"]),
        .executableTarget(name: "polybridge", dependencies: [
            "Polybridge", "PolybridgeServe", "CProcess",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Helpers shared by the test targets (running the built `polybridge` binary, temp files).
        .target(name: "PolybridgeTestSupport", dependencies: ["PolybridgeRuntime", "PolybridgeModels"], path: "Tests/PolybridgeTestSupport"),
        .testTarget(name: "PolybridgeRuntimeTests", dependencies: ["PolybridgeRuntime", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeArrowTests", dependencies: ["PolybridgeArrow", "CArrow"]),
        .testTarget(name: "PolybridgeConversionTests", dependencies: ["Polybridge", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeFilesTests", dependencies: ["PolybridgeFiles", "Polybridge", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeJobsTests", dependencies: ["PolybridgeJobs", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeModelsTests", dependencies: ["Polybridge", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeCLITests", dependencies: ["Polybridge", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgePipelinesTests", dependencies: ["Polybridge", "PolybridgeTestSupport"]),
        .testTarget(name: "PolybridgeServeTests", dependencies: ["PolybridgeServe", "PolybridgeTestSupport"]),
    ]
)
