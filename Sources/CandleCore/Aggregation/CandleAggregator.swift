import Foundation

/// Builds longer bars from shorter ones (5 → 15, 30, 60 minutes), never across a session boundary.
///
/// Source bars are grouped by contract and by the target bar that contains their start. A target bar is
/// - **final** when every source bar the calendar expects inside it is present and final;
/// - **not final** (a partial group) otherwise — it still carries the OHLCV of what is there.
///
/// Open is the first source's open, close the last's close, high/low the extremes; volumes and tick counts add up;
/// bid/offer volume add up only when every source has them.
public struct CandleAggregator: Sendable {
    /// The calendar that says which source bars a target bar must contain and where sessions end.
    public let calendar: TradingCalendar

    /// Creates an aggregator over `calendar`.
    public init(calendar: TradingCalendar = .cmeEquityIndex) {
        self.calendar = calendar
    }

    /// Aggregates `candles` (all of one timeframe) into bars of `target`.
    ///
    /// - Returns: target bars sorted by symbol, then start.
    /// - Throws: ``AggregationError`` when the sources mix timeframes or instruments, the target is not a whole
    ///   multiple of the source timeframe, a source bar appears twice, or one target bar would join two sessions.
    public func aggregate(_ candles: [Candle], into target: Timeframe) throws(AggregationError) -> [Candle] {
        guard let first = candles.first else { return [] }
        let source = first.timeframe
        guard candles.allSatisfy({ $0.timeframe == source }) else {
            throw AggregationError(.mixedTimeframes, "source bars must all have one timeframe (found several)")
        }
        guard candles.allSatisfy({ $0.instrument == first.instrument }) else {
            throw AggregationError(.mixedInstruments, "source bars must all belong to one instrument")
        }
        guard target.minutes > source.minutes, source.divides(target) else {
            throw AggregationError(
                .incompatibleTimeframes,
                "\(target.label) bars cannot be built from \(source.label) bars: the target must be a larger whole multiple"
            )
        }

        struct GroupKey: Hashable {
            let symbol: String
            let start: Date
        }
        var groups: [GroupKey: [Candle]] = [:]
        for candle in candles {
            groups[GroupKey(symbol: candle.symbol, start: target.barStart(containing: candle.start)), default: []]
                .append(candle)
        }

        var result: [Candle] = []
        result.reserveCapacity(groups.count)
        for (key, var members) in groups {
            members.sort { $0.start < $1.start }
            for (a, b) in zip(members, members.dropFirst()) where a.start == b.start {
                throw AggregationError(.duplicateSource, "source bar \(a.key) appears twice")
            }
            let end = target.barEnd(startingAt: key.start)
            let sessions = calendar.sessions(from: key.start, to: end)
            if sessions.count > 1 {
                let used = Set(
                    members.compactMap { m in sessions.firstIndex { $0.interval.intersects(m.start, m.end) } })
                if used.count > 1 {
                    throw AggregationError(
                        .crossesSessionBoundary,
                        "\(key.symbol) \(target.label) bar at \(key.start.formatted(.iso8601)) would join two trading sessions"
                    )
                }
            }
            let expected = calendar.expectedBars(first.instrument, source, from: key.start, to: end)
            let complete = expected == members.map(\.start) && members.allSatisfy(\.isFinal)

            let bidAll = members.allSatisfy { $0.bidVolume != nil }
            let offerAll = members.allSatisfy { $0.offerVolume != nil }
            result.append(
                Candle(
                    symbol: key.symbol,
                    instrument: first.instrument,
                    timeframe: target,
                    start: key.start,
                    open: members[0].open,
                    high: members.map(\.high).max()!,
                    low: members.map(\.low).min()!,
                    close: members[members.count - 1].close,
                    upVolume: members.reduce(0) { $0 + $1.upVolume },
                    downVolume: members.reduce(0) { $0 + $1.downVolume },
                    upTicks: members.reduce(0) { $0 + $1.upTicks },
                    downTicks: members.reduce(0) { $0 + $1.downTicks },
                    bidVolume: bidAll ? members.reduce(0) { $0 + $1.bidVolume! } : nil,
                    offerVolume: offerAll ? members.reduce(0) { $0 + $1.offerVolume! } : nil,
                    isFinal: complete
                ))
        }
        result.sort { ($0.symbol, $0.start) < ($1.symbol, $1.start) }
        return result
    }
}

extension DateInterval {
    fileprivate func intersects(_ start: Date, _ end: Date) -> Bool { start < self.end && end > self.start }
}

/// Source bars that cannot be aggregated as asked.
public typealias AggregationError = DomainError<CandleAggregator>

extension AggregationError.Code {
    /// The sources have more than one timeframe.
    public static var mixedTimeframes: Self { Self("mixedTimeframes") }
    /// The sources belong to more than one instrument.
    public static var mixedInstruments: Self { Self("mixedInstruments") }
    /// The target is not a larger whole multiple of the source timeframe.
    public static var incompatibleTimeframes: Self { Self("incompatibleTimeframes") }
    /// The same source bar was given twice.
    public static var duplicateSource: Self { Self("duplicateSource") }
    /// One target bar would contain bars of two trading sessions.
    public static var crossesSessionBoundary: Self { Self("crossesSessionBoundary") }
}
