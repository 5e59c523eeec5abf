public import CandleCore
public import Foundation

/// Where a running backfill stands: per series and in total, with a moving-window rate and an ETA.
///
/// Delivered to the `progress` callback of ``Backfill/run(progress:)`` after planning, after every finished chunk and
/// at the end; render it with ``BackfillProgressRenderer``.
public struct BackfillProgress: Sendable, Hashable {
    /// One series' counts.
    public struct SeriesProgress: Sendable, Hashable {
        /// The instrument × timeframe.
        public var series: Series
        /// Chunks planned.
        public var chunksTotal: Int
        /// Chunks fetched and stored.
        public var chunksFetched: Int
        /// Chunks not fetched because the checkpoint (or, with `skipExisting`, the sink) already had them.
        public var chunksSkipped: Int
        /// Chunks given up on (see the summary for the error).
        public var chunksFailed: Int
        /// Bars the source returned.
        public var barsFetched: Int
        /// Final bars handed to the sink (inserted, updated or unchanged).
        public var barsStored: Int

        /// Creates the counts of a series.
        public init(
            series: Series, chunksTotal: Int = 0, chunksFetched: Int = 0, chunksSkipped: Int = 0, chunksFailed: Int = 0,
            barsFetched: Int = 0, barsStored: Int = 0
        ) {
            self.series = series
            self.chunksTotal = chunksTotal
            self.chunksFetched = chunksFetched
            self.chunksSkipped = chunksSkipped
            self.chunksFailed = chunksFailed
            self.barsFetched = barsFetched
            self.barsStored = barsStored
        }

        /// Chunks that need no more work: fetched, skipped or failed.
        public var chunksFinished: Int { chunksFetched + chunksSkipped + chunksFailed }
    }

    /// Per series, in configuration order.
    public var series: [SeriesProgress]
    /// Seconds since the backfill started (on its clock).
    public var elapsed: TimeInterval
    /// Bars stored per second over the rate window; `nil` until two samples lie apart in time.
    public var barsPerSecond: Double?
    /// Chunks finished per second over the rate window; `nil` until two samples lie apart in time.
    public var chunksPerSecond: Double?
    /// Whether the backfill is over (every chunk finished, or it was cancelled).
    public var isFinished: Bool

    /// Creates a progress value.
    public init(
        series: [SeriesProgress], elapsed: TimeInterval, barsPerSecond: Double? = nil, chunksPerSecond: Double? = nil,
        isFinished: Bool = false
    ) {
        self.series = series
        self.elapsed = elapsed
        self.barsPerSecond = barsPerSecond
        self.chunksPerSecond = chunksPerSecond
        self.isFinished = isFinished
    }

    /// Chunks planned, over all series.
    public var chunksTotal: Int { series.reduce(0) { $0 + $1.chunksTotal } }
    /// Chunks finished (fetched, skipped or failed), over all series.
    public var chunksFinished: Int { series.reduce(0) { $0 + $1.chunksFinished } }
    /// Chunks failed, over all series.
    public var chunksFailed: Int { series.reduce(0) { $0 + $1.chunksFailed } }
    /// Bars fetched, over all series.
    public var barsFetched: Int { series.reduce(0) { $0 + $1.barsFetched } }
    /// Final bars handed to the sink, over all series.
    public var barsStored: Int { series.reduce(0) { $0 + $1.barsStored } }

    /// Finished chunks ÷ planned chunks (1 when nothing is planned).
    public var fractionDone: Double {
        chunksTotal == 0 ? 1 : Double(chunksFinished) / Double(chunksTotal)
    }

    /// Seconds until every chunk is finished at the current chunk rate: remaining chunks ÷ ``chunksPerSecond``;
    /// 0 when finished, `nil` when the rate is unknown or zero.
    public var eta: TimeInterval? {
        let remaining = chunksTotal - chunksFinished
        if remaining <= 0 { return 0 }
        guard let rate = chunksPerSecond, rate > 0 else { return nil }
        return Double(remaining) / rate
    }
}

/// Rates over a moving time window, from cumulative counts sampled at instants.
///
/// The rate at the newest sample is (count now − count at the oldest sample still in the window) ÷ the time between
/// the two; the window keeps the newest sample at or before `now − window` as its baseline, so a rate exists as soon
/// as two samples lie apart in time.
public struct BackfillRateMeter: Sendable, Hashable {
    private struct Sample: Sendable, Hashable {
        var time: Date
        var bars: Int
        var chunks: Int
    }

    /// The window length.
    public let window: Duration
    private var samples: [Sample] = []

    /// A meter over `window`.
    public init(window: Duration) {
        self.window = window
    }

    /// Records the cumulative counts at `time` (times must not go backwards; an earlier time is ignored).
    public mutating func record(at time: Date, bars: Int, chunks: Int) {
        if let last = samples.last, time < last.time { return }
        samples.append(Sample(time: time, bars: bars, chunks: chunks))
        let cutoff = time.addingTimeInterval(-window.timeInterval)
        // Keep one sample at or before the cutoff as the baseline.
        if let baseline = samples.lastIndex(where: { $0.time <= cutoff }), baseline > 0 {
            samples.removeFirst(baseline)
        }
    }

    /// Bars per second over the window, or `nil` without two samples apart in time.
    public var barsPerSecond: Double? { rate(\.bars) }

    /// Chunks per second over the window, or `nil` without two samples apart in time.
    public var chunksPerSecond: Double? { rate(\.chunks) }

    private func rate(_ count: KeyPath<Sample, Int>) -> Double? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let seconds = last.time.timeIntervalSince(first.time)
        guard seconds > 0 else { return nil }
        return Double(last[keyPath: count] - first[keyPath: count]) / seconds
    }
}
