import CandleCore
import CandleTesting
import Collectors
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TradovateSimulator

/// Subscriptions around a contract roll.
@Suite("Collector roll", .timeLimit(.minutes(10)))
struct CollectorRollTests {
    @Test("the next contract is subscribed before the roll, the old one dropped after it; only the front month counts")
    func rollSubscriptions() async throws {
        let market = SimulatedMarket(seed: 3)
        let one = Series(.nq, .fiveMinutes)
        let roll = NewYork.at(2025, 12, 10, 18)
        let clock = ManualWallClock(now: roll.addingTimeInterval(-90))
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: [one], lookBack: .seconds(3600)),
            clock: clock)
        let old = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .fiveMinutes)
        let new = ChartKey(symbol: "NQH6", instrument: .nq, timeframe: .fiveMinutes)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await source.openSubscriptions(for: old) == 1 })
            #expect(await source.openSubscriptions(for: new) == 0)
            // 60 s before the roll (the default lead time) the next contract is subscribed too.
            clock.set(to: roll.addingTimeInterval(-60))
            #expect(await collectorEventually { await source.openSubscriptions(for: new) == 1 })
            #expect(await source.openSubscriptions(for: old) == 1)

            // After the roll, bars of the old contract do not belong to the series; the new contract's do.
            let now = roll.addingTimeInterval(30)
            clock.set(to: now)
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            let stale = try #require(try market.candle(symbol: "NQZ5", timeframe: .fiveMinutes, start: roll, asOf: now))
            let front = try #require(
                try market.candle(symbol: "NQH6", timeframe: .fiveMinutes, start: roll, asOf: now))
            #expect(await driver.settle(extra: await source.push(stale)))
            #expect(await driver.settle(extra: await source.push(front)))
            clock.set(to: roll.addingTimeInterval(300.5))
            let closed = try #require(
                try market.candle(
                    symbol: "NQH6", timeframe: .fiveMinutes, start: roll, asOf: roll.addingTimeInterval(300)))
            #expect(await driver.settle(extra: await source.push(closed)))
            // 60 s after the roll the old contract was dropped.
            #expect(await collectorEventually { await source.openSubscriptions(for: old) == 0 })
            #expect(await collector.subscribedCharts == [new])
        }
        let stored = try await sink.candles(of: one, in: roll..<roll.addingTimeInterval(1))
        #expect(stored.map(\.symbol) == ["NQH6"])
        #expect(stored.first?.isFinal == true)
        #expect(
            stored.first?.close
                == (try market.candle(
                    symbol: "NQH6", timeframe: .fiveMinutes, start: roll, asOf: roll.addingTimeInterval(3600)))?.close)
    }
}

/// The collector as a ServiceLifecycle service, and its event stream.
@Suite("Collector service", .timeLimit(.minutes(10)))
struct CollectorServiceTests {
    @Test("graceful shutdown of a ServiceGroup ends run(), the subscriptions and the event stream")
    func gracefulShutdown() async throws {
        let market = SimulatedMarket(seed: 5)
        let one = Series(.es, .oneHour)
        let clock = ManualWallClock(now: NewYork.at(2025, 12, 9, 11, 30))
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let collector = try Collector(
            source: source, sink: MemoryCandleSink(), configuration: testConfiguration(series: [one]), clock: clock)
        let group = ServiceGroup(services: [collector], logger: Logger(label: "collector-test"))
        let running = Task { try await group.run() }
        #expect(await collectorEventually { await source.openSubscriptions() == 1 })
        #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(await collectorEventually { await source.openSubscriptions() == 0 })
        var seen: [CollectorEvent] = []
        for await event in collector.events { seen.append(event) }  // finishes: run() returned
        #expect(seen.contains(.healStarted(series: one, missing: 23)))
        #expect(seen.contains { if case .healFinished(one, 23, 0, 0) = $0 { true } else { false } })
        await #expect(throws: CollectorError.self) { try await collector.run() }
    }
}
