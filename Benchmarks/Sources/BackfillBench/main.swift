// BackfillBench: the backfill engine end to end (Docs/benchmarks.md, section "Backfill").
//
//   bash Benchmarks/scripts/backfill-bench.sh      # starts a throwaway PostgreSQL, then runs this
//   ORCA_BENCH_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db swift run -c release BackfillBench
//
// One year (2025) of 1-minute bars for NQ, MNQ, ES and MES (≈ 1.4M bars) from an in-process source — a
// ScriptedCandleSource over a SimulatedMarket (seed 42) — through `Backfill` (7-day chunks, 4 requests in flight):
//   1. into a MemoryCandleSink (engine + source cost, no database);
//   2. into PostgreSQL (PostgresCandleSink, default layout);
//   3. the resume case: into a fresh schema with a checkpoint file, cancelled at ~50 % of the chunks, then rerun with
//      the same checkpoint; every table is checked: rows = distinct bar starts = the calendar's expected bars, all
//      final, none outside the year (no holes, no duplicates);
//   4. through a real in-process SimulatorServer over the WebSocket (MarketDataClient + TradovateCandleSource) into
//      PostgreSQL, ORCA_BENCH_TRADOVATE_DAYS days (default 365), with `.continuousWhenExpired` (Tradovate serves
//      nothing for expired contracts, so their chunks ask for @ROOT). ORCA_BENCH_ONLY=tradovate runs only this part.
import CandleCore
import CandleTesting
import Collectors
import Foundation
import MarketData
import PostgresSink
import TokenStore
import TradovateSimulator

@main
struct BackfillBench {
    static let from = try! Date("2025-01-01T00:00:00Z", strategy: .iso8601)
    static let to = try! Date("2026-01-01T00:00:00Z", strategy: .iso8601)
    static let asOf = try! Date("2026-01-15T12:00:00Z", strategy: .iso8601)
    static let series = [Instrument.nq, .mnq, .es, .mes].map { Series($0, .oneMinute) }
    static let market = SimulatedMarket(seed: 42)

    static func main() async {
        do {
            let expected = series.reduce(0) { $0 + expectedBars($1, from..<to).count }
            print(
                "BackfillBench: \(series.map(\.description).joined(separator: ", ")), 2025, \(expected) bars expected")
            // ORCA_BENCH_ONLY=tradovate runs only part 4 (quick checks of the socket path).
            let only = ProcessInfo.processInfo.environment["ORCA_BENCH_ONLY"]
            if only == nil { try await memoryRun() }
            guard let url = ProcessInfo.processInfo.environment["ORCA_BENCH_DATABASE_URL"] else {
                print(
                    "\nPostgreSQL: skipped: set ORCA_BENCH_DATABASE_URL (or run Benchmarks/scripts/backfill-bench.sh)")
                return
            }
            if only == nil {
                try await postgresRun(url: url)
                try await resumeRun(url: url)
            }
            try await tradovateRun(url: url)
        } catch {
            print("BackfillBench failed: \(error)")
            exit(1)
        }
    }

    // MARK: Pieces

    static func expectedBars(_ series: Series, _ range: Range<Date>) -> [Date] {
        TradingCalendar.cmeEquityIndex.expectedBars(
            series.instrument, series.timeframe, from: range.lowerBound, to: range.upperBound)
    }

    static func simulatedSource() -> ScriptedCandleSource {
        ScriptedCandleSource { chart, range in
            try market.candles(
                symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                asOf: asOf)
        }
    }

    static func configuration(to end: Date = to, checkpoint: URL? = nil) -> Backfill.Configuration {
        Backfill.Configuration(
            series: series, from: from, to: end, chunkSize: .days(7), maxConcurrentRequests: 4,
            checkpointFile: checkpoint)
    }

    static func newSchema() -> String {
        "orca_bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func report(_ label: String, _ summary: BackfillSummary, _ duration: Duration) {
        let bars = summary.written.total
        let rate = Double(bars) / seconds(duration)
        print(
            String(
                format: "%@: %d bars stored (%@) in %.2f s = %.1fk bars/s, %d chunks fetched, %d skipped, %d failed",
                label, bars, summary.written.description, seconds(duration), rate / 1000,
                summary.series.reduce(0) { $0 + $1.chunksFetched }, summary.series.reduce(0) { $0 + $1.chunksSkipped },
                summary.failures.count))
        if !summary.failures.isEmpty { print(summary.table()) }
    }

    /// Counts rows per table and checks them against the calendar: (rows, distinct starts, expected, non-final,
    /// outside the range).
    static func verify(url: String, schema: String, range: Range<Date>) throws -> Bool {
        let db = try PostgresConnection(url: url)
        var good = true
        for item in series {
            let table = "\(schema).\(item.instrument.root.lowercased())_candles_1min"
            let row = try db.execute(
                """
                SELECT count(*), count(DISTINCT candle_time), count(*) FILTER (WHERE NOT is_final),
                       count(*) FILTER (WHERE candle_time < to_timestamp($1) OR candle_time >= to_timestamp($2))
                FROM \(table)
                """,
                parameters: ["\(range.lowerBound.timeIntervalSince1970)", "\(range.upperBound.timeIntervalSince1970)"]
            ).rows[0]
            let expected = expectedBars(item, range).count
            let ok =
                row[0] == "\(expected)" && row[1] == "\(expected)" && row[2] == "0" && row[3] == "0"
            good = good && ok
            print(
                "  \(item): rows \(row[0] ?? "?"), distinct starts \(row[1] ?? "?"), expected \(expected),"
                    + " forming \(row[2] ?? "?"), outside \(row[3] ?? "?") → \(ok ? "exactly once" : "MISMATCH")")
        }
        return good
    }

    // MARK: Runs

    static func memoryRun() async throws {
        let sink = MemoryCandleSink()
        var summary: BackfillSummary?
        let duration = try await ContinuousClock().measure {
            summary = try await Backfill(configuration: configuration(), source: simulatedSource(), sink: sink).run()
        }
        report("\nSimulated source → memory sink", summary!, duration)
    }

    static func postgresRun(url: String) async throws {
        let schema = newSchema()
        let db = try PostgresConnection(url: url)
        defer { _ = try? db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        let sink = try PostgresCandleSink(configuration: .init(url: url, schema: schema, series: series))
        try await sink.prepare()
        var summary: BackfillSummary?
        let duration = try await ContinuousClock().measure {
            summary = try await Backfill(configuration: configuration(), source: simulatedSource(), sink: sink).run()
        }
        report("\nSimulated source → PostgreSQL", summary!, duration)
        _ = try verify(url: url, schema: schema, range: from..<to)
        // Again: every bar already stored, the upsert reports them unchanged.
        let again = try await ContinuousClock().measure {
            summary = try await Backfill(configuration: configuration(), source: simulatedSource(), sink: sink).run()
        }
        report("Same backfill again (all unchanged)", summary!, again)
        await sink.close()
    }

    static func resumeRun(url: String) async throws {
        let schema = newSchema()
        let db = try PostgresConnection(url: url)
        defer { _ = try? db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        let directory = FileManager.default.temporaryDirectory.appending(path: schema)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appending(path: "checkpoint.json")

        let sink = try PostgresCandleSink(configuration: .init(url: url, schema: schema, series: series))
        try await sink.prepare()
        let (halfway, reached) = AsyncStream<Void>.makeStream()
        let first = Backfill(
            configuration: configuration(checkpoint: checkpoint), source: simulatedSource(), sink: sink)
        let start = ContinuousClock.now
        let run = Task {
            try await first.run { progress in
                if progress.fractionDone >= 0.5 {
                    reached.yield()
                    reached.finish()
                }
            }
        }
        for await _ in halfway { break }
        run.cancel()
        let cancelledAfter = ContinuousClock.now - start
        let outcome = await run.result
        let partial = await first.summary
        let done = partial.series.reduce(0) { $0 + $1.chunksFetched }
        let total = partial.series.reduce(0) { $0 + $1.chunks }
        print(
            String(
                format: "\nResume: cancelled after %.2f s (%@) with %d of %d chunks stored",
                seconds(cancelledAfter), (try? outcome.get()) == nil ? "CancellationError" : "finished first",
                done, total))
        await sink.close()

        let resumedSink = try PostgresCandleSink(configuration: .init(url: url, schema: schema))
        let source = simulatedSource()
        var summary: BackfillSummary?
        let duration = try await ContinuousClock().measure {
            summary = try await Backfill(
                configuration: configuration(checkpoint: checkpoint), source: source, sink: resumedSink
            ).run()
        }
        let requests = await source.historyRequests.count
        report("Rerun with the checkpoint", summary!, duration)
        print("  rerun requests: \(requests) (= \(total) planned − \(done) recorded: \(requests == total - done))")
        let exact = try verify(url: url, schema: schema, range: from..<to)
        print("  resume result: \(exact ? "no holes, no duplicates" : "MISMATCH")")
        await resumedSink.close()
    }

    static func tradovateRun(url: String) async throws {
        let days = Int(ProcessInfo.processInfo.environment["ORCA_BENCH_TRADOVATE_DAYS"] ?? "") ?? 365
        let end = min(to, from.addingTimeInterval(Double(days) * 86_400))
        let marketClock = ManualWallClock(now: asOf)
        var simulatorConfiguration = SimulatorConfiguration()
        simulatorConfiguration.clock = marketClock
        let simulator = try await SimulatorServer.start(simulatorConfiguration)
        let grant = try simulator.grantToken()
        let token = Token(
            accessToken: grant.accessToken, marketDataToken: grant.mdAccessToken, expirationTime: grant.expirationTime,
            userID: grant.userId, login: grant.name, issuedAt: marketClock.now())
        let client = try MarketDataClient(
            configuration: MarketDataClientConfiguration(url: simulator.webSocketURL), tokenProvider: { token },
            clock: ContinuousClock(), wallClock: marketClock)
        let source = TradovateCandleSource(client: client, wallClock: marketClock)
        let schema = newSchema()
        let db = try PostgresConnection(url: url)
        defer { _ = try? db.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        let sink = try PostgresCandleSink(configuration: .init(url: url, schema: schema, series: series))
        try await sink.prepare()
        var settings = configuration(to: end)
        settings.charts = .continuousWhenExpired  // expired contracts return nothing (protocol §5.8)
        let tradovateConfiguration = settings
        let (summary, duration) = try await client.withRunning { _ in
            let start = ContinuousClock.now
            // The simulator's market time, running at real speed (retry waits are real).
            let backfillClock = ScaledWallClock(start: asOf, anchor: Date(), speed: 1)
            let summary = try await Backfill(
                configuration: tradovateConfiguration, source: source, sink: sink, clock: backfillClock
            ).run()
            return (summary, ContinuousClock.now - start)
        }
        report(
            "\nSimulatorServer over the WebSocket (TradovateCandleSource) → PostgreSQL, \(days) days", summary,
            duration)
        _ = try verify(url: url, schema: schema, range: from..<end)
        await sink.close()
        await simulator.shutdown()
    }
}
