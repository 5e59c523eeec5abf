import CandleCore
import CandleTesting
import Foundation
import Testing
import TradovateSimulator

@testable import Collectors
@testable import PostgresSink

@Suite(
    "Backfill into PostgreSQL: exactly once after a cancelled run and a resume",
    .enabled(
        if: sinkTestDatabaseURL != nil, "set ORCA_TEST_DATABASE_URL (scripts/test.sh does) to run against PostgreSQL"),
    .timeLimit(.minutes(10)))
struct BackfillPostgresTests {
    static let range = BackfillFixture.date("2025-11-24T00:00:00Z")..<BackfillFixture.date("2025-12-22T00:00:00Z")

    @Test("four weeks of NQ and MES 5-minute bars across a roll: cancelled, resumed, every expected row exactly once")
    func exactlyOnce() async throws {
        let url = sinkTestDatabaseURL ?? ""
        let schema = uniqueSchema()
        defer { try? dropSchema(schema, url: url) }
        let directory = try makeTemporaryDirectory("backfill-pg")
        defer { try? FileManager.default.removeItem(at: directory) }
        let series = [Series(.nq, .fiveMinutes), Series(.mes, .fiveMinutes)]
        let configuration = Backfill.Configuration(
            series: series, from: Self.range.lowerBound, to: Self.range.upperBound, chunkSize: .days(2),
            maxConcurrentRequests: 3, checkpointFile: directory.appending(path: "checkpoint.json"))
        let clock = ManualWallClock(now: BackfillFixture.asOf)

        let sink = try PostgresCandleSink(configuration: .init(url: url, schema: schema))
        let blocking = BlockingSource(blockAfter: 9)
        let first = Backfill(configuration: configuration, source: blocking, sink: sink, clock: clock)
        let run = Task { try await first.run() }
        #expect(await BackfillFixture.eventually { await blocking.parked >= 1 })
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        let partial = await first.summary
        let done = partial.series.reduce(0) { $0 + $1.chunksFetched }
        #expect(done > 0)
        await sink.close()

        // A new process would open a new sink: do the same.
        let resumed = try PostgresCandleSink(configuration: .init(url: url, schema: schema))
        let source = BackfillFixture.source()
        let summary = try await Backfill(configuration: configuration, source: source, sink: resumed, clock: clock)
            .run()
        #expect(summary.isComplete)
        let total = summary.series.reduce(0) { $0 + $1.chunks }
        #expect(await source.historyRequests.count == total - done)
        await resumed.close()

        let db = try PostgresConnection(url: url)
        for item in series {
            let expected = BackfillFixture.expected(item, Self.range)
            let table = "\(schema).\(item.instrument.root.lowercased())_candles_5min"
            let row = try db.execute(
                "SELECT count(*), count(DISTINCT candle_time), count(*) FILTER (WHERE NOT is_final) FROM \(table)"
            ).rows.first
            #expect(row?[0] == "\(expected.count)", "\(item): rows")
            #expect(row?[1] == "\(expected.count)", "\(item): one row per bar start")
            #expect(row?[2] == "0", "\(item): only final bars")
            let wrongSymbols = try db.execute(
                "SELECT extract(epoch FROM candle_time)::bigint, symbol FROM \(table)"
            ).rows.filter { row in
                guard let seconds = row[0].flatMap({ TimeInterval($0) }), let symbol = row[1] else { return true }
                let start = Date(timeIntervalSince1970: seconds)
                return ContractCalendar.standard.frontMonth(item.instrument, at: start).symbol != symbol
            }
            #expect(wrongSymbols.isEmpty, "\(item): \(wrongSymbols.prefix(3)) not the front month")
        }
    }
}
