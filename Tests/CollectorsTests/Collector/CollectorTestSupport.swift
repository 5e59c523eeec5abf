import CandleCore
import CandleTesting
import Collectors
import Foundation
import TradovateSimulator

/// Instants in New York time.
enum NewYork {
    static let zone = TimeZone(identifier: "America/New_York")!

    /// `2025-12-07 18:00` New York.
    static func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }
}

/// Polls `condition` until it holds or `timeout` seconds of real time pass (generous: CI is busy).
func collectorEventually(
    timeout: TimeInterval = 60, _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var spins = 0
    while Date() < deadline {
        if try await condition() { return true }
        spins += 1
        if spins < 50 {
            await Task.yield()
        } else {
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
    }
    return try await condition()
}

/// A history provider answering from `market` as it stands at `clock`'s time.
func marketHistory(_ market: SimulatedMarket, clock: ManualWallClock) -> ScriptedCandleSource.HistoryProvider {
    { chart, range in
        guard range.lowerBound < range.upperBound else { return [] }
        return try market.candles(
            symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
            asOf: clock.now())
    }
}

/// The market's final bar of `series` at `start` (front month by the standard contract calendar).
func finalBar(_ market: SimulatedMarket, _ series: Series, start: Date) -> Candle? {
    let contract = ContractCalendar.standard.frontMonth(series.instrument, at: start)
    return try? market.candle(
        symbol: contract.symbol, timeframe: series.timeframe, start: start,
        asOf: start.addingTimeInterval(30 * 86_400))
}

/// Runs a collector in a task and cancels it at the end of `body`.
func withRunningCollector<T: Sendable>(
    _ collector: Collector, _ body: () async throws -> T
) async throws -> T {
    let task = Task { try await collector.run() }
    do {
        let result = try await body()
        task.cancel()
        _ = await task.result
        return result
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
}

/// A small test configuration: a few series, short heal period unless given.
func testConfiguration(
    series: [Series], healInterval: Duration = .seconds(3600), settle: Duration = .milliseconds(1500),
    lookBack: Duration = .seconds(86_400), revisionWindow: Int = 3
) -> Collector.Configuration {
    Collector.Configuration(
        series: series, settleTimeout: settle, healLookBack: lookBack, healInterval: healInterval,
        revisionWindowBars: revisionWindow)
}

/// Moves `clock` forward in `step`-second steps until `condition` holds (at most `maxSteps` steps), giving the
/// collector's tasks real time to react between steps.
func advanceUntil(
    _ clock: ManualWallClock, step: TimeInterval, maxSteps: Int = 400, _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    for _ in 0..<maxSteps {
        if try await collectorEventually(timeout: 0.05, condition) { return true }
        clock.advance(by: step)
    }
    return try await collectorEventually(condition)
}

/// Emulates a broker's real-time chart stream from a `SimulatedMarket`: at each instant it pushes, for every series,
/// the state of the bar that contains `now − 1 s` and (when a new bar began) the first state of the new bar, then
/// waits until the collector handled every update.
struct BrokerDriver {
    let market: SimulatedMarket
    let source: ScriptedCandleSource
    let collector: Collector
    let clock: ManualWallClock
    let series: [Series]
    var delivered = 0

    init(
        market: SimulatedMarket, source: ScriptedCandleSource, collector: Collector, clock: ManualWallClock,
        series: [Series]
    ) async {
        self.market = market
        self.source = source
        self.collector = collector
        self.clock = clock
        self.series = series
        self.delivered = await collector.statistics.liveEvents
    }

    /// Sets the clock to `now` and pushes what a broker would send then. Returns `false` when a chart was not
    /// subscribed or the collector did not handle the updates in time.
    mutating func step(to now: Date, push: Bool = true) async throws -> Bool {
        clock.set(to: now)
        guard push else { return true }
        var ok = true
        for one in series {
            let timeframe = one.timeframe
            let previous = timeframe.barStart(containing: now.addingTimeInterval(-1))
            let current = timeframe.barStart(containing: now)
            var starts = [previous]
            if current != previous { starts.append(current) }
            for barStart in starts {
                let contract = ContractCalendar.standard.frontMonth(one.instrument, at: barStart)
                guard
                    let bar = try market.candle(
                        symbol: contract.symbol, timeframe: timeframe, start: barStart, asOf: now)
                else { continue }
                let chart = ChartKey(contract: contract, instrument: one.instrument, timeframe: timeframe)
                let source = self.source
                if !(await collectorEventually(timeout: 30) { await source.openSubscriptions(for: chart) > 0 }) {
                    ok = false
                }
                delivered += await source.push(bar)
            }
        }
        return await settle() && ok
    }

    /// Waits until the collector handled everything delivered so far (after a push, interrupt or resume).
    mutating func settle(extra: Int = 0) async -> Bool {
        delivered += extra
        let target = delivered
        let collector = self.collector
        return await collectorEventually { await collector.statistics.liveEvents >= target }
    }
}
