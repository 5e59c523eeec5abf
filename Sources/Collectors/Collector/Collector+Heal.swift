import CandleCore
import Foundation
import Logging

extension Collector {
    // MARK: - Heal

    /// Compares the sink with the calendar for `series`, fills missing closed bars from history, records confirmed-empty
    /// bars and fetches the last K closed bars again to catch revisions.
    func heal(_ series: Series) async {
        let now = clock.now()
        let timeframe = series.timeframe
        // Only bars whose end ≤ now − settle: a bar still forming (or just closed) is the live path's.
        let horizon = timeframe.barStart(containing: now.addingTimeInterval(-configuration.settleTimeout.timeInterval))
        let from = timeframe.barStart(containing: now.addingTimeInterval(-configuration.healLookBack.timeInterval))
        guard from < horizon else { return }
        stats.series[series, default: SeriesStatistics()].healsRun += 1
        let expected = calendar.expectedBars(series.instrument, timeframe, from: from, to: horizon)
        let missing: [Date]
        do {
            let stored = Set(try await sink.candleStarts(of: series, in: from..<horizon, finalOnly: true))
            let empty = Set(try await ledger.confirmedEmpty(of: series, in: from..<horizon))
            missing = expected.filter { !stored.contains($0) && !empty.contains($0) }
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "heal \(series): reading the sink and the ledger")
            return
        }
        emit(.healStarted(series: series, missing: missing.count))
        stats.series[series, default: SeriesStatistics()].missingFound += missing.count
        if !missing.isEmpty {
            logger.info("healing", metadata: ["series": "\(series)", "missing": "\(missing.count)"])
        }
        var filled = 0
        var confirmed = 0
        for range in Self.contiguousRanges(missing, within: expected, timeframe: timeframe) {
            if Task.isCancelled { return }
            let wanted = Set(missing.filter { range.contains($0) })
            guard let bars = await fetchClosed(series, in: range, notAfter: horizon) else { continue }
            let fills = bars.filter { wanted.contains($0.start) }
            if !fills.isEmpty {
                do {
                    let report = try await sink.write(fills)
                    filled += fills.count
                    noteWritten(fills, report: report, at: clock.now())
                    await checkDerived(after: fills)
                } catch is CancellationError {
                    return
                } catch {
                    recordError(series, error, context: "heal \(series): writing \(fills.count) bars")
                    continue
                }
            }
            // The range is complete (it ends before the horizon): a start history did not return has no trades.
            let returned = Set(bars.map(\.start))
            let cutoff = now.addingTimeInterval(-configuration.emptyConfirmationDelay.timeInterval)
            let empty = wanted.filter { !returned.contains($0) && timeframe.barEnd(startingAt: $0) <= cutoff }.sorted()
            if !empty.isEmpty {
                do {
                    try await ledger.record(empty, of: series)
                    confirmed += empty.count
                    logger.info(
                        "confirmed empty", metadata: ["series": "\(series)", "bars": "\(empty.count)"])
                } catch is CancellationError {
                    return
                } catch {
                    recordError(series, error, context: "heal \(series): recording confirmed-empty bars")
                }
            }
        }
        stats.series[series, default: SeriesStatistics()].missingFilled += filled
        stats.series[series, default: SeriesStatistics()].confirmedEmpty += confirmed
        let revisions = await refetchRecent(series, expected: expected, horizon: horizon)
        emit(.healFinished(series: series, filled: filled, confirmedEmpty: confirmed, revisions: revisions))
    }

    /// Groups `missing` starts (a subsequence of `expected`) into runs that are consecutive in `expected`, as half-open
    /// ranges from the first start to the last bar's end.
    static func contiguousRanges(_ missing: [Date], within expected: [Date], timeframe: Timeframe) -> [Range<Date>] {
        guard !missing.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: expected.enumerated().map { ($1, $0) })
        var ranges: [Range<Date>] = []
        var first = missing[0]
        var last = missing[0]
        for start in missing.dropFirst() {
            if let a = index[last], let b = index[start], b == a + 1 {
                last = start
            } else {
                ranges.append(first..<timeframe.barEnd(startingAt: last))
                first = start
                last = start
            }
        }
        ranges.append(first..<timeframe.barEnd(startingAt: last))
        return ranges
    }

    /// Fetches the final bars of `series` in `range` (split at roll instants, one request per contract) whose end is at
    /// or before `notAfter`. `nil` when a request failed for good (the failure is counted).
    func fetchClosed(_ series: Series, in range: Range<Date>, notAfter: Date) async -> [Candle]? {
        var result: [Candle] = []
        for (contract, interval) in contracts.frontMonths(
            series.instrument, from: range.lowerBound, to: range.upperBound)
        {
            let chart = ChartKey(contract: contract, instrument: series.instrument, timeframe: series.timeframe)
            do {
                let bars = try await history(of: chart, in: interval.start..<interval.end)
                for var bar in bars
                where bar.isFinal && interval.start <= bar.start && bar.start < interval.end
                    && bar.end <= notAfter && bar.timeframe == series.timeframe
                {
                    bar.symbol = contract.symbol
                    bar.instrument = series.instrument
                    result.append(bar)
                }
            } catch is CancellationError {
                return nil
            } catch {
                recordError(series, error, context: "history \(chart) \(Self.describe(interval.start..<interval.end))")
                return nil
            }
        }
        return result
    }

    /// One history request, retried with exponential backoff on the wall clock while the failure is transient.
    func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        var delay = configuration.retryInitialDelay.timeInterval
        var attempt = 1
        while true {
            stats.historyRequests += 1
            do {
                return try await source.history(of: chart, in: range)
            } catch let error as CandleSourceError where error.isTransient && attempt < configuration.retryAttempts {
                stats.historyRetries += 1
                logger.notice(
                    "history failed, retrying",
                    metadata: ["chart": "\(chart)", "error": "\(error)", "delay": "\(delay)"])
                try await clock.sleep(for: delay)
                delay = min(delay * 2, configuration.retryMaximumDelay.timeInterval)
                attempt += 1
            }
        }
    }

    /// Fetches the last ``Configuration/revisionWindowBars`` closed bars again and writes those that differ from the
    /// sink; returns how many stored final bars were revised.
    private func refetchRecent(_ series: Series, expected: [Date], horizon: Date) async -> Int {
        guard configuration.revisionWindowBars > 0, let first = expected.suffix(configuration.revisionWindowBars).first
        else { return 0 }
        let range = first..<horizon
        guard let fetched = await fetchClosed(series, in: range, notAfter: horizon), !fetched.isEmpty else { return 0 }
        do {
            let stored = try await sink.candles(of: series, in: range)
            let byKey = Dictionary(stored.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            var changed: [Candle] = []
            var revised: [Candle] = []
            for bar in fetched {
                guard let old = byKey[bar.key] else {
                    changed.append(bar)
                    continue
                }
                if !old.isFinal || differs(old, bar) { changed.append(bar) }
                if old.isFinal && differs(old, bar) { revised.append(bar) }
            }
            guard !changed.isEmpty else { return 0 }
            let report = try await sink.write(changed)
            noteWritten(changed, report: report, at: clock.now())
            stats.series[series, default: SeriesStatistics()].revisions += revised.count
            for bar in revised {
                logger.info("revision", metadata: ["bar": "\(bar.key)"])
                emit(.revision(series: series, symbol: bar.symbol, start: bar.start))
            }
            await checkDerived(after: changed)
            return revised.count
        } catch is CancellationError {
            return 0
        } catch {
            recordError(series, error, context: "heal \(series): re-fetching the last bars")
            return 0
        }
    }

    static func describe(_ range: Range<Date>) -> String {
        "\(range.lowerBound.formatted(.iso8601))..<\(range.upperBound.formatted(.iso8601))"
    }

    // MARK: - Cron

    /// One cron firing: fetches the recent window of every series and writes its closed bars.
    func cronFire(at firing: Date) async {
        defer { stats.cronFirings += 1 }
        let now = clock.now()
        for series in configuration.series {
            if Task.isCancelled { return }
            let timeframe = series.timeframe
            let from = timeframe.barStart(containing: now).addingTimeInterval(
                -Double(configuration.cronWindowBars) * timeframe.duration)
            guard let bars = await fetchClosed(series, in: from..<now, notAfter: now), !bars.isEmpty else { continue }
            do {
                let report = try await sink.write(bars)
                let acknowledged = clock.now()
                noteWritten(bars, report: report, at: acknowledged)
                for bar in bars where report.written + report.buffered > 0 {
                    let delay = acknowledged.timeIntervalSince(bar.end)
                    emit(
                        .barWritten(series: series, symbol: bar.symbol, start: bar.start, isFinal: true, latency: delay)
                    )
                }
                if let newest = bars.last { latency.record(acknowledged.timeIntervalSince(newest.end)) }
                await checkDerived(after: bars)
            } catch is CancellationError {
                return
            } catch {
                recordError(series, error, context: "cron \(series): writing \(bars.count) bars")
            }
        }
        logger.debug("cron firing done", metadata: ["firing": "\(firing.formatted(.iso8601))"])
    }

    // MARK: - Derived timeframes

    /// For bars just written, compares every broker bar of a derived timeframe with the bar built from the base
    /// timeframe's stored bars (when both are complete).
    func checkDerived(after bars: [Candle]) async {
        guard configuration.checkDerivedTimeframes else { return }
        let base = configuration.derivedBaseTimeframe
        var targets: [Candle.Key: Instrument] = [:]
        for bar in bars {
            if bar.timeframe == base {
                for series in configuration.series
                where series.instrument.root == bar.instrument.root && series.timeframe > base
                    && base.divides(series.timeframe)
                {
                    let start = series.timeframe.barStart(containing: bar.start)
                    targets[Candle.Key(symbol: bar.symbol, timeframe: series.timeframe, start: start)] =
                        series.instrument
                }
            } else if bar.timeframe > base, base.divides(bar.timeframe) {
                targets[bar.key] = bar.instrument
            }
        }
        for (key, instrument) in targets.sorted(by: { $0.key < $1.key }) {
            await compareDerived(key, instrument: instrument)
        }
    }

    private func compareDerived(_ key: Candle.Key, instrument: Instrument) async {
        let base = configuration.derivedBaseTimeframe
        let series = Series(instrument, key.timeframe)
        let end = key.timeframe.barEnd(startingAt: key.start)
        do {
            guard
                let broker = try await sink.candles(of: series, in: key.start..<key.start.addingTimeInterval(1))
                    .first(where: { $0.symbol == key.symbol && $0.isFinal })
            else { return }
            if let checked = derivedChecked[key], checked == broker { return }
            let sources = try await sink.candles(of: Series(instrument, base), in: key.start..<end)
                .filter { $0.symbol == key.symbol && $0.isFinal }
            guard !sources.isEmpty,
                let built = try aggregator.aggregate(sources, into: key.timeframe).first(where: { $0.key == key }),
                built.isFinal
            else { return }
            derivedChecked[key] = broker
            stats.derivedChecks += 1
            if derivedChecked.count > 50_000 {
                let cutoff = clock.now().addingTimeInterval(-configuration.healLookBack.timeInterval)
                derivedChecked = derivedChecked.filter { $0.key.start >= cutoff }
            }
            var a = broker
            var b = built
            a.bidVolume = nil
            a.offerVolume = nil
            b.bidVolume = nil
            b.offerVolume = nil
            guard a != b else { return }
            let detail =
                "broker O=\(broker.open) H=\(broker.high) L=\(broker.low) C=\(broker.close) V=\(broker.volume), "
                + "built from \(sources.count) \(base.label) bars O=\(built.open) H=\(built.high) L=\(built.low) "
                + "C=\(built.close) V=\(built.volume)"
            stats.derivedMismatches += 1
            stats.series[series, default: SeriesStatistics()].derivedMismatches += 1
            logger.warning("derived bar mismatch", metadata: ["bar": "\(key)", "detail": "\(detail)"])
            emit(.derivedMismatch(series: series, symbol: key.symbol, start: key.start, detail: detail))
        } catch is CancellationError {
            return
        } catch {
            recordError(series, error, context: "derived check \(key)")
        }
    }
}
