public import CandleCore
public import Foundation

/// Checks stored bars against the trading calendar (`orca-run verify`) and fills the holes it finds from a candle
/// source (`orca-run verify --repair`).
///
/// ```swift
/// let verifier = Verifier(reader: .sink(sink), clock: SystemWallClock())
/// let report = try await verifier.verify(Series.seedDefaults, from: from, to: to)
/// print(report.renderTable())
/// if repair {
///     let repaired = try await verifier.repair(report, from: source, into: sink, contracts: .standard)
///     print(repaired.renderTable())
///     exit(repaired.exitCode)
/// }
/// exit(report.exitCode)
/// ```
///
/// Series are checked concurrently, at most ``Configuration/maximumConcurrency`` at a time. A series whose bars cannot
/// be read is reported with a ``SeriesVerification/failure`` (exit code 2); the others are still checked.
public struct Verifier: Sendable {
    /// The bar starts in a range that the broker is known to have no trades for (a collector's confirmed-empty
    /// ledger). They are excluded from missing.
    public typealias ConfirmedEmptyLookup = @Sendable (Series, Range<Date>) async throws -> Set<Date>

    /// How the verifier checks and repairs.
    public struct Configuration: Sendable {
        /// The schedule that says which bars must exist (default `TradingCalendar.cmeEquityIndex`).
        public var tradingCalendar: TradingCalendar
        /// Series checked or repaired at the same time (default 4; at least 1).
        public var maximumConcurrency: Int
        /// Retries of transient source errors during repair.
        public var retry: RetryPolicy

        /// Creates a configuration; every parameter has the documented default.
        public init(
            tradingCalendar: TradingCalendar = .cmeEquityIndex, maximumConcurrency: Int = 4,
            retry: RetryPolicy = RetryPolicy()
        ) {
            self.tradingCalendar = tradingCalendar
            self.maximumConcurrency = max(1, maximumConcurrency)
            self.retry = retry
        }
    }

    /// How often and how patiently repair retries a history request that failed with a transient
    /// ``CandleSourceError`` (``CandleSourceError/isTransient``: timeout, lost connection, rate limit).
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts per request, the first included (default 4; at least 1).
        public var maximumAttempts: Int
        /// Wait before the second attempt, on the injected clock (default 1 s); doubled for each further attempt.
        /// `.zero` retries at once (tests).
        public var initialDelay: Duration
        /// Upper bound of one wait (default 30 s).
        public var maximumDelay: Duration

        /// Creates a policy; every parameter has the documented default.
        public init(
            maximumAttempts: Int = 4, initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(30)
        ) {
            self.maximumAttempts = max(1, maximumAttempts)
            self.initialDelay = max(.zero, initialDelay)
            self.maximumDelay = max(.zero, maximumDelay)
        }

        /// No waiting between attempts.
        public static let immediate = RetryPolicy(initialDelay: .zero)

        /// The wait in seconds after failed attempt `attempt` (1-based).
        func delay(after attempt: Int) -> TimeInterval {
            guard initialDelay > .zero else { return 0 }
            return min(maximumDelay.timeInterval, initialDelay.timeInterval * pow(2, Double(attempt - 1)))
        }
    }

    /// Where stored bars are read from.
    public let reader: StoredCandleReader
    /// How the verifier checks and repairs.
    public let configuration: Configuration
    /// The confirmed-empty lookup, if any.
    public let confirmedEmpty: ConfirmedEmptyLookup?
    /// The source of "now" (when `verify(_:from:to:now:)` is not given one) and of waiting between retries.
    public let clock: any WallClock

    /// Creates a verifier reading through `reader`.
    public init(
        reader: StoredCandleReader, configuration: Configuration = Configuration(),
        confirmedEmpty: ConfirmedEmptyLookup? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.reader = reader
        self.configuration = configuration
        self.confirmedEmpty = confirmedEmpty
        self.clock = clock
    }

    /// Creates a verifier reading `sink` (``StoredCandleReader/sink(_:window:)``).
    public init(
        sink: any CandleSink, configuration: Configuration = Configuration(),
        confirmedEmpty: ConfirmedEmptyLookup? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.init(reader: .sink(sink), configuration: configuration, confirmedEmpty: confirmedEmpty, clock: clock)
    }

    /// Checks every series in `series` over `[from, to)` as of `now` (default: the clock's now).
    ///
    /// - Throws: ``VerificationError`` with code `invalidRequest` when `from ≥ to` or
    ///   `series` is empty, `CancellationError`. Store failures do not throw: they are reported per series.
    public func verify(_ series: [Series], from: Date, to: Date, now: Date? = nil) async throws -> VerificationReport {
        guard from < to else {
            throw VerificationError(
                .invalidRequest,
                "the range \(VerificationText.iso(from)) → \(VerificationText.iso(to)) is empty; --from must be"
                    + " before --to")
        }
        guard !series.isEmpty else {
            throw VerificationError(.invalidRequest, "no series to verify; name at least one instrument and timeframe")
        }
        let instant = now ?? clock.now()
        let results = try await boundedMap(series, limit: configuration.maximumConcurrency) { series in
            try await self.verify(series, from: from, to: to, now: instant)
        }
        return VerificationReport(from: from, to: to, now: instant, store: reader.name, series: results)
    }

    /// Checks one series over `[from, to)` as of `now`; a store failure is returned as a failed result.
    ///
    /// - Throws: `CancellationError` only.
    public func verify(_ series: Series, from: Date, to: Date, now: Date) async throws -> SeriesVerification {
        let audit = SeriesAudit(
            series: series, from: from, to: to, now: now, calendar: configuration.tradingCalendar)
        let candles: [Candle]
        do {
            candles = try await reader.candles(of: series, in: from..<to)
        } catch let error as CancellationError {
            throw error
        } catch {
            return .failed(
                series,
                VerificationError(
                    .storeUnavailable,
                    "cannot read the stored bars of \(series) from \(reader.name): \(error); check that the store is"
                        + " reachable and readable, then run verify again"))
        }
        var empty: Set<Date> = []
        if let confirmedEmpty, !audit.withoutFinal(candles).isEmpty {
            do {
                empty = try await confirmedEmpty(series, from..<to)
            } catch let error as CancellationError {
                throw error
            } catch {
                return .failed(
                    series,
                    VerificationError(
                        .confirmedEmptyFailed, "cannot read the confirmed-empty bars of \(series): \(error)"))
            }
        }
        return audit.verify(series: series, candles: candles, confirmedEmpty: empty)
    }
}

/// Maps `items` with at most `limit` calls of `body` running at once; results keep the order of `items`.
func boundedMap<Item: Sendable, Result: Sendable>(
    _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results: [Result?] = Array(repeating: nil, count: items.count)
        var next = 0
        func addNext() {
            let index = next
            let item = items[index]
            group.addTask { (index, try await body(item)) }
            next += 1
        }
        while next < min(limit, items.count) { addNext() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < items.count { addNext() }
        }
        return results.map { $0! }
    }
}
