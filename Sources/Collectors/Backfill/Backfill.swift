public import CandleCore
import Foundation
public import Logging

/// Pages history from a ``CandleSource`` into a ``CandleSink`` for a set of series and ranges.
///
/// Each series' range is split into chunks (``Configuration/chunkSize``, and at every contract roll, so each chunk asks
/// for the front-month contract's chart); at most ``Configuration/maxConcurrentRequests`` chunks are in flight at once.
/// Every chunk's final bars (`isFinal`) are written to the sink, which upserts, so a chunk fetched twice changes
/// nothing. Transient source errors are retried with exponential backoff on the injected clock; a rate limit pauses
/// every worker. A chunk that still fails is reported in the ``BackfillSummary`` and the other chunks go on.
///
/// With a ``Configuration/checkpointFile``, every chunk whose bars are stored (and whose range lies in the past) is
/// recorded in the file, so a backfill killed at any moment resumes where it stopped: a rerun skips the recorded
/// chunks and fetches the rest again (possibly one that was stored but not yet recorded: the upsert makes that
/// harmless).
///
/// ```swift
/// let backfill = Backfill(
///     configuration: .init(series: [Series(.nq, .fiveMinutes)], from: start, to: clock.now(),
///                          checkpointFile: URL(filePath: "/var/lib/orca/backfill.json")),
///     source: source, sink: sink)
/// let writer = BackfillProgressWriter()
/// let summary = try await backfill.run(progress: writer.update)
/// writer.write(summary.table())
/// ```
public actor Backfill {
    /// What this backfill does.
    public nonisolated let configuration: Configuration
    private let source: any CandleSource
    private let sink: any CandleSink
    private let clock: any WallClock
    private let logger: Logger

    private var isRunning = false
    private var startedAt = Date(timeIntervalSince1970: 0)
    private var states: [Series: BackfillSummary.SeriesSummary] = [:]
    private var stored: [Series: Int] = [:]
    private var meter: BackfillRateMeter
    private var resumed = false
    private var cancelled = false
    private var finishedAt: Date?

    /// Creates a backfill; nothing happens until ``run(progress:)``.
    ///
    /// - Parameters:
    ///   - source: where the bars come from.
    ///   - sink: where the bars go.
    ///   - configuration: the configuration.
    ///   - clock: "now" (which chunks lie in the past) and every wait (retries, rate-limit pauses, rates).
    ///   - logger: debug-level events per chunk; disabled by default.
    public init(
        configuration: Configuration, source: any CandleSource, sink: any CandleSink,
        clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.backfill", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.source = source
        self.sink = sink
        self.clock = clock
        self.logger = logger
        self.meter = BackfillRateMeter(window: configuration.rateWindow)
    }

    /// The outcome so far (complete after ``run(progress:)`` returned or was cancelled).
    public var summary: BackfillSummary {
        let now = finishedAt ?? clock.now()
        return BackfillSummary(
            series: configuration.targets.compactMap { states[$0.series] },
            elapsed: isRunning || finishedAt != nil ? now.timeIntervalSince(startedAt) : 0,
            wasCancelled: cancelled, resumedFromCheckpoint: resumed)
    }

    /// The progress so far.
    public var progress: BackfillProgress {
        BackfillProgress(
            series: configuration.targets.compactMap { target in
                states[target.series].map { state in
                    BackfillProgress.SeriesProgress(
                        series: target.series, chunksTotal: state.chunks, chunksFetched: state.chunksFetched,
                        chunksSkipped: state.chunksSkipped, chunksFailed: state.failures.count,
                        barsFetched: state.barsFetched, barsStored: stored[target.series] ?? 0)
                }
            },
            elapsed: (finishedAt ?? clock.now()).timeIntervalSince(startedAt), barsPerSecond: meter.barsPerSecond,
            chunksPerSecond: meter.chunksPerSecond, isFinished: finishedAt != nil)
    }

    /// Runs the backfill to the end and returns its summary; `progress` is called after planning, after every
    /// finished chunk and at the end (on this actor: keep it quick).
    ///
    /// Chunk failures do not throw: they are in the summary (``BackfillSummary/isComplete`` is then `false`).
    /// - Throws: ``BackfillError`` when the configuration or the checkpoint file is unusable, or the checkpoint cannot
    ///   be written; a sink error while checking existing bars (`skipExisting`); `CancellationError` when the task
    ///   is cancelled (``summary`` then holds the partial outcome and the checkpoint what was stored).
    @discardableResult
    public func run(progress: (@Sendable (BackfillProgress) -> Void)? = nil) async throws -> BackfillSummary {
        try configuration.validate()
        guard !isRunning else {
            throw BackfillError(.invalidConfiguration, "this backfill is already running: create another one")
        }
        isRunning = true
        cancelled = false
        finishedAt = nil
        startedAt = clock.now()
        meter = BackfillRateMeter(window: configuration.rateWindow)
        states = [:]
        stored = [:]
        defer { isRunning = false }

        var checkpoint: BackfillCheckpointStore?
        if let url = configuration.checkpointFile {
            checkpoint = try await BackfillCheckpointStore.open(url, configuration: configuration)
        }
        resumed = await checkpoint?.wasResumed ?? false
        do {
            let pending = try await plan(checkpoint: checkpoint)
            meter.record(at: clock.now(), bars: 0, chunks: progressChunksFinished)
            progress?(self.progress)
            try await execute(pending, checkpoint: checkpoint, progress: progress)
        } catch {
            if error is CancellationError || Task.isCancelled { cancelled = true }
            finishedAt = clock.now()
            await checkpoint?.close()
            if cancelled {
                logger.debug("backfill cancelled", metadata: ["orca_chunks": "\(progressChunksFinished)"])
                progress?(self.progress)
                throw CancellationError()
            }
            throw error
        }
        finishedAt = clock.now()
        await checkpoint?.close()
        progress?(self.progress)
        return summary
    }

    private var progressChunksFinished: Int {
        states.values.reduce(0) { $0 + $1.chunksFetched + $1.chunksSkipped + $1.failures.count }
    }

    // MARK: - Planning

    private func plan(checkpoint: BackfillCheckpointStore?) async throws -> [BackfillChunk] {
        var pending: [BackfillChunk] = []
        for target in configuration.targets {
            let series = target.series
            let chunks = Self.chunks(
                of: target, chunkSize: configuration.chunkSize, contractCalendar: configuration.contractCalendar,
                charts: configuration.charts, now: startedAt)
            let completed = await checkpoint?.completed(series) ?? SecondsRangeSet()
            var existing: Set<Date> = []
            if configuration.skipExisting, let first = chunks.first, let last = chunks.last {
                let range = first.range.lowerBound..<last.range.upperBound
                existing = Set(try await sink.candleStarts(of: series, in: range, finalOnly: true))
            }
            var state = BackfillSummary.SeriesSummary(series: series, chunks: chunks.count)
            for chunk in chunks {
                if completed.covers(chunk.seconds) {
                    state.chunksSkipped += 1
                } else if configuration.skipExisting
                    && configuration.tradingCalendar.expectedBars(
                        series.instrument, series.timeframe, from: chunk.range.lowerBound,
                        to: chunk.range.upperBound
                    ).allSatisfy(existing.contains)
                {
                    state.chunksSkipped += 1
                } else {
                    pending.append(chunk)
                }
            }
            states[series] = state
            logger.debug(
                "backfill planned",
                metadata: [
                    "orca_series": "\(series)", "orca_chunks": "\(chunks.count)",
                    "orca_skipped": "\(state.chunksSkipped)",
                ])
        }
        return pending
    }

    // MARK: - Running

    private func execute(
        _ pending: [BackfillChunk], checkpoint: BackfillCheckpointStore?,
        progress: (@Sendable (BackfillProgress) -> Void)?
    ) async throws {
        let worker = ChunkWorker(
            source: source, sink: sink, clock: clock, retry: configuration.retry, gate: PauseGate(),
            flush: configuration.flushBeforeCheckpoint,
            settle: { $0.timeframe.duration + 60 })
        try await withThrowingTaskGroup(of: ChunkOutcome.self) { group in
            var next = pending.makeIterator()
            for _ in 0..<configuration.maxConcurrentRequests {
                guard let chunk = next.next() else { break }
                group.addTask { try await worker.process(chunk) }
            }
            while let outcome = try await group.next() {
                try await record(outcome, checkpoint: checkpoint)
                progress?(self.progress)
                try Task.checkCancellation()
                if let chunk = next.next() {
                    group.addTask { try await worker.process(chunk) }
                }
            }
        }
    }

    private func record(_ outcome: ChunkOutcome, checkpoint: BackfillCheckpointStore?) async throws {
        let series = outcome.chunk.series
        var state = states[series] ?? BackfillSummary.SeriesSummary(series: series)
        state.retries += outcome.retries
        switch outcome.result {
        case .stored(let fetched, let forming, let report, let isClosed):
            state.chunksFetched += 1
            state.barsFetched += fetched
            state.barsForming += forming
            state.written += report
            if fetched == 0 { state.emptyChunks += 1 }
            stored[series, default: 0] += report.total
            if isClosed { try await checkpoint?.markCompleted(series, outcome.chunk.seconds) }
            logger.debug(
                "backfill chunk stored",
                metadata: ["orca_chunk": "\(outcome.chunk)", "orca_bars": "\(fetched)", "orca_written": "\(report)"])
        case .failed(let attempts, let error):
            state.failures.append(BackfillSummary.Failure(chunk: outcome.chunk, attempts: attempts, error: error))
            logger.debug(
                "backfill chunk failed", metadata: ["orca_chunk": "\(outcome.chunk)", "orca_error": "\(error)"])
        }
        let now = clock.now()
        state.elapsed = now.timeIntervalSince(startedAt)
        states[series] = state
        meter.record(at: now, bars: stored.values.reduce(0, +), chunks: progressChunksFinished)
    }
}

/// The result of one chunk.
struct ChunkOutcome: Sendable {
    enum Result: Sendable {
        /// Stored: bars returned, bars still forming (not written), what the sink did, whether the chunk may be
        /// recorded as complete.
        case stored(fetched: Int, forming: Int, report: CandleWriteReport, isClosed: Bool)
        case failed(attempts: Int, error: String)
    }

    var chunk: BackfillChunk
    var result: Result
    var retries: Int
}

/// A pause every worker honours before sending a request (after a rate limit).
actor PauseGate {
    private(set) var deadline: Date?

    func pause(until instant: Date) {
        if deadline.map({ instant > $0 }) ?? true { deadline = instant }
    }

    /// Waits until no pause is in force.
    nonisolated func wait(on clock: any WallClock) async throws {
        while let deadline = await deadline, deadline > clock.now() {
            try await clock.sleep(until: deadline)
        }
    }
}

/// Fetches and stores one chunk, with retries. Holds only `Sendable` values; runs in the backfill's child tasks.
struct ChunkWorker: Sendable {
    let source: any CandleSource
    let sink: any CandleSink
    let clock: any WallClock
    let retry: Backfill.RetryPolicy
    let gate: PauseGate
    let flush: Bool
    /// The time after a chunk's end from which its bars are all closed at the source.
    let settle: @Sendable (Series) -> TimeInterval

    func process(_ chunk: BackfillChunk) async throws -> ChunkOutcome {
        var attempt = 0
        var retries = 0
        var rateLimits = 0
        while true {
            attempt += 1
            try await gate.wait(on: clock)
            try Task.checkCancellation()
            let error: any Error
            do {
                let fetchedAt = clock.now()
                var candles = try await source.history(of: chunk.request, in: chunk.range)
                try Task.checkCancellation()
                if chunk.request != chunk.chart {
                    // A continuous chart: store the bars under the chunk's contract.
                    candles = candles.compactMap { candle in
                        guard chunk.range.contains(candle.start) else { return nil }
                        var stamped = candle
                        stamped.symbol = chunk.chart.symbol
                        return stamped
                    }
                }
                let final = candles.filter(\.isFinal)
                var report = CandleWriteReport.empty
                if !final.isEmpty {
                    report = try await sink.write(final)
                    if flush { try await sink.flush() }
                }
                let closed =
                    final.count == candles.count
                    && chunk.range.upperBound.addingTimeInterval(settle(chunk.series)) <= fetchedAt
                return ChunkOutcome(
                    chunk: chunk,
                    result: .stored(
                        fetched: candles.count, forming: candles.count - final.count, report: report, isClosed: closed),
                    retries: retries)
            } catch let caught {
                if caught is CancellationError || Task.isCancelled { throw CancellationError() }
                error = caught
            }
            let sourceError = error as? CandleSourceError
            let sinkError = error as? CandleSinkError
            let transient = sourceError?.isTransient ?? sinkError?.isRetryable ?? false
            guard transient, attempt < retry.maxAttempts else {
                return ChunkOutcome(
                    chunk: chunk, result: .failed(attempts: attempt, error: "\(error)"), retries: retries)
            }
            retries += 1
            if sourceError?.code == .rateLimited {
                rateLimits += 1
                await gate.pause(
                    until: clock.now().addingTimeInterval(retry.rateLimitPause(count: rateLimits).timeInterval))
            } else {
                try await clock.sleep(for: retry.delay(afterAttempt: attempt).timeInterval)
            }
        }
    }
}
