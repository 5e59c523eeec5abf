// swift-tools-version: 6.1
import PackageDescription

// A toy trading strategy and its unit tests, written against Orca's test kit: scripted bars (ScriptedCandleSource),
// a recording sink and a manual clock. Orca is a path dependency here; in your project use
// `.package(url: "<your Orca git URL>", from: "0.3.0")`.
let package = Package(
    name: "StrategyTesting",
    platforms: [.macOS(.v15)],
    products: [.library(name: "ToyStrategy", targets: ["ToyStrategy"])],
    dependencies: [.package(name: "orca", path: "../..")],
    targets: [
        .target(
            name: "ToyStrategy",
            dependencies: [
                .product(name: "CandleCore", package: "orca"),
                .product(name: "Collectors", package: "orca"),
            ]
        ),
        .testTarget(
            name: "ToyStrategyTests",
            dependencies: [
                "ToyStrategy",
                .product(name: "CandleTesting", package: "orca"),
            ]
        ),
    ]
)
