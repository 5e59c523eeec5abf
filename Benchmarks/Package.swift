// swift-tools-version: 6.1
// Benchmarks live in their own package so their release builds never slow down users' or CI's builds.
// Run: `cd Benchmarks && swift run -c release <target>` (see Docs/benchmarks.md).
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "orca-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "orca", path: ".."),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        .executableTarget(
            name: "SimulatorBench",
            dependencies: [
                .product(name: "TradovateSimulator", package: "orca"),
                .product(name: "CandleCore", package: "orca"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "TokenBench",
            dependencies: [
                .product(name: "TokenStore", package: "orca"),
                .product(name: "TradovateSimulator", package: "orca"),
                .product(name: "CandleCore", package: "orca"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "MarketDataBench",
            dependencies: [
                .product(name: "MarketData", package: "orca"),
                .product(name: "Collectors", package: "orca")
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "SinkBench",
            dependencies: [
                .product(name: "PostgresSink", package: "orca"),
                .product(name: "Collectors", package: "orca"),
                .product(name: "CandleCore", package: "orca"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "BackfillBench",
            dependencies: [
                .product(name: "MarketData", package: "orca"),
                .product(name: "PostgresSink", package: "orca"),
                .product(name: "Collectors", package: "orca"),
                .product(name: "CandleCore", package: "orca"),
                .product(name: "CandleTesting", package: "orca"),
                .product(name: "TokenStore", package: "orca"),
                .product(name: "TradovateSimulator", package: "orca"),
            ],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "CollectorLatencyBench",
            dependencies: [
                .product(name: "MarketData", package: "orca"),
                .product(name: "PostgresSink", package: "orca"),
                .product(name: "Collectors", package: "orca"),
                .product(name: "CandleCore", package: "orca"),
                .product(name: "OrcaRuntime", package: "orca"),
                .product(name: "TokenStore", package: "orca"),
                .product(name: "TradovateSimulator", package: "orca"),
            ],
            swiftSettings: settings
        ),
    ]
)
