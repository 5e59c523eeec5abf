public import CandleCore
public import Foundation

/// What a backfill did, per series: chunks, bars, the sink's write counts, failures and time.
public struct BackfillSummary: Sendable, Hashable {
    /// A chunk that was given up on.
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        /// The chunk.
        public var chunk: BackfillChunk
        /// Attempts made.
        public var attempts: Int
        /// The last error's description.
        public var error: String

        /// Creates a failure record.
        public init(chunk: BackfillChunk, attempts: Int, error: String) {
            self.chunk = chunk
            self.attempts = attempts
            self.error = error
        }

        public var description: String { "\(chunk): \(error) (after \(attempts) attempts)" }
    }

    /// One series' outcome.
    public struct SeriesSummary: Sendable, Hashable {
        /// The instrument × timeframe.
        public var series: Series
        /// Chunks planned.
        public var chunks: Int
        /// Chunks fetched and stored.
        public var chunksFetched: Int
        /// Chunks skipped (complete in the checkpoint, or already in the sink with `skipExisting`).
        public var chunksSkipped: Int
        /// Fetched chunks in which the source had no bar (weekends, holidays).
        public var emptyChunks: Int
        /// Bars the source returned.
        public var barsFetched: Int
        /// Bars not stored because they were still forming (`isFinal == false`).
        public var barsForming: Int
        /// What the sink did with the final bars.
        public var written: CandleWriteReport
        /// Requests retried after a transient error (rate limits included).
        public var retries: Int
        /// Chunks given up on, in time order.
        public var failures: [Failure]
        /// Seconds from the backfill's start to this series' last finished chunk.
        public var elapsed: TimeInterval

        /// Creates the outcome of a series.
        public init(
            series: Series, chunks: Int = 0, chunksFetched: Int = 0, chunksSkipped: Int = 0, emptyChunks: Int = 0,
            barsFetched: Int = 0, barsForming: Int = 0, written: CandleWriteReport = .empty, retries: Int = 0,
            failures: [Failure] = [], elapsed: TimeInterval = 0
        ) {
            self.series = series
            self.chunks = chunks
            self.chunksFetched = chunksFetched
            self.chunksSkipped = chunksSkipped
            self.emptyChunks = emptyChunks
            self.barsFetched = barsFetched
            self.barsForming = barsForming
            self.written = written
            self.retries = retries
            self.failures = failures
            self.elapsed = elapsed
        }

        /// The last failure's error, if any chunk failed.
        public var lastError: String? { failures.last?.error }
        /// Whether every chunk was fetched or skipped.
        public var isComplete: Bool { failures.isEmpty && chunksFetched + chunksSkipped == chunks }
    }

    /// Per series, in configuration order.
    public var series: [SeriesSummary]
    /// Seconds the whole backfill took (on its clock).
    public var elapsed: TimeInterval
    /// Whether the run was cancelled before every chunk finished.
    public var wasCancelled: Bool
    /// Whether a checkpoint file from an earlier run was resumed.
    public var resumedFromCheckpoint: Bool

    /// Creates a summary.
    public init(
        series: [SeriesSummary], elapsed: TimeInterval, wasCancelled: Bool = false, resumedFromCheckpoint: Bool = false
    ) {
        self.series = series
        self.elapsed = elapsed
        self.wasCancelled = wasCancelled
        self.resumedFromCheckpoint = resumedFromCheckpoint
    }

    /// Whether every chunk of every series was fetched or skipped.
    public var isComplete: Bool { !wasCancelled && series.allSatisfy(\.isComplete) }
    /// Every failure, over all series.
    public var failures: [Failure] { series.flatMap(\.failures) }
    /// Bars fetched, over all series.
    public var barsFetched: Int { series.reduce(0) { $0 + $1.barsFetched } }
    /// The sink's counts, over all series.
    public var written: CandleWriteReport { series.reduce(.empty) { $0 + $1.written } }

    /// A plain-text table, one row per series plus a total, then the failures (at most `maxFailures` listed):
    ///
    /// ```
    /// series     chunks  fetched  skipped  empty  failed  bars   inserted  updated  unchanged  elapsed  last error
    /// NQ 5min        10        9        1      2       0  12345     12345        0          0     0:04  -
    /// ```
    public func table(maxFailures: Int = 10) -> String {
        let header = [
            "series", "chunks", "fetched", "skipped", "empty", "failed", "bars", "inserted", "updated", "unchanged",
            "elapsed", "last error",
        ]
        func row(_ name: String, _ values: SeriesSummary, error: String) -> [String] {
            [
                name, "\(values.chunks)", "\(values.chunksFetched)", "\(values.chunksSkipped)", "\(values.emptyChunks)",
                "\(values.failures.count)", "\(values.barsFetched)", "\(values.written.inserted)",
                "\(values.written.updated)", "\(values.written.unchanged)",
                BackfillProgressRenderer.duration(values.elapsed), error,
            ]
        }
        var rows = [header]
        for item in series {
            rows.append(row(item.series.description, item, error: item.lastError.map { Self.shorten($0) } ?? "-"))
        }
        var total = SeriesSummary(series: series.first?.series ?? Series(.nq, .oneMinute))
        for item in series {
            total.chunks += item.chunks
            total.chunksFetched += item.chunksFetched
            total.chunksSkipped += item.chunksSkipped
            total.emptyChunks += item.emptyChunks
            total.barsFetched += item.barsFetched
            total.written += item.written
            total.failures += item.failures
        }
        total.elapsed = elapsed
        rows.append(row("total", total, error: wasCancelled ? "cancelled" : ""))
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var lines = rows.map { row in
            row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                // Names and errors left-aligned, numbers right-aligned.
                return index == 0 || index == row.count - 1 ? cell + padding : padding + cell
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let failures = self.failures
        if !failures.isEmpty {
            lines.append("failed chunks (\(failures.count)):")
            for failure in failures.prefix(maxFailures) { lines.append("  \(failure)") }
            if failures.count > maxFailures { lines.append("  … and \(failures.count - maxFailures) more") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func shorten(_ text: String, to limit: Int = 60) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
