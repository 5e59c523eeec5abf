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
        .executable(name: "orca-run", targets: ["orca-run"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
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
            dependencies: ["CandleCore", "CHiredis", "CCurl"],
            swiftSettings: orcaSwiftSettings
        ),
        .target(
            name: "Collectors",
            dependencies: ["CandleCore", "CLibPQ"],
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Executable (composition root only)
        .executableTarget(
            name: "orca-run",
            dependencies: [
                "CandleCore", "TokenStore", "Collectors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: orcaSwiftSettings
        ),

        // MARK: Tests
        .testTarget(name: "CandleCoreTests", dependencies: ["CandleCore"], swiftSettings: orcaSwiftSettings),
        .testTarget(name: "TokenStoreTests", dependencies: ["TokenStore"], swiftSettings: orcaSwiftSettings),
        .testTarget(name: "CollectorsTests", dependencies: ["Collectors"], swiftSettings: orcaSwiftSettings),
    ]
)
