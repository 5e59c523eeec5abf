// swift-tools-version: 6.1
import PackageDescription

// Orca embedded in your own program: the in-process Tradovate simulator, a token refresher, the market-data client
// and a Collector that writes into a custom CandleSink, run in a ServiceLifecycle ServiceGroup. Library products only
// (CandleCore, Collectors, TokenStore, TradovateSimulator), no OrcaRuntime. Orca is a path dependency here; in your
// project use `.package(url: "<your Orca git URL>", from: "0.3.0")`.
let package = Package(
    name: "EmbeddedCollector",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CloseTracking", targets: ["CloseTracking"]),
        .executable(name: "embedded-collector", targets: ["embedded-collector"]),
    ],
    dependencies: [
        .package(name: "orca", path: "../.."),
        // Orca's own dependencies, named here because the executable uses their products directly.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // The custom sink: keeps every bar in memory, remembers the latest close per series, prints closed bars.
        .target(
            name: "CloseTracking",
            dependencies: [
                .product(name: "CandleCore", package: "orca"),
                .product(name: "Collectors", package: "orca"),
            ]
        ),
        // The program: simulator + tokens + market data + collector + the custom sink, for `--seconds N`.
        .executableTarget(
            name: "embedded-collector",
            dependencies: [
                .product(name: "MarketData", package: "orca"),
                "CloseTracking",
                .product(name: "CandleCore", package: "orca"),
                .product(name: "Collectors", package: "orca"),
                .product(name: "TokenStore", package: "orca"),
                .product(name: "TradovateSimulator", package: "orca"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "CloseTrackingTests",
            dependencies: [
                .product(name: "MarketData", package: "orca"),
                "CloseTracking",
                .product(name: "CandleCore", package: "orca"),
                .product(name: "Collectors", package: "orca"),
                .product(name: "CandleTesting", package: "orca"),
                .product(name: "TokenStore", package: "orca"),
                .product(name: "TradovateSimulator", package: "orca"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
