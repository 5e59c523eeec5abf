public import CandleCore
public import Foundation

/// A sink that keeps bars in memory, with exactly the semantics of the PostgreSQL and file sinks (the shared sink test
/// suite runs against all three). For tests, simulations and short-lived tools; nothing survives the process.
///
/// ```swift
/// let sink = MemoryCandleSink()
/// let report = try await sink.write(candles)   // 10 inserted, 0 updated, 0 unchanged
/// let stored = try await sink.candles(of: Series(.nq, .fiveMinutes))
/// ```
public actor MemoryCandleSink: CandleSink {
    private var bars: [SeriesID: BarIndex] = [:]
    private var isClosed = false

    /// Creates an empty sink.
    public init() {}

    /// The number of bars stored, over all series.
    public var count: Int { bars.values.reduce(0) { $0 + $1.count } }

    public func write(_ candles: [Candle]) throws -> CandleWriteReport {
        try checkOpen()
        let batch = try CandleBatch(validating: candles)
        var report = CandleWriteReport()
        for group in batch.groups {
            let id = SeriesID(group.series)
            var stored = bars[id] ?? BarIndex(barSeconds: group.series.timeframe.seconds)
            for candle in group.candles {
                let key = BarKey(candle)
                let incoming = BarValues(candle)
                let outcome = UpsertRule.outcome(stored: stored[key], incoming: incoming)
                if outcome != .unchanged {
                    stored[key] = incoming
                }
                UpsertRule.count(outcome, into: &report)
            }
            bars[id] = stored
        }
        return report
    }

    public func latestCandleStart(of series: Series) throws -> Date? {
        try checkOpen()
        return bars[SeriesID(series)]?.latestStart.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) throws -> [Date] {
        try checkOpen()
        guard let stored = bars[SeriesID(series)] else { return [] }
        return FileCandleSink.starts(stored, in: range, finalOnly: finalOnly)
    }

    public func candles(of series: Series, in range: Range<Date>) throws -> [Candle] {
        try checkOpen()
        guard let stored = bars[SeriesID(series)] else { return [] }
        let (from, to) = FileCandleSink.bounds(range)
        return stored.entries(from: from, to: to).map { $0.values.candle($0.key, in: series) }
    }

    /// Nothing to do: every write is complete when it returns.
    public func flush() throws {
        try checkOpen()
    }

    /// Marks the sink closed and drops its bars.
    public func close() {
        isClosed = true
        bars = [:]
    }

    private func checkOpen() throws(CandleSinkError) {
        if isClosed {
            throw CandleSinkError(.closed, "the memory sink is closed")
        }
    }
}
