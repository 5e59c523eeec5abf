import CandleCore
import CandleTesting
import Foundation
import Testing
import TradovateSimulator

@testable import Collectors

/// Shared fixtures of the backfill tests: a simulated market as the history behind a scripted source.
enum BackfillFixture {
    /// The market as it stands on 2026-01-15 (every December 2025 bar is final).
    static let asOf = date("2026-01-15T12:00:00Z")
    static let market = SimulatedMarket(seed: 42)

    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    /// A scripted source whose history is `market` at `asOf`.
    static func source(asOf: Date = asOf) -> ScriptedCandleSource {
        ScriptedCandleSource { chart, range in
            try market.candles(
                symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                asOf: asOf)
        }
    }

    /// The bar starts the CME calendar expects for `series` in `range`.
    static func expected(_ series: Series, _ range: Range<Date>) -> [Date] {
        TradingCalendar.cmeEquityIndex.expectedBars(
            series.instrument, series.timeframe, from: range.lowerBound, to: range.upperBound)
    }

    static func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appending(
            path: "orca-backfill-\(UUID().uuidString.prefix(8))/\(name)")
    }

    /// Polls `condition` until it holds, for up to `seconds` (generous, for loaded CI machines).
    static func eventually(
        _ seconds: Double = 60, _ condition: @Sendable () async -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return await condition()
    }
}

/// A source that records how many requests are in flight at once: each request waits until `limit` requests are
/// waiting (or every expected request arrived); then the probe yields many times, so an engine that would send more
/// requests does so before any is released. The test proves both that the bound is reached and never exceeded.
actor BackfillConcurrencyProbe: CandleSource {
    let limit: Int
    let expectedRequests: Int
    private(set) var inFlight = 0
    private(set) var maxInFlight = 0
    private(set) var requests = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int, expectedRequests: Int) {
        self.limit = limit
        self.expectedRequests = expectedRequests
    }

    func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        requests += 1
        inFlight += 1
        maxInFlight = max(maxInFlight, inFlight)
        if inFlight >= limit || requests >= expectedRequests {
            // Give an engine that would exceed the bound every chance to send one more request before releasing.
            for _ in 0..<200 { await Task.yield() }
            let ready = waiters
            waiters = []
            ready.forEach { $0.resume() }
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        inFlight -= 1
        return try BackfillFixture.market.candles(
            symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
            asOf: BackfillFixture.asOf)
    }

    nonisolated func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        throw CandleSourceError(.notSupported, "history only")
    }
}

/// Counts requests and, from request number `blockAfter + 1` on, parks each request on a manual clock until the task
/// is cancelled.
actor BlockingSource: CandleSource {
    let blockAfter: Int
    private let parking = ManualWallClock(now: Date(timeIntervalSince1970: 0))
    private(set) var requests = 0
    private(set) var parked = 0

    init(blockAfter: Int) {
        self.blockAfter = blockAfter
    }

    func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        requests += 1
        if requests > blockAfter {
            parked += 1
            try await parking.sleep(until: .distantFuture)
        }
        return try BackfillFixture.market.candles(
            symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
            asOf: BackfillFixture.asOf)
    }

    nonisolated func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        throw CandleSourceError(.notSupported, "history only")
    }
}

/// Passes requests to a provider without ScriptedCandleSource's symbol filter (which would drop bars whose symbol is
/// not the chart's), and records the symbols requested.
actor ScriptedFilterFreeSource: CandleSource {
    private let provider: ScriptedCandleSource.HistoryProvider
    private(set) var requests: [String] = []

    init(_ provider: @escaping ScriptedCandleSource.HistoryProvider) {
        self.provider = provider
    }

    func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        requests.append(chart.symbol)
        return try await provider(chart, range)
    }

    nonisolated func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        throw CandleSourceError(.notSupported, "history only")
    }
}
