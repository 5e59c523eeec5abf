// swift-tools-version: 6.1
import PackageDescription

/// Settings every Orca target shares: Swift 6 language mode (the tools-version default) plus the upcoming
/// features the swift-log / swift-metrics packages enable, so C imports never leak into public signatures.
let orcaSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "orca",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CandleCore", targets: ["CandleCore"]),
        .library(name: "TokenStore", targets: ["TokenStore"]),
        .library(name: "Collectors", targets: ["Collectors"]),
        .library(name: "MarketData", targets: ["MarketData"]),
        .library(name: "PostgresSink", targets: ["PostgresSink"]),
        .library(name: "TradovateSimulator", targets: ["TradovateSimulator"]),
        .library(name: "CandleTesting", targets: ["CandleTesting"]),
        .library(name: "OrcaRuntime", targets: ["OrcaRuntime"]),
        .executable(name: "orca-run", targets: ["orca-run"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // 5.4 … 6.x: swift-configuration's YAML trait needs at least 5.4 (the mirror holds 5.0.1 and 6.2.2).
        .package(url: "https://github.com/jpsim/Yams", "5.4.0"..<"7.0.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // `swift package generate-documentation` for the DocC catalogs (a command plugin; nothing links it).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // MARK: C system libraries (never products; apt providers name the Debian -dev packages)
        // hiredis's pkg-config file adds `-D_FILE_OFFSET_BITS=64`, which SwiftPM rejects with a warning on every build;
        // its header is found as <hiredis/hiredis.h> on the default include path, so no pkg-config lookup is needed.
        // Debian package: libhiredis-dev (Homebrew: hiredis).
        .systemLibrary(name: "CHiredis"),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),

        // MARK: Libraries
        .target(
            name: "CandleCore",
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "TokenStore",
            dependencies: [
                "CandleCore", "CHiredis", "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        // Along the data path: MarketData (the Tradovate socket: wire codec, client, candle source) → Collectors
        // (live collection, heal, backfill, verify; the CandleSink protocol, file, buffer and memory sinks) →
        // PostgresSink (the libpq driver and the PostgreSQL sink; the only CLibPQ user).
        .target(
            name: "Collectors",
            dependencies: [
                "CandleCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "MarketData",
            dependencies: [
                "CandleCore", "Collectors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "PostgresSink",
            dependencies: [
                "CandleCore", "Collectors", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "TradovateSimulator",
            dependencies: [
                "CandleCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: orcaSwiftSettings
        ),

        // The test kit for users' strategy tests (never imports XCTest or Testing).
        .target(
            name: "CandleTesting",
            dependencies: ["CandleCore", "Collectors"],
            swiftSettings: orcaSwiftSettings
        ),

        // The daemon's building blocks: configuration, service composition, health, verify, metrics, the HTTP
        // endpoint. `orca-run` only parses arguments and calls into this library, so all of it is tested here.
        .target(
            name: "OrcaRuntime",
            dependencies: [
                "CandleCore", "TokenStore", "Collectors", "MarketData", "PostgresSink", "TradovateSimulator",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Test helpers (not products)
        // A process that writes candles through the file sink until it is killed (kill -9 crash-safety tests).
        .executableTarget(
            name: "orca-test-file-writer",
            dependencies: ["Collectors"],
            path: "Tests/Support/FileWriterProcess",
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Executable (composition root only)
        .executableTarget(
            name: "orca-run",
            dependencies: [
                "CandleCore", "TokenStore", "Collectors", "MarketData", "PostgresSink", "TradovateSimulator",
                "OrcaRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),

        // Helpers shared by test targets: child processes (posix_spawn + waitpid on a plain thread), the orca-run path.
        .target(name: "OrcaTestSupport", path: "Tests/Support/OrcaTestSupport", swiftSettings: orcaSwiftSettings),
        // Blocking Redis (hiredis) and PostgreSQL (libpq) clients that only integration tests use to look at servers.
        .target(
            name: "ServerTestSupport",
            dependencies: ["TokenStore", "Collectors", "PostgresSink", "CHiredis", "CLibPQ"],
            path: "Tests/Support/ServerTestSupport",
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Tests
        .testTarget(name: "CandleCoreTests", dependencies: ["CandleCore"], swiftSettings: orcaSwiftSettings),
        .testTarget(
            name: "TokenStoreTests",
            dependencies: [
                "TokenStore", "CandleCore", "CandleTesting", "TradovateSimulator", "OrcaTestSupport",
                "ServerTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .testTarget(
            name: "CollectorsTests",
            dependencies: [
                "Collectors", "MarketData", "PostgresSink", "CandleCore", "CandleTesting", "TradovateSimulator",
                "OrcaTestSupport", "ServerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .testTarget(
            name: "MarketDataTests",
            dependencies: [
                "MarketData", "Collectors", "CandleCore", "CandleTesting", "TokenStore", "TradovateSimulator",
                "OrcaTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .testTarget(
            name: "OrcaRuntimeTests",
            dependencies: [
                "OrcaRuntime", "CandleTesting", "TradovateSimulator", "TokenStore", "Collectors", "MarketData",
                "PostgresSink", "CandleCore", "OrcaTestSupport", "ServerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .testTarget(name: "CandleTestingTests", dependencies: ["CandleTesting"], swiftSettings: orcaSwiftSettings),
        .testTarget(
            name: "TradovateSimulatorTests",
            dependencies: [
                "TradovateSimulator",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
    ]
)
