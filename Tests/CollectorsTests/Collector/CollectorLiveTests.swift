import CandleCore
import CandleTesting
import Collectors
import Foundation
import Synchronization
import Testing
import TradovateSimulator

/// Closing rules, provisional writes, derived-bar checks, cron mode and the ledger file.
@Suite("Collector live", .timeLimit(.minutes(10)))
struct CollectorLiveTests {
    let market = SimulatedMarket(seed: 11)

    /// The market's `series` bar at `start` as of `asOf` (front month).
    func bar(_ series: Series, _ start: Date, asOf: Date) throws -> Candle {
        let contract = ContractCalendar.standard.frontMonth(series.instrument, at: start)
        return try #require(
            try market.candle(symbol: contract.symbol, timeframe: series.timeframe, start: start, asOf: asOf))
    }

    /// A collector of `one` on a manual clock at `now`, over a scripted source answering from `market` and a memory
    /// sink; `configure` adjusts the test configuration (one-hour look-back).
    func liveCollector(
        _ one: Series, at now: Date, _ configure: (inout Collector.Configuration) -> Void = { _ in }
    ) throws -> (clock: ManualWallClock, source: ScriptedCandleSource, sink: MemoryCandleSink, collector: Collector) {
        let clock = ManualWallClock(now: now)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        var configuration = testConfiguration(series: [one], lookBack: .seconds(3600))
        configure(&configuration)
        let collector = try Collector(source: source, sink: sink, configuration: configuration, clock: clock)
        return (clock, source, sink, collector)
    }

    @Test("without the close check, the settle timeout closes a session's last bar with its last state")
    func settleClosesLastBar() async throws {
        let one = Series(.nq, .fiveMinutes)
        // Friday 2025-12-12: the week's last bar starts at 16:55 New York; no newer bar follows.
        let last = NewYork.at(2025, 12, 12, 16, 55)
        let clock = ManualWallClock(now: NewYork.at(2025, 12, 12, 16, 56))
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        var configuration = testConfiguration(series: [one], lookBack: .seconds(3600))
        configuration.closeGrace = .zero  // the fall-back alone (with it, history completes the bar: tested below)
        let collector = try Collector(source: source, sink: sink, configuration: configuration, clock: clock)
        // NQZ5 rolled to NQH6 on Wednesday evening.
        let chart = ChartKey(symbol: "NQH6", instrument: .nq, timeframe: .fiveMinutes)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            let late = last.addingTimeInterval(299)
            let lastState = try bar(one, last, asOf: late)
            #expect(lastState.isFinal == false)
            clock.set(to: late)
            #expect(await driver.settle(extra: await source.push(lastState)))
            // The heal due since the start runs now; let it finish before the bar ends, or (on a loaded machine) it
            // may read the bar's later state from history after the clock moved on.
            #expect(await collectorEventually { await collector.statistics.healPasses >= 2 })
            clock.set(to: last.addingTimeInterval(300))  // the bar's end: not closed yet
            try await Task.sleep(nanoseconds: 20_000_000)
            #expect(try await sink.candleStarts(of: one, in: last..<last.addingTimeInterval(1)).isEmpty)
            clock.set(to: last.addingTimeInterval(301.5))  // end + settle
            #expect(
                try await collectorEventually {
                    try await !sink.candleStarts(of: one, in: last..<last.addingTimeInterval(1), finalOnly: true)
                        .isEmpty
                })
        }
        let stored = try await sink.candles(of: one, in: last..<last.addingTimeInterval(1))
        var expected = try bar(one, last, asOf: last.addingTimeInterval(299))
        expected.isFinal = true
        #expect(stored == [expected])
        let stats = await collector.statistics
        #expect(stats.latencyP50 == 1.5)
        #expect(stats.series[one]?.lastBarStart == last)
        var seen: [CollectorEvent] = []
        for await event in collector.events { seen.append(event) }  // finished when run() returned
        #expect(seen.contains(.barWritten(series: one, symbol: "NQH6", start: last, isFinal: true, latency: 1.5)))
    }

    @Test("a chart that sends nothing: each bar is fetched from history 1 s after its close, then it is resubscribed")
    func quietChartRecoveredAtClose() async throws {
        let one = Series(.nq, .oneMinute)
        let start = NewYork.at(2025, 12, 9, 10, 0)
        let (clock, source, sink, collector) = try liveCollector(one, at: start.addingTimeInterval(30)) {
            $0.closeGrace = .seconds(1)
            $0.quietChartBars = 3
        }
        let chart = ChartKey(symbol: "NQZ5", instrument: .nq, timeframe: .oneMinute)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            for minute in 1...4 {
                let barStart = start.addingTimeInterval(Double(minute - 1) * 60)
                let end = barStart.addingTimeInterval(60)
                let range = barStart..<barStart.addingTimeInterval(1)
                clock.set(to: end.addingTimeInterval(0.5))  // inside the grace: not fetched yet
                try await Task.sleep(nanoseconds: 20_000_000)
                #expect(try await sink.candleStarts(of: one, in: range).isEmpty)
                clock.set(to: end.addingTimeInterval(1))
                #expect(try await collectorEventually { try await !sink.candles(of: one, in: range).isEmpty })
                let stored = try #require(try await sink.candles(of: one, in: range).first)
                let expected = try #require(finalBar(market, one, start: barStart))
                #expect(stored == expected, "bar \(minute) must be the broker's final bar")
                let statistics = await collector.statistics
                #expect(statistics.series[one]?.barsRecovered == minute)
                #expect(statistics.series[one]?.resubscriptions == (minute >= 3 ? 1 : 0))
                #expect(statistics.quietSeries == (minute >= 3 ? [one] : []))
            }
            // Three quiet bars: the chart was subscribed again (and the old subscription ended).
            #expect(await source.liveSubscriptions.count == 2)
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            // The chart speaks again: no longer quiet.
            let now = start.addingTimeInterval(4 * 60 + 10)
            clock.set(to: now)
            let forming = try bar(one, start.addingTimeInterval(4 * 60), asOf: now)
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            #expect(await driver.settle(extra: await source.push(forming)))
            #expect(await collector.statistics.quietSeries.isEmpty)
        }
        let statistics = await collector.statistics
        #expect(statistics.barsRecovered == 4)
        #expect(statistics.latencyP50 == 1.0)  // close → stored: the grace (a manual clock: history takes no time)
        var seen: [CollectorEvent] = []
        for await event in collector.events { seen.append(event) }
        #expect(seen.contains(.resubscribed(series: one, symbol: "NQZ5", quietBars: 3)))
        #expect(seen.filter { if case .barRecovered = $0 { true } else { false } }.count == 4)
    }

    @Test("a bar whose close the live feed missed is completed from history; without trades it waits for settle")
    func incompleteBarCompletedAtClose() async throws {
        let one = Series(.es, .fiveMinutes)
        let barStart = NewYork.at(2025, 12, 9, 10, 5)
        let (clock, source, sink, collector) = try liveCollector(one, at: barStart.addingTimeInterval(30)) {
            $0.settleTimeout = .seconds(5)
            $0.closeGrace = .seconds(1)
        }
        let chart = ChartKey(symbol: "ESZ5", instrument: .es, timeframe: .fiveMinutes)
        let range = barStart..<barStart.addingTimeInterval(1)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            // The last live update is 4 minutes in: the bar's last minute never comes live.
            let late = barStart.addingTimeInterval(240)
            clock.set(to: late)
            #expect(await driver.settle(extra: await source.push(try bar(one, barStart, asOf: late))))
            clock.set(to: barStart.addingTimeInterval(301))
            #expect(try await collectorEventually { try await !sink.candles(of: one, in: range).isEmpty })
            let stored = try #require(try await sink.candles(of: one, in: range).first)
            #expect(stored == (try #require(finalBar(market, one, start: barStart))))
            #expect(stored.volume > (try bar(one, barStart, asOf: late)).volume, "the last minute is in")
            let statistics = await collector.statistics
            #expect(statistics.series[one]?.barsRecovered == 1)
            #expect(statistics.series[one]?.quietBars == 0, "the chart did speak for this bar")
        }
    }

    @Test("a newer bar closes the previous one; writeProvisional writes isFinal=false (throttled), then the final")
    func provisionalThenFinal() async throws {
        let one = Series(.es, .fiveMinutes)
        let barStart = NewYork.at(2025, 12, 9, 10, 5)
        let (clock, source, sink, collector) = try liveCollector(one, at: barStart.addingTimeInterval(30)) {
            $0.writeProvisional = true
            $0.provisionalInterval = .seconds(60)
        }
        let chart = ChartKey(symbol: "ESZ5", instrument: .es, timeframe: .fiveMinutes)
        let range = barStart..<barStart.addingTimeInterval(1)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            // Forming updates at +60 s, +90 s (throttled: not written), +150 s.
            var written: [Candle] = []
            for offset in [60.0, 90, 150] {
                let now = barStart.addingTimeInterval(offset)
                clock.set(to: now)
                let state = try bar(one, barStart, asOf: now)
                #expect(await driver.settle(extra: await source.push(state)))
                written.append(try #require(try await sink.candles(of: one, in: range).first))
            }
            #expect(written.allSatisfy { !$0.isFinal })
            #expect(written[0].volume == (try bar(one, barStart, asOf: barStart.addingTimeInterval(60))).volume)
            #expect(written[1] == written[0])  // throttled
            #expect(written[2].volume > written[0].volume)
            #expect(await collector.statistics.series[one]?.provisionalWrites == 2)
            // The first update of the next bar closes this one, before its settle timeout.
            let next = barStart.addingTimeInterval(300)
            let nextNow = next.addingTimeInterval(0.25)
            clock.set(to: nextNow)
            let first = try bar(one, next, asOf: nextNow)
            var lastState = try bar(one, barStart, asOf: barStart.addingTimeInterval(299.9))
            clock.set(to: barStart.addingTimeInterval(299.9))
            #expect(await driver.settle(extra: await source.push(lastState)))
            clock.set(to: nextNow)
            #expect(await driver.settle(extra: await source.push(first)))
            let stored = try #require(try await sink.candles(of: one, in: range).first)
            lastState.isFinal = true
            #expect(stored == lastState)
            let nextStored = try await sink.candles(of: one, in: next..<next.addingTimeInterval(1))
            #expect(nextStored.allSatisfy { !$0.isFinal })
        }
        let stats = await collector.statistics
        #expect(stats.latencyP50 == 0.25)
    }

    @Test("an update received at or after the bar's end closes it at once")
    func updateAfterEndCloses() async throws {
        let one = Series(.mnq, .fifteenMinutes)
        let barStart = NewYork.at(2025, 12, 9, 10, 0)
        let clock = ManualWallClock(now: NewYork.at(2025, 12, 9, 10, 14))
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        let collector = try Collector(
            source: source, sink: sink, configuration: testConfiguration(series: [one], lookBack: .seconds(3600)),
            clock: clock)
        let chart = ChartKey(symbol: "MNQZ5", instrument: .mnq, timeframe: .fifteenMinutes)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await collectorEventually { await source.openSubscriptions(for: chart) == 1 })
            var driver = await BrokerDriver(
                market: market, source: source, collector: collector, clock: clock, series: [one])
            let end = barStart.addingTimeInterval(900)
            clock.set(to: end.addingTimeInterval(0.1))
            let final = try bar(one, barStart, asOf: end)
            #expect(await driver.settle(extra: await source.push(final)))
            let stored = try await sink.candles(of: one, in: barStart..<end)
            #expect(stored == [final])
        }
        #expect(await collector.statistics.series[one]?.barsWritten == 1 + 4)  // + 4 healed bars of the last hour
    }

    @Test("a broker 15-minute bar that differs from the aggregate of its 5-minute bars is counted, not overwritten")
    func derivedMismatch() async throws {
        let five = Series(.nq, .fiveMinutes)
        let fifteen = Series(.nq, .fifteenMinutes)
        let now = NewYork.at(2025, 12, 9, 12, 1)
        let odd = NewYork.at(2025, 12, 9, 11, 15)
        let clock = ManualWallClock(now: now)
        let base = marketHistory(market, clock: clock)
        let source = ScriptedCandleSource(provider: { chart, range in
            try await base(chart, range).map { bar in
                guard bar.timeframe == .fifteenMinutes, bar.start == odd else { return bar }
                var changed = bar
                changed.high += 2
                return changed
            }
        })
        let sink = MemoryCandleSink()
        var configuration = testConfiguration(series: [five, fifteen], lookBack: .seconds(6 * 3600))
        configuration.checkDerivedTimeframes = true
        let collector = try Collector(source: source, sink: sink, configuration: configuration, clock: clock)
        await collector.healNow()
        var stats = await collector.statistics
        #expect(stats.derivedMismatches == 1)
        #expect(stats.series[fifteen]?.derivedMismatches == 1)
        let stored = try await sink.candles(of: fifteen, in: odd..<odd.addingTimeInterval(1))
        #expect(stored.first?.high == (try bar(fifteen, odd, asOf: now)).high + 2)
        // Checking again does not count the same bar twice.
        clock.advance(by: 60)
        await collector.healNow()
        stats = await collector.statistics
        #expect(stats.derivedMismatches == 1)
    }

    @Test("cron mode fetches the recent window at each firing and writes the closed bars")
    func cronMode() async throws {
        let series = [Series(.nq, .fiveMinutes), Series(.es, .fifteenMinutes)]
        let start = NewYork.at(2025, 12, 9, 10, 2)
        let clock = ManualWallClock(now: start)
        let source = ScriptedCandleSource(provider: marketHistory(market, clock: clock))
        let sink = MemoryCandleSink()
        var configuration = testConfiguration(series: series, lookBack: .seconds(3600))
        configuration.mode = .cron(try CronSchedule("*/5 * * * *"), timeZone: .gmt)
        let collector = try Collector(source: source, sink: sink, configuration: configuration, clock: clock)
        try await withRunningCollector(collector) {
            #expect(await collectorEventually { await collector.statistics.healPasses >= 1 })
            #expect(await source.openSubscriptions() == 0)
            let ten = NewYork.at(2025, 12, 9, 10, 0)
            #expect(try await sink.candleStarts(of: series[0], in: ten..<ten.addingTimeInterval(1)).isEmpty)
            clock.set(to: NewYork.at(2025, 12, 9, 10, 5))
            #expect(await collectorEventually { await collector.statistics.cronFirings == 1 })
            #expect(
                try await sink.candleStarts(of: series[0], in: ten..<ten.addingTimeInterval(1), finalOnly: true) == [
                    ten
                ])
            clock.set(to: NewYork.at(2025, 12, 9, 10, 15))
            #expect(await collectorEventually { await collector.statistics.cronFirings == 2 })
            let all = try await sink.candles(of: series[0])
            #expect(all.allSatisfy { $0.isFinal })
            #expect(all.last?.start == NewYork.at(2025, 12, 9, 10, 10))
            let es = try await sink.candles(of: series[1])
            #expect(es.last?.start == ten)
            #expect(es.last == (try bar(series[1], ten, asOf: start.addingTimeInterval(3600))))
        }
        #expect(await source.liveSubscriptions.isEmpty)
    }

    @Test("the file ledger survives a reopen, cuts a torn last line and refuses a damaged one")
    func fileLedger() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "orca-ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = Series(.nq, .fiveMinutes)
        let other = Series(.es, .oneHour)
        let a = NewYork.at(2025, 12, 9, 3)
        let b = a.addingTimeInterval(300)
        let ledger = FileConfirmedEmptyLedger(directory: directory)
        try await ledger.record([a, b], of: one)
        try await ledger.record([a], of: other)
        try await ledger.record([a], of: one)  // again: no new line
        await ledger.close()
        let file = URL(filePath: ledger.path)
        var text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 3)

        // A torn last line (a crash during an append) is dropped.
        try (text + #"{"minutes":5,"ro"#).write(to: file, atomically: false, encoding: .utf8)
        let reopened = FileConfirmedEmptyLedger(directory: directory)
        #expect(try await reopened.count() == 3)
        #expect(try await reopened.isConfirmedEmpty(series: one, start: b))
        #expect(try await reopened.confirmedEmpty(of: other, in: a..<b) == [a])
        #expect(try await !reopened.isConfirmedEmpty(series: other, start: b))
        try await reopened.record([b], of: other)
        await reopened.close()
        text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 4)

        // A damaged complete line is an error, not a guess.
        try ("garbage\n" + text).write(to: file, atomically: false, encoding: .utf8)
        let damaged = FileConfirmedEmptyLedger(directory: directory)
        await #expect(throws: CollectorError.self) { try await damaged.open() }
        do {
            try await damaged.open()
        } catch {
            #expect(error.code == .corruptLedger)
            #expect(error.message.contains("line 1"))
        }
    }

    @Test("the ledger file removed with its directory while running is written again with every entry")
    func ledgerRemovedWhileRunning() async throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "orca-ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let state = root.appending(path: "state")
        let one = Series(.nq, .fiveMinutes)
        let other = Series(.es, .oneHour)
        let a = NewYork.at(2025, 12, 9, 3)
        let b = a.addingTimeInterval(300)
        let ledger = FileConfirmedEmptyLedger(directory: state)
        try await ledger.record([a, b], of: one)
        try await ledger.record([a], of: other)
        try FileManager.default.removeItem(at: state)

        try await ledger.record([b], of: other)  // finds its file gone: writes everything again, then the new line
        await ledger.close()
        let restarted = FileConfirmedEmptyLedger(directory: state)
        #expect(try await restarted.count() == 4)
        #expect(try await restarted.confirmedEmpty(of: one, in: a..<b.addingTimeInterval(1)) == [a, b])
        #expect(try await restarted.confirmedEmpty(of: other, in: a..<b.addingTimeInterval(1)) == [a, b])
        await restarted.close()
        let lines = try String(contentsOf: URL(filePath: ledger.path), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
    }

    @Test("an invalid configuration is refused with the field named")
    func invalidConfiguration() throws {
        var configuration = Collector.Configuration()
        configuration.settleTimeout = .zero
        #expect(throws: CollectorError.self) {
            _ = try Collector(source: ScriptedCandleSource(), sink: MemoryCandleSink(), configuration: configuration)
        }
        configuration = Collector.Configuration(rollDaysBeforeExpiry: 90)
        do {
            _ = try Collector(source: ScriptedCandleSource(), sink: MemoryCandleSink(), configuration: configuration)
            Issue.record("a 90-day roll offset was accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("rollDaysBeforeExpiry"))
        }
    }
}
