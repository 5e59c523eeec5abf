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
        .library(name: "TradovateSimulator", targets: ["TradovateSimulator"]),
        .library(name: "CandleTesting", targets: ["CandleTesting"]),
        .executable(name: "orca-run", targets: ["orca-run"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
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
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "Collectors",
            dependencies: ["CandleCore", "CLibPQ", .product(name: "Logging", package: "swift-log")],
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
            dependencies: ["CandleCore", "Collectors", "TokenStore", "TradovateSimulator"],
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
                "CandleCore", "TokenStore", "Collectors", "TradovateSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Tests
        .testTarget(name: "CandleCoreTests", dependencies: ["CandleCore"], swiftSettings: orcaSwiftSettings),
        .testTarget(
            name: "TokenStoreTests",
            dependencies: [
                "TokenStore", "CandleCore", "TradovateSimulator", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: orcaSwiftSettings
        ),
        .testTarget(name: "CollectorsTests", dependencies: ["Collectors"], swiftSettings: orcaSwiftSettings),
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
