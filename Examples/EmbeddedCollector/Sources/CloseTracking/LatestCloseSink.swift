import CandleCore
import Collectors
import Foundation

/// A custom `CandleSink`: it keeps every bar in memory, remembers the latest closed bar of each series, and reports
/// one line per closed bar it stores (through `output`, `print` by default).
///
/// It follows the `CandleSink` contract so the collector's heals work with it:
/// - **upsert** on `Candle.key` (contract symbol, timeframe, start): new keys are inserted, changed bars updated,
///   identical bars left unchanged, and a final bar is never overwritten by a forming one;
/// - a batch is validated as a whole first (`validate(_:)`): one bad candle rejects it and nothing is stored;
/// - duplicates inside a batch collapse to one bar per key, and the report counts distinct keys;
/// - queries answer per `Series` (instrument × timeframe, across contracts).
public actor LatestCloseSink: CandleSink {
    private var bars: [Series: [Candle.Key: Candle]] = [:]
    private var latest: [Series: Candle] = [:]
    private var isClosed = false
    private let output: @Sendable (String) -> Void

    /// Creates an empty sink that reports each closed bar stored as one line to `output`.
    public init(output: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.output = output
    }

    /// The close of the latest final bar stored for `series`, or `nil` before the first one.
    public func latestClose(of series: Series) -> Double? { latest[series]?.close }

    /// The latest final bar stored for `series`, or `nil` before the first one.
    public func latestBar(of series: Series) -> Candle? { latest[series] }

    /// The number of bars stored, over all series (forming and final).
    public var count: Int { bars.values.reduce(0) { $0 + $1.count } }

    public func write(_ candles: [Candle]) throws -> CandleWriteReport {
        try checkOpen()
        try validate(candles)  // the default: Candle.validate() on every candle, before anything is stored
        var before: [Candle.Key: (series: Series, stored: Candle?)] = [:]
        for candle in candles {
            let stored = bars[candle.series]?[candle.key]
            if before[candle.key] == nil { before[candle.key] = (candle.series, stored) }
            // A final bar is never replaced by a forming one; anything else replaces what is stored.
            if stored?.isFinal == true, !candle.isFinal { continue }
            bars[candle.series, default: [:]][candle.key] = candle
        }
        // Report each distinct key once, comparing what is stored now with what was stored before the batch.
        var report = CandleWriteReport()
        for (key, entry) in before.sorted(by: { $0.key < $1.key }) {
            guard let now = bars[entry.series]?[key] else { continue }
            if entry.stored == now {
                report.unchanged += 1
                continue
            }
            if entry.stored == nil { report.inserted += 1 } else { report.updated += 1 }
            if now.isFinal { record(now, revised: entry.stored?.isFinal == true) }
        }
        return report
    }

    public func latestCandleStart(of series: Series) throws -> Date? {
        try checkOpen()
        return bars[series]?.keys.map(\.start).max()
    }

    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) throws -> [Date] {
        try checkOpen()
        let starts = (bars[series] ?? [:]).values.filter { range.contains($0.start) && (!finalOnly || $0.isFinal) }
        return Set(starts.map(\.start)).sorted()
    }

    public func candles(of series: Series, in range: Range<Date>) throws -> [Candle] {
        try checkOpen()
        return (bars[series] ?? [:]).values.filter { range.contains($0.start) }
            .sorted { ($0.start, $0.symbol) < ($1.start, $1.symbol) }
    }

    /// Nothing to do: a write is complete when it returns.
    public func flush() throws {
        try checkOpen()
    }

    /// Marks the sink closed; later calls throw `CandleSinkError` `closed`. Closing twice is harmless.
    public func close() {
        isClosed = true
    }

    private func record(_ bar: Candle, revised: Bool) {
        if let current = latest[bar.series], current.start > bar.start {
            // An older bar (a heal filling a hole): stored, but not the latest close.
        } else {
            latest[bar.series] = bar
        }
        let start = bar.start.formatted(.iso8601)
        let close = String(format: "%.2f", bar.close)
        output("\(bar.series) \(bar.symbol) \(start) close \(close) volume \(bar.volume)\(revised ? " (revised)" : "")")
    }

    private func checkOpen() throws(CandleSinkError) {
        if isClosed { throw CandleSinkError(.closed, "the latest-close sink is closed") }
    }
}
