import CandleCore
import CandleTesting
import Collectors
import Foundation
import Synchronization
import Testing
import TradovateSimulator

/// Outages, retries, confirmed-empty bars, restarts and revisions.
@Suite("Collector heal", .timeLimit(.minutes(10)))
struct CollectorHealTests {
    let market = SimulatedMarket(seed: 7)

    @Test("a 3-hour source outage is healed after .resumed")
    func outageHealed() async throws {
        let series = [Series(.nq, .fiveMinutes), Series(.es, .fifteenMinutes)]
        let start = NewYork.at(2025, 12, 9, 9, 1)
        let clock = ManualWallClock(now: start)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: series), clock: clock)
        let outageStart = NewYork.at(2025, 12, 9, 10)
        let outageEnd = NewYork.at(2025, 12, 9, 13)
        let end = NewYork.at(2025, 12, 9, 13, 30)
        let stats = try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: series)
            var step = NewYork.at(2025, 12, 9, 9, 5)
            while step <= end {
                let now = step.addingTimeInterval(0.5)
                if step == outageStart {
                    _ = try await driver.step(to: now)
                    #expect(await driver.settle(extra: await source.interrupt(reason: "test outage")))
                } else if step > outageStart && step < outageEnd {
                    _ = try await driver.step(to: now, push: false)
                } else if step == outageEnd {
                    #expect(try await driver.step(to: now.addingTimeInterval(-0.25), push: false))
                    #expect(await driver.settle(extra: await source.resume()))
                    #expect(try await driver.step(to: now))
                } else {
                    #expect(try await driver.step(to: now))
                }
                step = step.addingTimeInterval(300)
            }
            // The heal after .resumed runs one settle time later.
            clock.advance(by: 2)
            #expect(
                try await collectorEventually {
                    let stored = try await sink.candleStarts(
                        of: series[0], in: outageStart..<outageEnd, finalOnly: true)
                    return stored.count == 36
                })
            return await collector.statistics
        }
        #expect(stats.sourceInterruptions == 1)
        #expect(stats.errors == 0)
        #expect((stats.series[series[0]]?.missingFilled ?? 0) >= 35)
        for one in series {
            let expected = TradingCalendar.cmeEquityIndex.expectedBars(
                one.instrument, one.timeframe,
                from: one.timeframe.barStart(containing: start.addingTimeInterval(-86_400)), to: end)
            let stored = try await sink.candles(of: one)
            #expect(stored.map(\.start) == expected, "\(one)")
            let wrong = stored.filter { $0 != finalBar(market, one, start: $0.start) }
            #expect(wrong.isEmpty, "\(one): \(wrong.count) bars differ from the market's final bars")
        }
    }

    @Test("transient history failures are retried with backoff on the clock")
    func transientRetried() async throws {
        let series = [Series(.mnq, .thirtyMinutes)]
        let now = NewYork.at(2025, 12, 9, 12, 7)
        let clock = ManualWallClock(now: now)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        await source.failNextHistory(2, with: CandleSourceError(.timeout, "scripted timeout"))
        let sink = MemoryCandleSink()
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: series), clock: clock)
        let stats = try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.historyRetries == 1 })
            #expect(await advanceUntil(clock, step: 0.5) { await collector.statistics.healPasses >= 1 })
            return await collector.statistics
        }
        #expect(stats.historyRetries == 2)
        #expect(stats.errors == 0)
        let expected = TradingCalendar.cmeEquityIndex.expectedBars(
            .mnq, .thirtyMinutes, from: NewYork.at(2025, 12, 8, 12), to: NewYork.at(2025, 12, 9, 12))
        let stored = try await sink.candleStarts(
            of: series[0], in: Date.distantPast..<Date.distantFuture, finalOnly: true)
        #expect(stored == expected)
        // The retries waited on the manual clock: 1 s, then 2 s.
        #expect(clock.now().timeIntervalSince(now) >= 3)
    }

    @Test("a non-transient history failure is counted and the series goes on")
    func permanentFailureCounted() async throws {
        let series = [Series(.nq, .oneHour), Series(.es, .oneHour)]
        let now = NewYork.at(2025, 12, 9, 12, 7)
        let clock = ManualWallClock(now: now)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        await source.failNextHistory(1, with: CandleSourceError(.notSupported, "no data plan"))
        let collector = try Collector(
            source: source, sink: MemoryCandleSink(), configuration: testConfiguration(series: series), clock: clock)
        await collector.healNow()
        let stats = await collector.statistics
        #expect(stats.series[series[0]]?.errors == 1)
        #expect(stats.series[series[0]]?.lastError?.contains("no data plan") == true)
        #expect(stats.series[series[1]]?.errors == 0)
        #expect((stats.series[series[1]]?.missingFilled ?? 0) > 0)
        #expect(stats.historyRetries == 0)
    }

    @Test("a range without trades is confirmed empty once and not fetched again")
    func confirmedEmpty() async throws {
        let one = Series(.nq, .fiveMinutes)
        let now = NewYork.at(2025, 12, 9, 12, 2)
        let quiet = NewYork.at(2025, 12, 9, 3)..<NewYork.at(2025, 12, 9, 3, 30)
        let clock = ManualWallClock(now: now)
        let base = marketHistory(market, clock: clock)
        let source = ScriptedCandleSource(provider: { chart, range in
            try await base(chart, range).filter { !quiet.contains($0.start) }
        })
        let sink = MemoryCandleSink()
        let ledger = InMemoryConfirmedEmptyLedger()
        let collector = try Collector(
            source: source, sink: sink, ledger: ledger, configuration: testConfiguration(series: [one]),
            clock: clock)
        await collector.healNow()
        var stats = await collector.statistics
        #expect(stats.series[one]?.confirmedEmpty == 6)
        #expect(await ledger.count == 6)
        #expect(await ledger.isConfirmedEmpty(series: one, start: quiet.lowerBound))
        #expect(await ledger.confirmedEmpty(of: one, in: quiet).count == 6)

        await source.clearHistoryRequests()
        clock.advance(by: 600)
        await collector.healNow()
        let requests = await source.historyRequests
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { !$0.range.overlaps(quiet) })
        stats = await collector.statistics
        #expect(stats.series[one]?.confirmedEmpty == 6)
        #expect(stats.errors == 0)
    }

    @Test("a restart with a filled sink fetches only the last K bars")
    func restartResumes() async throws {
        let series = [Series(.nq, .fiveMinutes), Series(.mes, .fifteenMinutes)]
        let now = NewYork.at(2025, 12, 9, 14, 3)
        let clock = ManualWallClock(now: now)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        let lookBack: TimeInterval = 86_400
        var horizons: [Series: Date] = [:]
        for one in series {
            let horizon = one.timeframe.barStart(containing: now.addingTimeInterval(-1.5))
            horizons[one] = horizon
            let contract = ContractCalendar.standard.frontMonth(one.instrument, at: now)
            let bars = try market.candles(
                symbol: contract.symbol, timeframe: one.timeframe, from: now.addingTimeInterval(-2 * lookBack),
                to: horizon, asOf: now)
            _ = try await sink.write(bars)
        }
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: series, lookBack: .seconds(lookBack)),
            clock: clock)
        let stats = try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            return await collector.statistics
        }
        let requests = await source.historyRequests
        for one in series {
            let expected = TradingCalendar.cmeEquityIndex.expectedBars(
                one.instrument, one.timeframe, from: now.addingTimeInterval(-lookBack), to: horizons[one]!)
            let lastK = expected.suffix(3).first!
            let mine = requests.filter { $0.chart.series == one }
            #expect(mine.count == 1, "\(one): \(mine.count) requests")
            #expect(mine.allSatisfy { $0.range.lowerBound >= lastK }, "\(one): refetched stored bars")
            #expect(stats.series[one]?.missingFound == 0)
            #expect(stats.series[one]?.revisions == 0)
        }
    }

    @Test("a final bar revised by the broker after writing is rewritten by the last-K refetch")
    func lateRevision() async throws {
        let one = Series(.es, .fiveMinutes)
        let now = NewYork.at(2025, 12, 9, 11, 1)
        let clock = ManualWallClock(now: now)
        let revisedStart = NewYork.at(2025, 12, 9, 10, 50)
        let revise = Mutex(false)
        let base = marketHistory(market, clock: clock)
        let source = ScriptedCandleSource(provider: { chart, range in
            try await base(chart, range).map { bar in
                guard bar.start == revisedStart, revise.withLock({ $0 }) else { return bar }
                var changed = bar
                changed.high += 1
                changed.upVolume += 7
                return changed
            }
        })
        let sink = MemoryCandleSink()
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: [one]), clock: clock)
        let events = Task { () -> [CollectorEvent] in
            var seen: [CollectorEvent] = []
            for await event in collector.events {
                seen.append(event)
                if case .revision = event { break }
            }
            return seen
        }
        await collector.healNow()
        let original = try await sink.candles(of: one, in: revisedStart..<revisedStart.addingTimeInterval(1))
        #expect(original.count == 1)
        #expect(original.first?.isFinal == true)
        #expect(await collector.statistics.series[one]?.revisions == 0)

        revise.withLock { $0 = true }
        clock.advance(by: 60)
        await collector.healNow()
        let stored = try await sink.candles(of: one, in: revisedStart..<revisedStart.addingTimeInterval(1))
        #expect(stored.count == 1)
        #expect(stored.first?.high == (original.first?.high ?? 0) + 1)
        #expect(stored.first?.upVolume == (original.first?.upVolume ?? 0) + 7)
        let revisions = await collector.statistics.series[one]?.revisions
        #expect(revisions == 1)
        if revisions != 1 { events.cancel() }
        let seen = await events.value
        #expect(seen.contains(.revision(series: one, symbol: "ESZ5", start: revisedStart)))
    }
}
