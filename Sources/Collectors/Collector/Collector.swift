public import CandleCore
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps every series' sink complete: live closed bars within ``Configuration/settleTimeout`` of their end, holes healed
/// from history.
///
/// - **Contracts.** Every bar belongs to the front-month contract at its start (`ContractCalendar` with
///   ``Configuration/rollDaysBeforeExpiry``); the collector asks the ``CandleSource`` for `ChartKey(symbol: contract…)`
///   and splits history ranges at roll instants. Live, it subscribes to the next contract
///   ``Configuration/rollLeadTime`` before the roll and drops the old one as long after it.
/// - **Closed.** A bar is written as final when a newer bar of the series arrives, when an update for it arrives at or
///   after its end, or ``Configuration/settleTimeout`` after its end with its last state. A forming bar is never
///   written as final (with ``Configuration/writeProvisional`` it is written with `isFinal = false`).
/// - **Heal.** At start, after every reconnect (one settle time later) and every ``Configuration/healInterval``, the
///   sink's final bars are compared with the calendar over ``Configuration/healLookBack``; missing closed bars are fetched
///   in contiguous ranges and written, the last ``Configuration/revisionWindowBars`` are fetched again to catch
///   revisions, and bars the broker does not have are recorded in the ``ConfirmedEmptyLedger``.
/// - **Time.** Every wait and "now" comes from the injected `WallClock`.
///
/// Run it in a `ServiceGroup`: ``run()`` returns on cancellation or graceful shutdown. The collector does not close the
/// sink or the source; their owner does.
public actor Collector: Service {
    /// The settings in use.
    public nonisolated let configuration: Configuration
    /// What the collector does, as it happens (buffered up to ``Configuration/eventBufferSize``; the oldest are dropped
    /// when nobody reads). Finishes when ``run()`` returns.
    public nonisolated let events: AsyncStream<CollectorEvent>

    let eventContinuation: AsyncStream<CollectorEvent>.Continuation
    let source: any CandleSource
    let sink: any CandleSink
    let ledger: any ConfirmedEmptyLedger
    let clock: any WallClock
    let logger: Logger
    let contracts: ContractCalendar
    let calendar: TradingCalendar
    let aggregator: CandleAggregator
    let wakeup = Wakeup()

    /// Live state of one series.
    struct LiveState {
        /// The latest state of the bar not yet closed.
        var forming: Candle?
        /// The latest bar closed (written as final) from live updates.
        var lastClosed: Candle?
        /// When the latest provisional write happened.
        var lastProvisional: Date?
    }

    var live: [Series: LiveState] = [:]
    /// The open subscriptions, each a child task of ``run()`` that ends when its signal fires.
    var subscriptions: [ChartKey: OneShotSignal] = [:]
    /// Starts a subscription child in ``run()``'s task group (set while running).
    var subscriptionRequests: AsyncStream<(ChartKey, OneShotSignal)>.Continuation?
    var interrupted: Set<ChartKey> = []
    /// When each chart's current subscription was made: bars that ended before are replays, not live latency.
    var subscribedAt: [ChartKey: Date] = [:]
    var stats = Statistics()
    var latency: LatencyRecorder
    var frontCache: [String: (interval: Range<Date>, contract: Contract)] = [:]
    var derivedChecked: [Candle.Key: Candle] = [:]

    var subscriptionsValidUntil: Date?
    var isStarted = false
    var nextPeriodicHeal: Date?
    var healDue: [Date] = []
    var nextCronFiring: Date?
    var jobs: [Job] = []
    /// Per series: when the next expected bar's close is checked (its end + ``Configuration/closeGrace``).
    var nextCloseCheck: [Series: Date] = [:]
    /// Bars to fetch at their close, handed to the recovery worker (a child task of ``run()``).
    var recoveryRequests: AsyncStream<(Series, Date)>.Continuation?
    /// Wakes the job worker (a child task of ``run()``) when a job is queued.
    var jobWakes: AsyncStream<Void>.Continuation?

    /// Background work that talks to history, run one at a time.
    enum Job {
        case heal(Set<Series>)
        case cron(Date)
    }

    /// Creates a collector.
    ///
    /// - Parameters:
    ///   - source: where bars come from (Tradovate, or a scripted source in tests).
    ///   - sink: where closed bars go (usually a `BufferedCandleSink` in front of PostgreSQL or files).
    ///   - ledger: the confirmed-empty ledger (in memory by default; a ``FileConfirmedEmptyLedger`` in production).
    ///   - configuration: tuning; see ``Configuration``.
    ///   - clock: the wall clock every timer, schedule and latency uses.
    ///   - logger: where failures and heals are logged.
    /// - Throws: ``CollectorError`` with `invalidConfiguration`.
    public init(
        source: any CandleSource, sink: any CandleSink,
        ledger: any ConfirmedEmptyLedger = InMemoryConfirmedEmptyLedger(),
        configuration: Configuration = Configuration(), clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.collector", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(CollectorError) {
        self.contracts = try configuration.validated()
        self.configuration = configuration
        self.source = source
        self.sink = sink
        self.ledger = ledger
        self.clock = clock
        self.logger = logger
        self.calendar = configuration.tradingCalendar
        self.aggregator = CandleAggregator(calendar: configuration.tradingCalendar)
        self.latency = LatencyRecorder(limit: configuration.latencySampleLimit)
        (self.events, self.eventContinuation) = AsyncStream.makeStream(
            of: CollectorEvent.self, bufferingPolicy: .bufferingNewest(configuration.eventBufferSize))
        for series in configuration.series {
            stats.series[series] = SeriesStatistics()
            live[series] = LiveState()
        }
        stats.quietChartBars = configuration.quietChartBars
    }

    /// A snapshot of the counters, with the latency percentiles.
    public var statistics: Statistics {
        var snapshot = stats
        snapshot.latencyP50 = latency.percentile(0.5)
        snapshot.latencyP99 = latency.percentile(0.99)
        snapshot.latencySamples = latency.count
        return snapshot
    }

    /// The series whose live chart is quiet right now (``Statistics/quietSeries``), without building a snapshot.
    public var quietSeries: [Series] { stats.quietSeries }

    /// The charts subscribed right now.
    public var subscribedCharts: [ChartKey] {
        subscriptions.keys.sorted { ($0.series, $0.symbol) < ($1.series, $1.symbol) }
    }

    /// Collects until cancelled or gracefully shut down: heals at start, subscribes (or polls on the cron schedule),
    /// closes bars, heals periodically.
    ///
    /// - Throws: ``CollectorError`` with `alreadyRunning` when called twice.
    public func run() async throws {
        guard !isStarted else {
            throw CollectorError(.alreadyRunning, "this collector already ran; create a new one to run again")
        }
        isStarted = true
        let (requests, requestContinuation) = AsyncStream.makeStream(of: (ChartKey, OneShotSignal).self)
        let (wakes, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (recoveries, recoveryContinuation) = AsyncStream.makeStream(of: (Series, Date).self)
        subscriptionRequests = requestContinuation
        jobWakes = wakeContinuation
        recoveryRequests = recoveryContinuation
        // Every piece of work is a child of this task group: the main loop, the job worker (heals and cron polls,
        // one at a time) and one child per chart subscription; graceful shutdown cancels them all.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.workJobs(wakes) }
                group.addTask { await self.workRecoveries(recoveries) }
                group.addTask {
                    await self.loop()
                    requestContinuation.finish()
                }
                for await (chart, stop) in requests {
                    group.addTask { await runUntil(stop) { await self.consume(chart) } }
                }
                group.cancelAll()
            }
        }
        for stop in subscriptions.values { stop.fire() }
        subscriptions = [:]
        subscriptionRequests = nil
        jobWakes = nil
        wakeContinuation.finish()
        recoveryRequests = nil
        recoveryContinuation.finish()
        jobs = []
        eventContinuation.finish()
    }

    // MARK: - Main loop

    private func loop() async {
        let start = clock.now()
        logger.info(
            "collector starting",
            metadata: ["series": "\(configuration.series.count)", "mode": "\(configuration.mode)"])
        switch configuration.mode {
        case .live:
            reconcileSubscriptions(at: start)
            scheduleCloseChecks(after: start)
        case .cron(let schedule, let zone): nextCronFiring = schedule.next(after: start, in: zone)
        }
        enqueue(.heal(Set(configuration.series)))
        healDue.append(start.addingTimeInterval(configuration.settleTimeout.timeInterval))
        nextPeriodicHeal = start.addingTimeInterval(configuration.healInterval.timeInterval)

        await withTaskCancellationHandler {
            while !Task.isCancelled {
                let now = clock.now()
                await processDue(at: now)
                if Task.isCancelled { break }
                wakeup.prepare(until: nextDeadline(after: clock.now()))
                await wakeup.sleep(on: clock)
            }
        } onCancel: {
            wakeup.cancelAll()
        }
    }

    /// The earliest instant something is due.
    private func nextDeadline(after now: Date) -> Date {
        var deadline = nextPeriodicHeal ?? now.addingTimeInterval(configuration.healInterval.timeInterval)
        if let cron = nextCronFiring { deadline = min(deadline, cron) }
        if let due = healDue.min() { deadline = min(deadline, due) }
        for state in live.values {
            if let forming = state.forming {
                deadline = min(deadline, forming.end.addingTimeInterval(configuration.settleTimeout.timeInterval))
            }
        }
        if let change = subscriptionsValidUntil { deadline = min(deadline, change) }
        if let check = nextCloseCheck.values.min() { deadline = min(deadline, check) }
        return max(deadline, now)
    }

    /// Does everything due at `now`: subscription changes, settle timeouts, heals, cron firings.
    private func processDue(at now: Date) async {
        if case .live = configuration.mode, subscriptionsValidUntil.map({ $0 <= now }) ?? true {
            reconcileSubscriptions(at: now)
        }
        checkCloses(at: now)
        for series in configuration.series {
            guard let forming = live[series]?.forming,
                forming.end.addingTimeInterval(configuration.settleTimeout.timeInterval) <= now
            else { continue }
            live[series]?.forming = nil
            await close(forming, series: series)
        }
        var healSeries = false
        if let periodic = nextPeriodicHeal, periodic <= now {
            healSeries = true
            nextPeriodicHeal = now.addingTimeInterval(configuration.healInterval.timeInterval)
        }
        if healDue.contains(where: { $0 <= now }) {
            healSeries = true
            healDue.removeAll { $0 <= now }
        }
        if healSeries { enqueue(.heal(Set(configuration.series))) }
        if case .cron(let schedule, let zone) = configuration.mode, let firing = nextCronFiring, firing <= now {
            enqueue(.cron(firing))
            nextCronFiring = schedule.next(after: now, in: zone)
        }
    }

    /// Makes the loop recompute its deadline (after a new forming bar or a heal request).
    func poke(_ deadline: Date) {
        wakeup.wake(ifBefore: deadline)
    }

    // MARK: - Jobs

    func enqueue(_ job: Job) {
        if case .heal(let series) = job,
            let index = jobs.firstIndex(where: { if case .heal = $0 { true } else { false } })
        {
            if case .heal(let queued) = jobs[index] { jobs[index] = .heal(queued.union(series)) }
        } else {
            jobs.append(job)
        }
        jobWakes?.yield()
    }

    /// The job worker: runs queued jobs one at a time until cancelled.
    private func workJobs(_ wakes: AsyncStream<Void>) async {
        for await _ in wakes {
            await work()
        }
    }

    private func work() async {
        while !jobs.isEmpty, !Task.isCancelled {
            let job = jobs.removeFirst()
            switch job {
            case .heal(let series):
                for one in configuration.series where series.contains(one) {
                    if Task.isCancelled { break }
                    await heal(one)
                }
                stats.healPasses += 1
            case .cron(let firing):
                await cronFire(at: firing)
            }
        }
    }

    /// Runs one heal pass over every series now and returns when it is done (backfill tools and tests; the running
    /// collector heals by itself).
    public func healNow() async {
        for series in configuration.series { await heal(series) }
        stats.healPasses += 1
    }

    // MARK: - Contracts

    /// The front-month contract of `instrument` at `instant` (cached per roll period).
    func front(_ instrument: Instrument, at instant: Date) -> Contract {
        if let cached = frontCache[instrument.root], cached.interval.contains(instant) { return cached.contract }
        let contract = contracts.frontMonth(instrument, at: instant)
        let end = contracts.rollInstant(of: contract)
        let periods = contracts.frontMonths(instrument, from: instant.addingTimeInterval(-200 * 86_400), to: end)
        let previous = periods.last(where: { $0.contract == contract })?.interval.start ?? instant
        frontCache[instrument.root] = (previous..<end, contract)
        return contract
    }

    /// The contracts that should be subscribed at `now`: the front month, plus the next one from
    /// ``Configuration/rollLeadTime`` before the roll, plus the previous one until as long after it.
    func desiredContracts(of instrument: Instrument, at now: Date) -> [Contract] {
        let lead = configuration.rollLeadTime.timeInterval
        var result = [front(instrument, at: now)]
        for other in [
            contracts.frontMonth(instrument, at: now.addingTimeInterval(-lead)),
            contracts.frontMonth(instrument, at: now.addingTimeInterval(lead)),
        ] where !result.contains(other) {
            result.append(other)
        }
        return result
    }

    /// The next instant after `now` at which ``desiredContracts(of:at:)`` changes.
    func nextSubscriptionChange(of instrument: Instrument, after now: Date) -> Date? {
        let lead = configuration.rollLeadTime.timeInterval
        let upcoming = contracts.rollInstant(of: contracts.frontMonth(instrument, at: now.addingTimeInterval(lead)))
        let past = contracts.rollInstant(of: contracts.frontMonth(instrument, at: now.addingTimeInterval(-lead)))
        return [upcoming.addingTimeInterval(-lead), past.addingTimeInterval(lead)].filter { $0 > now }.min()
    }

    // MARK: - Events and errors

    func emit(_ event: CollectorEvent) {
        eventContinuation.yield(event)
    }

    func recordError(_ series: Series?, _ error: any Error, context: String) {
        let text = "\(context): \(error)"
        if let series {
            stats.series[series, default: SeriesStatistics()].errors += 1
            stats.series[series, default: SeriesStatistics()].lastError = text
        }
        logger.warning("\(text)", metadata: ["series": "\(series.map { "\($0)" } ?? "-")"])
        emit(.error(series: series, message: text))
    }
}

/// The main loop's sleep, which a new earlier deadline (or cancellation) cuts short.
///
/// The loop calls ``prepare(until:)`` while it still holds the actor, then ``sleep(on:)``; a ``wake(ifBefore:)``
/// that comes in between is not lost.
final class Wakeup: Sendable {
    private struct State {
        var signal: OneShotSignal?
        var deadline: Date?
        var woken = false
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Announces the deadline of the next ``sleep(on:)``.
    func prepare(until deadline: Date) {
        state.withLock { state in
            state.deadline = deadline
            state.woken = false
            state.signal = OneShotSignal()
        }
    }

    /// Sleeps on `clock` until the prepared deadline, a ``wake(ifBefore:)`` with an earlier instant, or
    /// ``cancelAll()``.
    func sleep(on clock: any WallClock) async {
        let prepared = state.withLock { state -> (Date, OneShotSignal)? in
            guard let deadline = state.deadline, let signal = state.signal else { return nil }
            if state.woken || state.cancelled { signal.fire() }
            return (deadline, signal)
        }
        guard let (deadline, signal) = prepared else { return }
        await runUntil(signal) { try? await clock.sleep(until: deadline) }
        state.withLock { state in
            state.signal = nil
            state.deadline = nil
        }
    }

    /// Ends the current (or prepared) sleep when it lasts beyond `instant`.
    func wake(ifBefore instant: Date) {
        let signal = state.withLock { state -> OneShotSignal? in
            guard let deadline = state.deadline, instant < deadline else { return nil }
            state.deadline = instant
            state.woken = true
            return state.signal
        }
        signal?.fire()
    }

    /// Ends the current sleep and every later one.
    func cancelAll() {
        let signal = state.withLock { state in
            state.cancelled = true
            return state.signal
        }
        signal?.fire()
    }
}
