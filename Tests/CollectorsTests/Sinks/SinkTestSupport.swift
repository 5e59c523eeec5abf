import CandleCore
import Foundation
import Testing

@testable import Collectors
@testable import PostgresSink

/// The test database, when `scripts/test.sh` (or the caller) provides one.
let sinkTestDatabaseURL = ProcessInfo.processInfo.environment["ORCA_TEST_DATABASE_URL"]

/// Test bars on fixed grids: NQ 5-minute and ES 15-minute, starting Monday 2025-11-03 15:00Z.
enum Bars {
    static let base = Date(timeIntervalSince1970: 1_762_182_000)  // 2025-11-03T15:00:00Z
    static let nq5 = Series(.nq, .fiveMinutes)
    static let es15 = Series(.es, .fifteenMinutes)

    /// Bar `index` of NQ 5-minute (start = base + index × 5 min).
    static func nq(
        _ index: Int, close: Double = 21_000.5, final: Bool = true, symbol: String = "NQZ5", upVolume: Int64 = 120,
        bidVolume: Int64? = nil
    ) -> Candle {
        Candle(
            symbol: symbol, instrument: .nq, timeframe: .fiveMinutes, start: start(index, .fiveMinutes),
            open: 21_000.25, high: max(21_002.75, close), low: min(20_998, close), close: close, upVolume: upVolume,
            downVolume: 80, upTicks: 31, downTicks: 27, bidVolume: bidVolume, offerVolume: bidVolume.map { $0 + 1 },
            isFinal: final)
    }

    /// Bar `index` of ES 15-minute.
    static func es(_ index: Int, close: Double = 6_010.25, final: Bool = true) -> Candle {
        Candle(
            symbol: "ESZ5", instrument: .es, timeframe: .fifteenMinutes, start: start(index, .fifteenMinutes),
            open: 6_010, high: 6_012.5, low: 6_008.75, close: close, upVolume: 900, downVolume: 850, upTicks: 300,
            downTicks: 280, isFinal: final)
    }

    static func start(_ index: Int, _ timeframe: Timeframe) -> Date {
        base + Double(index * timeframe.seconds)
    }

    static let everything = Date.distantPast..<Date.distantFuture
}

/// A fresh temporary directory, removed by `cleanup`.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appending(
        path: "orca-\(label)-\(UUID().uuidString.prefix(8))", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A unique schema name for one PostgreSQL test, so tests can run in parallel on one server.
func uniqueSchema() -> String {
    "orca_t_" + UUID().uuidString.replacing("-", with: "").prefix(12).lowercased()
}

/// Drops a test schema.
func dropSchema(_ schema: String, url: String) throws {
    let db = try PostgresConnection(url: url)
    _ = try db.execute("DROP SCHEMA IF EXISTS \(PostgresSinkSchema.quote(schema)) CASCADE")
}

/// A way to open a sink on one test's storage, again and again (to check what survives a reopen).
struct SinkHarness: Sendable {
    let name: String
    /// Whether bars survive closing the sink and opening it again.
    let isPersistent: Bool
    let open: @Sendable () async throws -> any CandleSink
    let cleanup: @Sendable () async throws -> Void

    static func memory() -> SinkHarness {
        SinkHarness(name: "memory", isPersistent: false, open: { MemoryCandleSink() }, cleanup: {})
    }

    static func file(_ format: CandleFileFormat) throws -> SinkHarness {
        let directory = try makeTemporaryDirectory("sink-\(format.fileExtension)")
        return SinkHarness(
            name: "file \(format)", isPersistent: true,
            open: { try FileCandleSink(configuration: .init(directory: directory, format: format)) },
            cleanup: { try? FileManager.default.removeItem(at: directory) })
    }

    static func postgres(layout: PostgresCandleSink.Layout, copyThreshold: Int = 500) -> SinkHarness {
        let url = sinkTestDatabaseURL ?? ""
        let schema = uniqueSchema()
        return SinkHarness(
            name: "postgres \(layout) copyThreshold=\(copyThreshold)", isPersistent: true,
            open: {
                try PostgresCandleSink(
                    configuration: .init(url: url, schema: schema, layout: layout, copyThreshold: copyThreshold))
            },
            cleanup: { try dropSchema(schema, url: url) })
    }

    /// Opens a sink, runs `body`, closes the sink and cleans up, also when `body` throws.
    func run(_ body: (any CandleSink) async throws -> Void) async throws {
        var failure: (any Error)?
        do {
            let sink = try await open()
            do {
                try await body(sink)
            } catch {
                failure = error
            }
            try? await sink.close()
        } catch {
            failure = error
        }
        try? await cleanup()
        if let failure {
            throw failure
        }
    }
}

/// Whether `error` is a ``CandleSinkError`` with `code`.
func isSinkError(_ error: any Error, _ code: CandleSinkError.Code) -> Bool {
    (error as? CandleSinkError)?.code == code
}
