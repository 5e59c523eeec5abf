import CandleCore
import Foundation
import Logging

extension Collector {
    // MARK: - Subscriptions

    /// Starts the subscriptions that should be open at `now` and cancels the ones that should not.
    func reconcileSubscriptions(at now: Date) {
        var desired: Set<ChartKey> = []
        var roots: [String: Instrument] = [:]
        for series in configuration.series { roots[series.instrument.root] = series.instrument }
        subscriptionsValidUntil = roots.values.compactMap { nextSubscriptionChange(of: $0, after: now) }.min()
        for series in configuration.series {
            for contract in desiredContracts(of: series.instrument, at: now) {
                desired.insert(ChartKey(contract: contract, instrument: series.instrument, timeframe: series.timeframe))
            }
        }
        for (chart, stop) in subscriptions where !desired.contains(chart) {
            stop.fire()
            subscriptions[chart] = nil
            subscribedAt[chart] = nil
            interrupted.remove(chart)
            logger.info("unsubscribed", metadata: ["chart": "\(chart)"])
        }
        for chart in desired where subscriptions[chart] == nil {
            let stop = OneShotSignal()
            subscriptions[chart] = stop
            subscriptionRequests?.yield((chart, stop))
            logger.info("subscribing", metadata: ["chart": "\(chart)"])
        }
    }

    /// Reads one chart's live stream until cancelled, re-subscribing with backoff when it fails.
    func consume(_ chart: ChartKey) async {
        var delay = configuration.retryInitialDelay.timeInterval
        while !Task.isCancelled {
            do {
                let stream = try await source.live(chart)
                subscribedAt[chart] = clock.now()
                for try await event in stream {
                    await handle(event, chart: chart)
                    delay = configuration.retryInitialDelay.timeInterval
                }
                if Task.isCancelled { return }
                recordError(
                    chart.series, CandleSourceError(.unavailable, "live stream ended", chart: chart),
                    context: "live \(chart)")
            } catch is CancellationError {
                return
            } catch let error as CandleSourceError where !error.isTransient {
                recordError(chart.series, error, context: "live \(chart)")
                if error.code == .closed { return }
            } catch {
                if Task.isCancelled { return }
                recordError(chart.series, error, context: "live \(chart)")
            }
            // Bars of the lost time are healed once the subscription is back (one settle time after now).
            live[chart.series]?.forming = nil
            requestHeal(at: clock.now().addingTimeInterval(configuration.settleTimeout.timeInterval + delay))
            do {
                try await clock.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, configuration.retryMaximumDelay.timeInterval)
        }
    }

    /// Schedules a heal of every series at `instant`.
    func requestHeal(at instant: Date) {
        healDue.append(instant)
        poke(instant)
    }

    // MARK: - Live events

    /// Handles one event of `chart`'s stream.
    func handle(_ event: LiveChartEvent, chart: ChartKey) async {
        defer { stats.liveEvents += 1 }
        switch event {
        case .interrupted(let reason):
            if interrupted.isEmpty {
                stats.sourceInterruptions += 1
                logger.warning("source interrupted", metadata: ["reason": "\(reason)"])
                emit(.sourceInterrupted(reason: reason))
            }
            interrupted.insert(chart)
            // Updates are lost until `.resumed`: the forming bar's state may be stale; heal fetches it instead.
            if live[chart.series]?.forming?.symbol == chart.symbol { live[chart.series]?.forming = nil }
        case .resumed:
            let wasInterrupted = interrupted.remove(chart) != nil
            if wasInterrupted && interrupted.isEmpty {
                logger.info("source resumed")
                emit(.sourceResumed)
            }
            requestHeal(at: clock.now().addingTimeInterval(configuration.settleTimeout.timeInterval))
        case .bar(let update):
            await receive(update, chart: chart)
        }
    }

    /// Applies a bar update: closes what it closes, keeps the rest as the forming bar.
    private func receive(_ update: Candle, chart: ChartKey) async {
        let series = chart.series
        guard var state = live[series], update.timeframe == chart.timeframe,
            update.instrument.root == chart.instrument.root
        else { return }
        var candle = update
        candle.symbol = chart.symbol
        candle.instrument = series.instrument
        // Only the front-month contract at the bar's start belongs to the series.
        guard front(series.instrument, at: candle.start).symbol == chart.symbol else { return }
        if interrupted.contains(chart) { return }
        stats.series[series]?.quietBars = 0  // the chart speaks
        let now = clock.now()
        var toClose: [Candle] = []
        var revised: Candle?
        if let forming = state.forming, candle.start > forming.start {
            toClose.append(forming)
            state.forming = nil
        } else if let forming = state.forming, candle.start < forming.start {
            if let last = state.lastClosed, last.start == candle.start, now >= candle.end, differs(last, candle) {
                revised = candle
            }
            live[series] = state
            if let revised { await writeRevision(revised, series: series) }
            return
        }
        if state.forming == nil, let last = state.lastClosed, candle.start <= last.start {
            // An update for a bar already closed: only a changed final state (at/after its end) is a revision.
            if last.start == candle.start, now >= candle.end, differs(last, candle) { revised = candle }
            live[series] = state
            if let revised { await writeRevision(revised, series: series) }
            return
        }
        var provisional: Candle?
        if now >= candle.end {
            toClose.append(candle)
            state.forming = nil
        } else {
            state.forming = candle
            if configuration.writeProvisional,
                state.lastProvisional.map({
                    now.timeIntervalSince($0) >= configuration.provisionalInterval.timeInterval
                }) ?? true
            {
                state.lastProvisional = now
                var forming = candle
                forming.isFinal = false
                provisional = forming
            }
        }
        if let closed = toClose.last { state.lastClosed = closed }
        live[series] = state
        if let forming = state.forming {
            poke(forming.end.addingTimeInterval(configuration.settleTimeout.timeInterval))
        }
        for bar in toClose { await close(bar, series: series) }
        if let provisional { await writeProvisional(provisional, series: series) }
    }

    /// Whether two states of one bar differ in any stored value.
    func differs(_ a: Candle, _ b: Candle) -> Bool {
        var x = a
        var y = b
        x.isFinal = true
        y.isFinal = true
        return x != y
    }

    // MARK: - Writes

    /// Writes `bar` as final and records the latency from its end to the acknowledgement.
    func close(_ bar: Candle, series: Series) async {
        var final = bar
        final.isFinal = true
        if live[series]?.lastClosed.map({ $0.start < final.start }) ?? true { live[series]?.lastClosed = final }
        do {
            let report = try await sink.write([final])
            let acknowledged = clock.now()
            let delay = acknowledged.timeIntervalSince(final.end)
            let chart = ChartKey(symbol: final.symbol, instrument: series.instrument, timeframe: series.timeframe)
            // A bar that ended before its subscription began is a replay of the past, not a measure of latency.
            if let since = subscribedAt[chart], final.end > since { latency.record(delay) }
            noteWritten([final], report: report, at: acknowledged)
            emit(.barWritten(series: series, symbol: final.symbol, start: final.start, isFinal: true, latency: delay))
            await checkDerived(after: [final])
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "writing \(final.key)")
        }
    }

    private func writeRevision(_ bar: Candle, series: Series) async {
        var final = bar
        final.isFinal = true
        live[series]?.lastClosed = final
        do {
            let report = try await sink.write([final])
            stats.series[series, default: SeriesStatistics()].revisions += 1
            noteWritten([final], report: report, at: clock.now())
            emit(.revision(series: series, symbol: final.symbol, start: final.start))
            await checkDerived(after: [final])
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "writing revision \(final.key)")
        }
    }

    private func writeProvisional(_ bar: Candle, series: Series) async {
        do {
            _ = try await sink.write([bar])
            stats.series[series, default: SeriesStatistics()].provisionalWrites += 1
            stats.series[series, default: SeriesStatistics()].lastWriteTime = clock.now()
            emit(.barWritten(series: series, symbol: bar.symbol, start: bar.start, isFinal: false, latency: nil))
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "writing forming \(bar.key)")
        }
    }

    /// Counts final bars the sink acknowledged.
    func noteWritten(_ bars: [Candle], report: CandleWriteReport, at instant: Date) {
        guard let first = bars.first else { return }
        let series = first.series
        var entry = stats.series[series, default: SeriesStatistics()]
        entry.barsWritten += report.inserted + report.updated + report.buffered
        entry.lastWriteTime = instant
        if let latest = bars.map(\.start).max(), entry.lastBarStart.map({ $0 < latest }) ?? true {
            entry.lastBarStart = latest
        }
        stats.series[series] = entry
    }
}
