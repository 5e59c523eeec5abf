import CandleCore
import CandleTesting
import Foundation
import Testing
import TradovateSimulator

@testable import Collectors

@Suite("Backfill: chunks, completeness, concurrency, retries, failures", .timeLimit(.minutes(10)))
struct BackfillTests {
    static let december = BackfillFixture.date("2025-12-01T00:00:00Z")..<BackfillFixture.date("2026-01-01T00:00:00Z")
    static let nq5 = Series(.nq, .fiveMinutes)
    static let es5 = Series(.es, .fiveMinutes)

    @Test("chunks split at the roll instant and name the front-month contract")
    func chunksSplitAtRoll() {
        let chunks = Backfill.chunks(
            of: .init(series: Self.nq5, ranges: [Self.december]), chunkSize: .days(7))
        let roll = ContractCalendar.standard.rollInstant(
            of: Contract(root: "NQ", month: .december, year: 2025))
        #expect(roll == BackfillFixture.date("2025-12-10T23:00:00Z"))
        #expect(chunks.first?.range.lowerBound == Self.december.lowerBound)
        #expect(chunks.last?.range.upperBound == Self.december.upperBound)
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            #expect(previous.range.upperBound == next.range.lowerBound)
        }
        #expect(chunks.allSatisfy { $0.range.upperBound.timeIntervalSince($0.range.lowerBound) <= 7 * 86_400 })
        #expect(chunks.contains { $0.range.upperBound == roll && $0.chart.symbol == "NQZ5" })
        #expect(chunks.contains { $0.range.lowerBound == roll && $0.chart.symbol == "NQH6" })
        #expect(chunks.filter { $0.range.lowerBound < roll }.allSatisfy { $0.chart.symbol == "NQZ5" })
        #expect(chunks.filter { $0.range.lowerBound >= roll }.allSatisfy { $0.chart.symbol == "NQH6" })
        // Overlapping ranges merge; bar-count chunks span N bars of calendar time.
        let merged = Backfill.chunks(
            of: .init(
                series: Self.nq5,
                ranges: [
                    BackfillFixture.date("2025-12-01T00:00:00Z")..<BackfillFixture.date("2025-12-02T00:00:00Z"),
                    BackfillFixture.date("2025-12-01T12:00:00Z")..<BackfillFixture.date("2025-12-03T00:00:00Z"),
                ]), chunkSize: .bars(288))
        #expect(merged.count == 2)
        #expect(merged.allSatisfy { $0.range.upperBound.timeIntervalSince($0.range.lowerBound) == 86_400 })
    }

    @Test("a month of 5-minute bars for two instruments across a roll: stored equals expected, symbols front month")
    func completeness() async throws {
        let source = BackfillFixture.source()
        let sink = MemoryCandleSink()
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let backfill = Backfill(
            configuration: .init(
                series: [Self.nq5, Self.es5], from: Self.december.lowerBound, to: Self.december.upperBound,
                maxConcurrentRequests: 3),
            source: source, sink: sink, clock: clock)
        let summary = try await backfill.run()
        #expect(summary.isComplete)
        for series in [Self.nq5, Self.es5] {
            let expected = BackfillFixture.expected(series, Self.december)
            #expect(expected.count > 5_000)
            let stored = try await sink.candleStarts(of: series, in: Self.december, finalOnly: true)
            #expect(stored == expected, "\(series): \(stored.count) stored, \(expected.count) expected")
            let candles = try await sink.candles(of: series, in: Self.december)
            #expect(candles.count == expected.count, "one bar per start")
            for candle in candles {
                let front = ContractCalendar.standard.frontMonth(series.instrument, at: candle.start)
                #expect(candle.symbol == front.symbol)
                if candle.symbol != front.symbol { break }
            }
            #expect(Set(candles.map(\.symbol)).count == 2, "bars of both contracts around the roll")
            let row = try #require(summary.series.first { $0.series == series })
            #expect(row.written.inserted == expected.count)
            #expect(row.barsFetched == expected.count)
            #expect(row.failures.isEmpty)
            #expect(row.chunks == row.chunksFetched)
        }
        // A second run changes nothing (upsert): every bar unchanged.
        let again = try await Backfill(
            configuration: .init(series: [Self.nq5], from: Self.december.lowerBound, to: Self.december.upperBound),
            source: source, sink: sink, clock: clock
        ).run()
        #expect(again.written.inserted == 0 && again.written.updated == 0)
        #expect(again.written.unchanged == BackfillFixture.expected(Self.nq5, Self.december).count)
    }

    @Test("at most maxConcurrentRequests requests are in flight, and the bound is reached")
    func boundedConcurrency() async throws {
        let chunks =
            Backfill.chunks(of: .init(series: Self.nq5, ranges: [Self.december]), chunkSize: .days(2))
            + Backfill.chunks(of: .init(series: Self.es5, ranges: [Self.december]), chunkSize: .days(2))
        let probe = BackfillConcurrencyProbe(limit: 3, expectedRequests: chunks.count)
        let summary = try await Backfill(
            configuration: .init(
                series: [Self.nq5, Self.es5], from: Self.december.lowerBound, to: Self.december.upperBound,
                chunkSize: .days(2), maxConcurrentRequests: 3),
            source: probe, sink: MemoryCandleSink(), clock: ManualWallClock(now: BackfillFixture.asOf)
        ).run()
        #expect(summary.isComplete)
        #expect(await probe.requests == chunks.count)
        #expect(await probe.maxInFlight == 3)
    }

    @Test("transient failures are retried with exponential backoff on the injected clock")
    func transientRetried() async throws {
        let source = BackfillFixture.source()
        await source.failNextHistory(2, with: CandleSourceError(.timeout, "no answer"))
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let range = Self.december.lowerBound..<BackfillFixture.date("2025-12-05T00:00:00Z")
        let backfill = Backfill(
            configuration: .init(
                series: [Self.nq5], from: range.lowerBound, to: range.upperBound, maxConcurrentRequests: 1,
                retry: .init(initialDelay: .seconds(1), multiplier: 2)),
            source: source, sink: MemoryCandleSink(), clock: clock)
        let run = Task { try await backfill.run() }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == BackfillFixture.asOf.addingTimeInterval(1))
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == BackfillFixture.asOf.addingTimeInterval(1 + 2))
        #expect(await source.historyRequests.count == 2)
        clock.advanceToNextDeadline()
        let summary = try await run.value
        #expect(summary.isComplete)
        #expect(summary.series[0].retries == 2)
        #expect(summary.series[0].written.inserted == BackfillFixture.expected(Self.nq5, range).count)
        #expect(await source.historyRequests.count == 3)
    }

    @Test("a rate limit pauses every worker for the longer rate-limit delay before retrying")
    func rateLimitPauses() async throws {
        let source = BackfillFixture.source()
        await source.failNextHistory(1, with: CandleSourceError(.rateLimited, "429"))
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let range = Self.december.lowerBound..<BackfillFixture.date("2025-12-15T00:00:00Z")
        let backfill = Backfill(
            configuration: .init(
                series: [Self.nq5], from: range.lowerBound, to: range.upperBound, chunkSize: .days(2),
                maxConcurrentRequests: 2, retry: .init(initialDelay: .seconds(1), rateLimitDelay: .seconds(45))),
            source: source, sink: MemoryCandleSink(), clock: clock)
        let run = Task { try await backfill.run() }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == BackfillFixture.asOf.addingTimeInterval(45))
        // While paused, no worker sends another request: at most the one that was already in flight finishes.
        let pausedRequests = await source.historyRequests.count
        #expect(pausedRequests <= 2)
        try await Task.sleep(for: .milliseconds(50))
        #expect(await source.historyRequests.count == pausedRequests)
        clock.advance(by: 45)
        let summary = try await run.value
        #expect(summary.isComplete)
        #expect(summary.series[0].retries == 1)
    }

    @Test("a non-transient failure is reported in the summary and the other series complete")
    func nonTransientReported() async throws {
        let market = BackfillFixture.market
        let source = ScriptedCandleSource { chart, range in
            if chart.instrument == .es { throw CandleSourceError(.unknownSymbol, "UnknownSymbol", chart: chart) }
            return try market.candles(
                symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                asOf: BackfillFixture.asOf)
        }
        let range = Self.december.lowerBound..<BackfillFixture.date("2025-12-15T00:00:00Z")
        let summary = try await Backfill(
            configuration: .init(series: [Self.nq5, Self.es5], from: range.lowerBound, to: range.upperBound),
            source: source, sink: MemoryCandleSink(), clock: ManualWallClock(now: BackfillFixture.asOf)
        ).run()
        #expect(!summary.isComplete)
        let nq = try #require(summary.series.first { $0.series == Self.nq5 })
        let es = try #require(summary.series.first { $0.series == Self.es5 })
        #expect(nq.isComplete)
        #expect(nq.written.inserted == BackfillFixture.expected(Self.nq5, range).count)
        #expect(es.failures.count == es.chunks)
        #expect(es.failures.allSatisfy { $0.attempts == 1 }, "not retried")
        #expect(es.lastError?.contains("unknownSymbol") == true)
        let table = summary.table()
        #expect(table.contains("ES 5min"))
        #expect(table.contains("failed chunks (\(es.chunks)):"))
    }

    @Test("transient failures that never stop give up after maxAttempts and report the last error")
    func exhaustedRetries() async throws {
        let source = BackfillFixture.source()
        await source.failNextHistory(3, with: CandleSourceError(.unavailable, "connection refused"))
        let range = Self.december.lowerBound..<BackfillFixture.date("2025-12-03T00:00:00Z")
        let summary = try await Backfill(
            configuration: .init(
                series: [Self.nq5], from: range.lowerBound, to: range.upperBound,
                retry: Backfill.RetryPolicy(maxAttempts: 3, initialDelay: .zero, maxDelay: .zero)),
            source: source, sink: MemoryCandleSink(), clock: ManualWallClock(now: BackfillFixture.asOf)
        ).run()
        #expect(summary.failures.count == 1)
        #expect(summary.failures.first?.attempts == 3)
        #expect(summary.failures.first?.error.contains("connection refused") == true)
    }

    @Test("skipExisting fetches only chunks with missing bars; repair fetches explicit ranges")
    func skipExistingAndRepair() async throws {
        let sink = MemoryCandleSink()
        let clock = ManualWallClock(now: BackfillFixture.asOf)
        let range = Self.december.lowerBound..<BackfillFixture.date("2025-12-22T00:00:00Z")
        try await Backfill(
            configuration: .init(series: [Self.nq5], from: range.lowerBound, to: range.upperBound),
            source: BackfillFixture.source(), sink: sink, clock: clock
        ).run()
        // Punch a hole: rebuild the sink without one day of bars.
        let holeDay = BackfillFixture.date("2025-12-16T00:00:00Z")..<BackfillFixture.date("2025-12-17T00:00:00Z")
        let holed = MemoryCandleSink()
        let kept = try await sink.candles(of: Self.nq5).filter { !holeDay.contains($0.start) }
        _ = try await holed.write(kept)
        let source = BackfillFixture.source()
        let summary = try await Backfill(
            configuration: .init(
                series: [Self.nq5], from: range.lowerBound, to: range.upperBound, skipExisting: true),
            source: source, sink: holed, clock: clock
        ).run()
        #expect(await source.historyRequests.count == 1)
        #expect(await source.historyRequests.first?.range.contains(holeDay.lowerBound) == true)
        #expect(summary.series[0].chunksSkipped == summary.series[0].chunks - 1)
        #expect(
            try await holed.candleStarts(of: Self.nq5, in: range, finalOnly: true)
                == BackfillFixture.expected(
                    Self.nq5, range))
        // Repair: exactly the missing range.
        let repairedSink = MemoryCandleSink()
        _ = try await repairedSink.write(kept)
        let repairSource = BackfillFixture.source()
        let repair = try await Backfill(
            configuration: .repair(missing: [Self.nq5: [holeDay]]), source: repairSource, sink: repairedSink,
            clock: clock
        ).run()
        #expect(await repairSource.historyRequests.map(\.range) == [holeDay])
        #expect(repair.written.inserted == BackfillFixture.expected(Self.nq5, holeDay).count)
        #expect(
            try await repairedSink.candleStarts(of: Self.nq5, in: range, finalOnly: true).count
                == BackfillFixture.expected(Self.nq5, range).count)
    }

    @Test("continuousWhenExpired asks expired contracts' chunks for @ROOT and stores them under the front month")
    func continuousWhenExpired() async throws {
        // Like Tradovate: an expired contract returns nothing; `@NQ` returns the front month stamped "@NQ".
        let market = BackfillFixture.market
        let asOf = BackfillFixture.asOf
        let filter = ScriptedFilterFreeSource { chart, range in
            if chart.symbol.hasPrefix("@") {
                return try market.candles(
                    symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                    asOf: asOf
                ).map { candle in
                    var stamped = candle
                    stamped.symbol = chart.symbol
                    return stamped
                }
            }
            let contract = try Contract(parsing: chart.symbol, reference: asOf)
            if ContractCalendar.standard.lastTrade(of: contract) <= asOf { return [] }
            return try market.candles(
                symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                asOf: asOf)
        }
        let clock = ManualWallClock(now: asOf)
        let contractOnly = MemoryCandleSink()
        try await Backfill(
            configuration: .init(series: [Self.nq5], from: Self.december.lowerBound, to: Self.december.upperBound),
            source: filter, sink: contractOnly, clock: clock
        ).run()
        let roll = BackfillFixture.date("2025-12-10T23:00:00Z")
        #expect(try await contractOnly.candleStarts(of: Self.nq5, in: Self.december.lowerBound..<roll).isEmpty)

        let firstRequests = await filter.requests.count
        var configuration = Backfill.Configuration(
            series: [Self.nq5], from: Self.december.lowerBound, to: Self.december.upperBound)
        configuration.charts = .continuousWhenExpired
        let sink = MemoryCandleSink()
        let summary = try await Backfill(configuration: configuration, source: filter, sink: sink, clock: clock).run()
        #expect(summary.isComplete)
        let requested = await filter.requests.dropFirst(firstRequests)
        #expect(requested.contains("@NQ") && requested.contains("NQH6") && !requested.contains("NQZ5"))
        let candles = try await sink.candles(of: Self.nq5, in: Self.december)
        #expect(candles.map(\.start) == BackfillFixture.expected(Self.nq5, Self.december))
        #expect(candles.allSatisfy { $0.symbol == ContractCalendar.standard.frontMonth(.nq, at: $0.start).symbol })
    }

    @Test("an invalid configuration is refused with a clear error")
    func invalidConfiguration() async throws {
        let start = Self.december.lowerBound
        let cases: [Backfill.Configuration] = [
            .init(series: [], from: start, to: Self.december.upperBound),
            .init(series: [Self.nq5], from: start, to: start),
            .init(series: [Self.nq5], from: start, to: Self.december.upperBound, maxConcurrentRequests: 0),
            .init(series: [Self.nq5, Self.nq5], from: start, to: Self.december.upperBound),
        ]
        for configuration in cases {
            await #expect {
                try await Backfill(
                    configuration: configuration, source: BackfillFixture.source(), sink: MemoryCandleSink()
                )
                .run()
            } throws: { ($0 as? BackfillError)?.code == .invalidConfiguration }
        }
    }
}
