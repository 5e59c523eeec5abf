public import CandleCore
public import Collectors
public import Foundation

/// A `CandleSource` driven by the test: history comes from candles you give it (or from a closure, e.g. a
/// `SimulatedMarket`), live updates are whatever you ``push(_:)``.
///
/// ```swift
/// let source = ScriptedCandleSource(history: CandleSeriesGenerator(...).candles)
/// let stream = try await source.live(chart)
/// await source.push(formingBar)          // arrives as .bar(formingBar)
/// await source.interrupt(reason: "test")  // .interrupted, then
/// await source.resume()                   // .resumed
/// ```
///
/// Every history request is recorded (``historyRequests``); failures can be scripted with ``failNextHistory(_:with:)``.
public actor ScriptedCandleSource: CandleSource {
    /// Answers a history request: the candles of `chart` in `range` (the source sorts and de-duplicates them).
    public typealias HistoryProvider = @Sendable (ChartKey, Range<Date>) async throws -> [Candle]

    private let provider: HistoryProvider
    private var stored: [Candle]
    private var failures: [any Error] = []
    private var subscribers: [ChartKey: [UUID: AsyncThrowingStream<LiveChartEvent, any Error>.Continuation]] = [:]
    private var isClosed = false

    /// The history requests received, in order.
    public private(set) var historyRequests: [(chart: ChartKey, range: Range<Date>)] = []
    /// The live subscriptions made so far (one entry per ``live(_:)`` call).
    public private(set) var liveSubscriptions: [ChartKey] = []

    /// A source whose history is `history` (filtered by chart symbol, instrument, timeframe and range).
    public init(history: [Candle] = []) {
        self.stored = history
        self.provider = { _, _ in [] }
    }

    /// A source whose history is computed by `provider` (e.g. from a `SimulatedMarket` as it stands at a manual
    /// clock's time). Candles added with ``addHistory(_:)`` are merged in.
    public init(provider: @escaping HistoryProvider) {
        self.stored = []
        self.provider = provider
    }

    /// Adds candles to the history (a later candle with the same key replaces an earlier one).
    public func addHistory(_ candles: [Candle]) {
        stored.append(contentsOf: candles)
    }

    /// Makes the next `errors.count` history requests fail with these errors, in order.
    public func failNextHistory(
        _ count: Int = 1, with error: any Error = CandleSourceError(.unavailable, "scripted failure")
    ) {
        failures.append(contentsOf: Array(repeating: error, count: count))
    }

    /// Number of live subscriptions currently open for `chart` (all charts when `nil`).
    public func openSubscriptions(for chart: ChartKey? = nil) -> Int {
        if let chart { return subscribers[chart]?.count ?? 0 }
        return subscribers.values.reduce(0) { $0 + $1.count }
    }

    public func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        historyRequests.append((chart, range))
        if isClosed { throw CandleSourceError(.closed, "scripted source closed", chart: chart) }
        if !failures.isEmpty { throw failures.removeFirst() }
        let computed = try await provider(chart, range)
        var byStart: [Date: Candle] = [:]
        for candle in computed + stored
        where candle.symbol == chart.symbol && candle.timeframe == chart.timeframe
            && candle.instrument == chart.instrument && range.contains(candle.start)
        {
            byStart[candle.start] = candle
        }
        return byStart.values.sorted { $0.start < $1.start }
    }

    public func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        if isClosed { throw CandleSourceError(.closed, "scripted source closed", chart: chart) }
        liveSubscriptions.append(chart)
        let id = UUID()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: LiveChartEvent.self, throwing: (any Error).self)
        subscribers[chart, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            // `onTermination` is synchronous and may run on any thread; removing the subscriber needs the actor.
            Task { await self?.remove(chart, id) }
        }
        return stream
    }

    /// Delivers `candle` as a `LiveChartEvent.bar(_:)` to every subscriber of its chart and returns how many
    /// subscribers it reached (0 when nobody subscribes to the chart).
    @discardableResult
    public func push(_ candle: Candle) -> Int {
        let chart = ChartKey(symbol: candle.symbol, instrument: candle.instrument, timeframe: candle.timeframe)
        let targets = (subscribers[chart] ?? [:]).values
        for continuation in targets { continuation.yield(.bar(candle)) }
        return targets.count
    }

    /// Delivers `.interrupted(reason)` to every subscriber and returns how many it reached.
    @discardableResult
    public func interrupt(reason: String = "scripted interruption") -> Int {
        let targets = subscribers.values.flatMap(\.values)
        for continuation in targets { continuation.yield(.interrupted(reason: reason)) }
        return targets.count
    }

    /// Delivers `.resumed` to every subscriber and returns how many it reached.
    @discardableResult
    public func resume() -> Int {
        let targets = subscribers.values.flatMap(\.values)
        for continuation in targets { continuation.yield(.resumed) }
        return targets.count
    }

    /// Forgets the recorded ``historyRequests`` (to count the requests of one phase of a test).
    public func clearHistoryRequests() {
        historyRequests = []
    }

    /// Ends every subscription with `CandleSourceError.Code.closed`; later calls throw it.
    public func close() {
        isClosed = true
        for continuation in subscribers.values.flatMap(\.values) {
            continuation.finish(throwing: CandleSourceError(.closed, "scripted source closed"))
        }
        subscribers = [:]
    }

    private func remove(_ chart: ChartKey, _ id: UUID) {
        subscribers[chart]?[id] = nil
        if subscribers[chart]?.isEmpty == true { subscribers[chart] = nil }
    }
}
