import CandleCore
import Foundation
import Logging

extension Collector {
    // MARK: - Every expected bar accounted for at its close

    /// Sets each series' first close check: the end of the bar containing `now`, plus the grace.
    func scheduleCloseChecks(after now: Date) {
        guard configuration.closeGrace > .zero else { return }
        let grace = configuration.closeGrace.timeInterval
        for series in configuration.series {
            let timeframe = series.timeframe
            let end = timeframe.barEnd(startingAt: timeframe.barStart(containing: now.addingTimeInterval(-grace)))
            nextCloseCheck[series] = end.addingTimeInterval(grace)
        }
    }

    /// For every series whose close check is due: when the calendar expected the bar that just ended and no newer
    /// live update closed it, hands it to the recovery worker. Then moves the check to the next bar's end.
    func checkCloses(at now: Date) {
        guard case .live = configuration.mode, configuration.closeGrace > .zero else { return }
        let grace = configuration.closeGrace.timeInterval
        for series in configuration.series {
            guard let check = nextCloseCheck[series], check <= now else { continue }
            let timeframe = series.timeframe
            let end = check.addingTimeInterval(-grace)
            let start = end.addingTimeInterval(-timeframe.duration)
            // The next check: the end of the bar after the one that contains now − grace (bars a stalled loop
            // skipped are the heal's).
            let next = timeframe.barEnd(startingAt: timeframe.barStart(containing: now.addingTimeInterval(-grace)))
            nextCloseCheck[series] = max(next, end.addingTimeInterval(timeframe.duration)).addingTimeInterval(grace)
            let closed = live[series]?.lastClosed.map { $0.start >= start } ?? false
            guard !closed, calendar.expectedBars(series.instrument, timeframe, from: start, to: end).contains(start)
            else { continue }
            recoveryRequests?.yield((series, start))
        }
    }

    /// The recovery worker: fetches each requested bar from history, one at a time, until cancelled.
    func workRecoveries(_ requests: AsyncStream<(Series, Date)>) async {
        for await (series, start) in requests {
            if Task.isCancelled { return }
            await recover(series, start: start)
        }
    }

    /// Fetches the bar of `series` at `start` from history (one attempt: the settle timeout and the heals are the
    /// fall-backs) and writes it unless a live update closed it meanwhile with the same values.
    private func recover(_ series: Series, start: Date) async {
        let timeframe = series.timeframe
        let end = timeframe.barEnd(startingAt: start)
        let contract = front(series.instrument, at: start)
        let chart = ChartKey(contract: contract, instrument: series.instrument, timeframe: timeframe)
        let deliveredLive = live[series]?.forming?.start == start
        let fetched: Candle?
        do {
            stats.historyRequests += 1
            fetched = try await source.history(of: chart, in: start..<end).first {
                $0.start == start && $0.timeframe == timeframe && $0.isFinal
            }
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "recovering \(chart) \(start.formatted(.iso8601)) at its close")
            return
        }
        guard var bar = fetched else { return }  // no trades yet in history: the settle timeout or a heal decides
        bar.symbol = contract.symbol
        bar.instrument = series.instrument
        if let last = live[series]?.lastClosed, last.start > start { return }  // a newer bar closed it meanwhile
        if let last = live[series]?.lastClosed, last.start == start, !differs(last, bar) { return }
        if live[series]?.forming?.start == start { live[series]?.forming = nil }
        live[series]?.lastClosed = bar
        var statistics = stats.series[series, default: SeriesStatistics()]
        statistics.barsRecovered += 1
        statistics.quietBars = deliveredLive ? 0 : statistics.quietBars + 1
        stats.series[series] = statistics
        do {
            let report = try await sink.write([bar])
            let acknowledged = clock.now()
            let delay = acknowledged.timeIntervalSince(end)
            if let since = subscribedAt[chart], end > since { latency.record(delay) }
            noteWritten([bar], report: report, at: acknowledged)
            emit(.barWritten(series: series, symbol: bar.symbol, start: start, isFinal: true, latency: delay))
            emit(.barRecovered(series: series, symbol: bar.symbol, start: start, latency: delay))
            logger.info(
                deliveredLive ? "bar completed from history at its close" : "bar recovered from history at its close",
                metadata: ["bar": "\(bar.key)", "latency": "\(delay)"])
            await checkDerived(after: [bar])
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "writing \(bar.key)")
        }
        // Subscribed again after N quiet bars, and again after each further N while it stays quiet.
        if !deliveredLive, statistics.quietBars % configuration.quietChartBars == 0 {
            resubscribe(chart, quietBars: statistics.quietBars)
        }
    }

    /// Ends `chart`'s subscription and opens a new one (its consumer task ends with the old signal).
    private func resubscribe(_ chart: ChartKey, quietBars: Int) {
        guard let stop = subscriptions[chart] else { return }
        stop.fire()
        subscriptions[chart] = nil
        subscribedAt[chart] = nil
        interrupted.remove(chart)
        stats.series[chart.series, default: SeriesStatistics()].resubscriptions += 1
        logger.warning(
            "chart subscription went quiet: subscribing again",
            metadata: ["chart": "\(chart)", "quiet_bars": "\(quietBars)"])
        emit(.resubscribed(series: chart.series, symbol: chart.symbol, quietBars: quietBars))
        reconcileSubscriptions(at: clock.now())
    }
}
