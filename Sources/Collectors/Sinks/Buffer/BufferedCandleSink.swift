public import CandleCore
public import Foundation
public import Logging

/// A sink in front of another sink that never loses an accepted bar: it queues batches in memory up to a bound,
/// spills further batches to an append-only, checksummed local file, and drains both **in order** to the backend,
/// retrying the same batch with capped exponential back-off while the backend is down. When memory and spill file
/// are both full, ``write(_:)`` throws `backpressure` — the caller keeps the bars — instead of
/// dropping anything.
///
/// ```swift
/// let buffer = try BufferedCandleSink(
///     wrapping: postgres,
///     configuration: .init(memoryCapacity: 50_000, spillFile: URL(filePath: "/var/lib/orca/spill.log")))
/// let drainer = Task { await buffer.run() }          // drains until cancelled (a future ServiceLifecycle Service)
/// try await buffer.write(bars)                       // returns at once: CandleWriteReport(buffered: n)
/// let stats = await buffer.stats                     // depth, age of the oldest bar, failures, ...
/// ```
///
/// **Semantics.** ``write(_:)`` validates the batch with the backend's rules (``CandleSink/validate(_:)``), queues it
/// and returns a report whose ``CandleWriteReport/buffered`` counts its distinct keys. The backend's own reports
/// accumulate in ``Stats/backendReport``. Because the backend upserts, re-sending a batch after a failure whose
/// outcome is unknown is harmless: every bar ends up stored exactly once. Consecutive queued batches are merged into
/// one backend write of up to ``Configuration/maximumDrainBatch`` candles, which gives the same result as writing
/// them one by one.
///
/// **Durability.** Batches in memory are lost if the process dies; spilled batches are synced before ``write(_:)``
/// returns and survive crashes: a new buffer opened on the same spill file drains them first. Set
/// ``Configuration/memoryCapacity`` to 0 to spill everything that cannot be written at once. ``close()`` moves
/// batches still in memory into the spill file when the backend is down.
///
/// **Queries** go to the backend: bars still queued are not visible until drained (``flush()`` first if needed).
public actor BufferedCandleSink: CandleSink {
    /// Bounds and retry timing.
    public struct Configuration: Sendable {
        /// Candles held in memory before batches go to the spill file (default 100,000, about 25 MB). Without a
        /// spill file, a single batch larger than this is still accepted when nothing else is queued.
        public var memoryCapacity: Int
        /// The spill file; `nil` (the default) means memory only, and back-pressure once memory is full.
        public var spillFile: URL?
        /// Bytes of undrained records the spill file may hold (default 1 GiB, roughly 3 million candles).
        public var spillCapacity: Int
        /// Most candles sent to the backend in one write when draining (default 10,000).
        public var maximumDrainBatch: Int
        /// Delay before the first retry after a failed drain (default 500 ms); doubles after each failure...
        public var retryDelay: Duration
        /// ...up to this (default 30 s).
        public var maximumRetryDelay: Duration

        /// Creates a configuration; see the properties for the defaults.
        public init(
            memoryCapacity: Int = 100_000, spillFile: URL? = nil, spillCapacity: Int = 1 << 30,
            maximumDrainBatch: Int = 10_000, retryDelay: Duration = .milliseconds(500),
            maximumRetryDelay: Duration = .seconds(30)
        ) {
            self.memoryCapacity = memoryCapacity
            self.spillFile = spillFile
            self.spillCapacity = spillCapacity
            self.maximumDrainBatch = maximumDrainBatch
            self.retryDelay = retryDelay
            self.maximumRetryDelay = maximumRetryDelay
        }
    }

    /// A snapshot of the buffer's depth, age and history, for health checks and metrics.
    public struct Stats: Sendable, Hashable {
        /// Candles accepted and not yet written to the backend (memory + spill file): the queue depth.
        public var pendingCandles: Int
        /// Of those, candles held in memory.
        public var memoryCandles: Int
        /// Of those, candles in the spill file.
        public var spilledCandles: Int
        /// Bytes of undrained records in the spill file.
        public var spillBytes: Int
        /// When the oldest pending batch was accepted (wall time), or `nil` when nothing is pending.
        public var oldestPendingSince: Date?
        /// How long the oldest pending batch has waited, or `nil` when nothing is pending.
        public var oldestPendingAge: Duration?
        /// Candles accepted since the buffer was created.
        public var acceptedCandles: Int
        /// Candles written to the backend since the buffer was created (re-sent candles count again).
        public var drainedCandles: Int
        /// Candles refused with `backpressure`.
        public var rejectedCandles: Int
        /// Backend writes that failed.
        public var failedWrites: Int
        /// Backend writes that failed since the last success (0 when the backend is healthy).
        public var consecutiveFailures: Int
        /// The last backend failure, when the latest write failed.
        public var lastFailure: String?
        /// The backend's reports, added up.
        public var backendReport: CandleWriteReport
        /// Times the spill file was found removed or truncated by something else while the buffer ran, and repaired.
        public var spillRepairs: Int
        /// Queued candles lost because something else truncated the spill file (0 unless that happened).
        public var spillCandlesLost: Int
        /// The last such problem in plain words, or `nil` when the spill file was never found damaged.
        public var spillProblem: String?
    }

    private struct PendingBatch {
        let candles: [Candle]
        let acceptedAt: Date
    }

    /// The sink batches are drained to.
    public nonisolated let backend: any CandleSink
    /// The bounds and timing in use.
    public nonisolated let configuration: Configuration

    private nonisolated let executor: BlockingIOExecutor
    private let clock: any Clock<Duration>
    private let wallTime: @Sendable () -> Date
    private let logger: Logger
    private let wakeStream: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    private var memory: [PendingBatch] = []
    private var memoryHead = 0
    private var memoryCandles = 0
    private var spill: SpillFile?

    private var acceptedCandles = 0
    private var drainedCandles = 0
    private var rejectedCandles = 0
    private var failedWrites = 0
    private var consecutiveFailures = 0
    private var lastFailure: String?
    private var backendReport = CandleWriteReport()
    private var spillRepairs = 0
    private var spillCandlesLost = 0
    private var spillProblem: String?

    private var drainBusy = false
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var isClosed = false
    private var isRunning = false

    /// Runs this actor's methods on its private queue, so spill-file I/O stays off the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Wraps `backend`. When the spill file exists and holds undrained batches from an earlier process, they are
    /// recovered (a torn last record is cut) and drained before anything newer.
    ///
    /// - Parameters:
    ///   - logger: where events are logged.
    ///   - backend: the sink every batch is finally written to.
    ///   - configuration: the configuration.
    ///   - clock: the clock retries wait on (default `ContinuousClock`); tests pass their own.
    ///   - wallTime: the source of wall time for acceptance times and ages (default: the system clock).
    /// - Throws: `invalidConfiguration` (the spill file cannot be created or opened) or
    ///   `corruptData` (its records are damaged beyond a torn tail).
    public init(
        wrapping backend: any CandleSink,
        configuration: Configuration = Configuration(),
        clock: any Clock<Duration> = ContinuousClock(),
        wallTime: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "orca.sink.buffer", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(CandleSinkError) {
        self.backend = backend
        self.configuration = configuration
        self.clock = clock
        self.wallTime = wallTime
        self.logger = logger
        self.executor = BlockingIOExecutor(label: "orca.sink.buffer")
        (wakeStream, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        if let url = configuration.spillFile {
            let spill = try SpillFile.open(path: url.path(percentEncoded: false))
            self.spill = spill
            if !spill.isEmpty {
                wakeContinuation.yield()
            }
        }
    }

    /// Depth, age and history; see ``Stats``.
    public var stats: Stats {
        let oldest = memoryHead < memory.count ? memory[memoryHead].acceptedAt : spill?.oldestAcceptedAt
        return Stats(
            pendingCandles: pendingCandles,
            memoryCandles: memoryCandles,
            spilledCandles: spill?.pendingCandles ?? 0,
            spillBytes: spill?.pendingBytes ?? 0,
            oldestPendingSince: oldest,
            oldestPendingAge: oldest.map { .seconds(max(0, wallTime().timeIntervalSince($0))) },
            acceptedCandles: acceptedCandles,
            drainedCandles: drainedCandles,
            rejectedCandles: rejectedCandles,
            failedWrites: failedWrites,
            consecutiveFailures: consecutiveFailures,
            lastFailure: lastFailure,
            backendReport: backendReport,
            spillRepairs: spillRepairs,
            spillCandlesLost: spillCandlesLost,
            spillProblem: spillProblem)
    }

    private var pendingCandles: Int { memoryCandles + (spill?.pendingCandles ?? 0) }

    // MARK: CandleSink

    /// The backend's rules.
    public nonisolated func validate(_ candles: [Candle]) throws(CandleSinkError) {
        try backend.validate(candles)
    }

    /// Validates and queues `candles`; returns at once with ``CandleWriteReport/buffered`` set.
    ///
    /// Goes to memory while nothing is spilled and memory has room, otherwise to the spill file (synced before
    /// returning), so the queue stays in order.
    /// - Throws: `invalidCandle` (nothing queued), `backpressure`
    ///   (memory and spill file full, or the spill file cannot be written: nothing queued, keep the bars and retry
    ///   later), `closed`.
    public func write(_ candles: [Candle]) throws -> CandleWriteReport {
        try checkOpen()
        try backend.validate(candles)
        let batch = try CandleBatch(validating: candles)
        guard !batch.isEmpty else { return .empty }
        if let spill {
            checkSpill(spill)
        }
        let count = batch.count
        let acceptedAt = wallTime()
        let spillIsEmpty = spill?.isEmpty ?? true
        let fits = memoryCandles + count <= configuration.memoryCapacity
        if spillIsEmpty && (fits || (memoryCandles == 0 && spill == nil)) {
            memory.append(PendingBatch(candles: batch.candles, acceptedAt: acceptedAt))
            memoryCandles += count
        } else if let spill {
            let encoded: [UInt8]
            do {
                encoded = try SpillFile.encode(batch.candles, acceptedAt: acceptedAt)
            } catch {
                rejectedCandles += count
                throw CandleSinkError(.backpressure, "cannot encode the batch for the spill file", underlying: error)
            }
            guard spill.pendingBytes + encoded.count <= configuration.spillCapacity else {
                rejectedCandles += count
                throw CandleSinkError(
                    .backpressure,
                    "buffer full: \(memoryCandles) candles in memory, spill file \(spill.path) at \(spill.pendingBytes)"
                        + " of \(configuration.spillCapacity) bytes; the batch of \(count) was not accepted")
            }
            do {
                try spill.append(encoded, count: count, acceptedAt: acceptedAt)
            } catch {
                rejectedCandles += count
                throw CandleSinkError(
                    .backpressure, "cannot write spill file \(spill.path); the batch of \(count) was not accepted",
                    underlying: error)
            }
        } else {
            rejectedCandles += count
            throw CandleSinkError(
                .backpressure,
                "buffer full: \(memoryCandles) of \(configuration.memoryCapacity) candles in memory and no spill file;"
                    + " the batch of \(count) was not accepted")
        }
        acceptedCandles += count
        wakeContinuation.yield()
        return CandleWriteReport(buffered: count)
    }

    /// The backend's answer (queued bars are not included).
    public func latestCandleStart(of series: Series) async throws -> Date? {
        try checkOpen()
        return try await backend.latestCandleStart(of: series)
    }

    /// The backend's answer (queued bars are not included).
    public func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] {
        try checkOpen()
        return try await backend.candleStarts(of: series, in: range, finalOnly: finalOnly)
    }

    /// The backend's answer (queued bars are not included).
    public func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] {
        try checkOpen()
        return try await backend.candles(of: series, in: range)
    }

    /// Drains everything queued now, in order, then flushes the backend. Throws the backend's error at the first
    /// failed write (the batch stays queued).
    public func flush() async throws {
        try checkOpen()
        while pendingCandles > 0 {
            guard try await drainOnce() else { break }
        }
        try await backend.flush()
    }

    /// Stops accepting writes, ends ``run()``, drains what it can and closes the backend. Batches the backend cannot
    /// take go to the spill file; without one, the error names how many candles were not written.
    public func close() async throws {
        guard !isClosed else { return }
        isClosed = true
        wakeContinuation.finish()
        var failure: (any Error)?
        do {
            while pendingCandles > 0 {
                guard try await drainOnce() else { break }
            }
        } catch {
            failure = error
        }
        await acquireDrain()
        defer { releaseDrain() }
        let held = Array(memory[memoryHead...])
        if !held.isEmpty {
            guard let spill else {
                try? await backend.close()
                throw CandleSinkError(
                    .unavailable,
                    "buffer closed with \(memoryCandles) candles not written (backend unavailable, no spill file)",
                    underlying: failure)
            }
            do {
                try spill.prepend(held.map { ($0.candles, $0.acceptedAt) })
                memory = []
                memoryHead = 0
                memoryCandles = 0
            } catch {
                try? await backend.close()
                throw CandleSinkError(
                    .writeFailed, "buffer closed with \(memoryCandles) candles not written: cannot spill them",
                    underlying: error)
            }
            logger.debug("moved queued batches to the spill file", metadata: ["orca_batches": "\(held.count)"])
        }
        spill?.close()
        try await backend.close()
    }

    // MARK: Draining

    /// Drains the queue until the task is cancelled or the buffer is closed: writes the oldest batches to the
    /// backend, and after a failure waits (``Configuration/retryDelay``, doubling up to
    /// ``Configuration/maximumRetryDelay``, on the injected clock) and retries the same batches. Never throws;
    /// failures show in ``stats``. Call it once (a second concurrent call returns at once).
    public func run() async {
        guard !isRunning else { return }
        isRunning = true
        defer { isRunning = false }
        var delay = configuration.retryDelay
        var wakes = wakeStream.makeAsyncIterator()
        while !Task.isCancelled && !isClosed {
            if pendingCandles == 0 {
                guard await wakes.next() != nil else { return }
                continue
            }
            do {
                _ = try await drainOnce()
                delay = configuration.retryDelay
            } catch {
                logger.debug(
                    "drain failed; retrying", metadata: ["orca_error": "\(error)", "orca_delay": "\(delay)"])
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    return
                }
                delay = min(delay * 2, configuration.maximumRetryDelay)
            }
        }
    }

    /// Writes the oldest queued batches to the backend; `false` when nothing was queued.
    private func drainOnce() async throws -> Bool {
        await acquireDrain()
        defer { releaseDrain() }
        if memoryHead < memory.count {
            var taken = 0
            var candles: [Candle] = []
            while memoryHead + taken < memory.count {
                let batch = memory[memoryHead + taken]
                if taken > 0 && candles.count + batch.candles.count > configuration.maximumDrainBatch { break }
                candles += batch.candles
                taken += 1
            }
            try await send(candles)
            let count = memory[memoryHead..<(memoryHead + taken)].reduce(0) { $0 + $1.candles.count }
            memoryHead += taken
            memoryCandles -= count
            if memoryHead == memory.count {
                memory = []
                memoryHead = 0
            } else if memoryHead > 1024 && memoryHead * 2 > memory.count {
                memory.removeFirst(memoryHead)
                memoryHead = 0
            }
            return true
        }
        if let spill {
            checkSpill(spill)
        }
        if let spill, !spill.isEmpty {
            let head: (records: Int, candles: [Candle])
            do {
                head = try spill.peek(maximum: configuration.maximumDrainBatch)
            } catch {
                record(failure: error)
                throw error
            }
            try await send(head.candles)
            do {
                try spill.consume(head.records)
            } catch {
                // The batch is stored; it will be sent again (harmlessly) if the offset could not be saved.
                record(failure: error)
                throw CandleSinkError(.writeFailed, "cannot update spill file \(spill.path)", underlying: error)
            }
            return true
        }
        return false
    }

    private func send(_ candles: [Candle]) async throws {
        do {
            let report = try await backend.write(candles)
            backendReport += report
            drainedCandles += candles.count
            consecutiveFailures = 0
            lastFailure = nil
        } catch {
            record(failure: error)
            throw error
        }
    }

    /// Repairs the spill file when something else removed or truncated it while the buffer ran (see
    /// `SpillFile.checkFile()`), and says so in the log and in ``stats``.
    private func checkSpill(_ spill: SpillFile) {
        let repair: SpillFile.Repair?
        do {
            repair = try spill.checkFile()
        } catch {
            spillProblem = "spill file \(spill.path) is damaged and could not be repaired: \(error)"
            logger.error("spill file damaged", metadata: ["orca_error": "\(error)", "orca_path": "\(spill.path)"])
            return
        }
        switch repair {
        case nil:
            return
        case .recreated(let pending):
            spillRepairs += 1
            spillProblem = "spill file \(spill.path) was removed while running; written again with \(pending) candles"
            logger.warning(
                "the spill file was removed while running (perhaps with the state directory); written again",
                metadata: ["orca_path": "\(spill.path)", "orca_candles": "\(pending)"])
        case .truncated(let lost):
            spillRepairs += 1
            spillCandlesLost += lost
            spillProblem =
                "spill file \(spill.path) was truncated by something else while running: \(lost) queued candles in it"
                + " are lost until a heal or `orca-run verify --repair` fetches them again"
            logger.error(
                "the spill file was truncated by something else while running; queued candles lost",
                metadata: ["orca_path": "\(spill.path)", "orca_candles": "\(lost)"])
        }
    }

    private func record(failure error: any Error) {
        failedWrites += 1
        consecutiveFailures += 1
        lastFailure = "\(error)"
    }

    /// One drainer at a time (``run()``, ``flush()`` and ``close()`` may overlap): FIFO hand-over.
    private func acquireDrain() async {
        if drainBusy {
            await withCheckedContinuation { drainWaiters.append($0) }
        } else {
            drainBusy = true
        }
    }

    private func releaseDrain() {
        if drainWaiters.isEmpty {
            drainBusy = false
        } else {
            drainWaiters.removeFirst().resume()
        }
    }

    private func checkOpen() throws(CandleSinkError) {
        if isClosed {
            throw CandleSinkError(.closed, "the buffer is closed")
        }
    }
}
