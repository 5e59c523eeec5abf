import CandleCore
import CandleTesting
import Collectors
import Foundation
import Synchronization
import Testing
import TradovateSimulator

/// One simulated trading week with a contract roll, all 16 default series, live bars from a broker-like driver.
@Suite("Collector week", .timeLimit(.minutes(10)))
struct CollectorWeekTests {
    @Test("a week with the December roll: every expected bar once, final values, no gap at the roll")
    func week() async throws {
        let market = SimulatedMarket(seed: 42)
        // Sunday 2025-12-07 18:00 New York opens the week; NQZ5 rolls to NQH6 on Wednesday 2025-12-10 at 18:00.
        let open = NewYork.at(2025, 12, 7, 18)
        let close = NewYork.at(2025, 12, 12, 17)
        let roll = ContractCalendar.standard.rollInstant(of: Contract(root: "NQ", month: .december, year: 2025))
        #expect(roll == NewYork.at(2025, 12, 10, 18))
        let start = open.addingTimeInterval(-3600)
        let clock = ManualWallClock(now: start)
        // Heal never asks for a bar that is still forming: every range ends by now − settle.
        let formingRequests = Mutex(0)
        let base = marketHistory(market, clock: clock)
        let source = ScriptedCandleSource(provider: { chart, range in
            if range.upperBound > clock.now().addingTimeInterval(-1.5) { formingRequests.withLock { $0 += 1 } }
            return try await base(chart, range)
        })
        let sink = MemoryCandleSink()
        var configuration = Collector.Configuration(healInterval: .seconds(3600))
        configuration.checkDerivedTimeframes = true
        let collector = try Collector(source: source, sink: sink, configuration: configuration, clock: clock)
        let series = Series.seedDefaults
        let lookBackStart = start.addingTimeInterval(-configuration.healLookBack.timeInterval)

        let result: (missingAfterStart: Int, missingAtEnd: Int, stats: Collector.Statistics) =
            try await withRunningCollector(collector) {
                #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
                // The catch-up heal one settle time after start.
                clock.advance(by: 2)
                #expect(await collectorEventually { await collector.statistics.healPasses >= 2 })
                let missingAfterStart = await collector.statistics.series.values.reduce(0) { $0 + $1.missingFound }

                var driver = await BrokerDriver(
                    market: market, source: source, collector: collector, clock: clock, series: series)
                var step = open
                while step <= close {
                    // A broker sends the final state of the bar that just ended slightly after its end, and the
                    // first state of the new bar.
                    let handled = try await driver.step(to: step.addingTimeInterval(0.5))
                    #expect(handled, "updates of \(step) not subscribed or not handled")
                    if !handled { break }
                    step = step.addingTimeInterval(300)
                }
                // Let the last settle timers and heal pass run.
                clock.set(to: close.addingTimeInterval(10))
                #expect(
                    try await collectorEventually {
                        let written = try await sink.candleStarts(
                            of: Series(.nq, .oneHour), in: close.addingTimeInterval(-3600)..<close, finalOnly: true)
                        return written.count == 1
                    })
                let stats = await collector.statistics
                let missingAtEnd = stats.series.values.reduce(0) { $0 + $1.missingFound }
                return (missingAfterStart, missingAtEnd, stats)
            }

        // Live collection left no hole for a heal to find.
        #expect(result.missingAfterStart > 0)
        #expect(result.missingAtEnd == result.missingAfterStart)
        #expect(result.stats.errors == 0)
        #expect(result.stats.derivedMismatches == 0)
        #expect(result.stats.derivedChecks > 1000)
        #expect(formingRequests.withLock { $0 } == 0)
        #expect(result.stats.confirmedEmpty == 0)
        #expect(result.stats.latencySamples > 0)
        #expect((result.stats.latencyP99 ?? 99) <= configuration.settleTimeout.timeInterval)
        #expect(result.stats.latencyP50 == 0.5)

        for one in series {
            let expected = TradingCalendar.cmeEquityIndex.expectedBars(
                one.instrument, one.timeframe, from: lookBackStart, to: close)
            let stored = try await sink.candles(of: one)
            let starts = stored.map(\.start)
            #expect(Set(starts).count == starts.count, "\(one): duplicate bars")
            let allFinal = stored.allSatisfy { $0.isFinal }
            #expect(allFinal, "\(one): a forming bar was stored")
            #expect(starts == expected, "\(one): \(starts.count) stored, \(expected.count) expected")
            var wrong = 0
            for candle in stored {
                let front = ContractCalendar.standard.frontMonth(one.instrument, at: candle.start)
                if candle.symbol != front.symbol || candle != finalBar(market, one, start: candle.start) {
                    wrong += 1
                }
            }
            #expect(wrong == 0, "\(one): \(wrong) bars differ from the market's final bars")
            // The roll: the last bar before it is the old contract, the first after it the new one.
            let before = stored.last { $0.start < roll }
            let after = stored.first { $0.start >= roll }
            #expect(before?.symbol.hasSuffix("Z5") == true)
            #expect(after?.symbol.hasSuffix("H6") == true)
            #expect(after?.start == roll)
        }
    }
}
