public import CandleCore
public import Foundation

extension Backfill {
    /// One series and the ranges of bar starts to backfill for it (`[lowerBound, upperBound)` each).
    public struct Target: Sendable, Hashable {
        /// The instrument × timeframe.
        public var series: Series
        /// The ranges of bar starts to fetch; overlapping ranges are merged when the backfill plans its chunks.
        public var ranges: [Range<Date>]

        /// A target of one or more ranges.
        public init(series: Series, ranges: [Range<Date>]) {
            self.series = series
            self.ranges = ranges
        }
    }

    /// How much history one request asks for.
    public enum ChunkSize: Sendable, Hashable, CustomStringConvertible {
        /// A fixed span of calendar days (weekends and holidays included).
        case days(Int)
        /// The span of this many bars of the series' timeframe, in calendar time (e.g. 10 000 one-minute bars ≈ 6.9
        /// days); a chunk returns fewer bars because the market closes every day.
        case bars(Int)

        /// The chunk span, in whole seconds, for `timeframe`.
        public func seconds(for timeframe: Timeframe) -> Int64 {
            switch self {
            case .days(let days): Int64(days) * 86_400
            case .bars(let bars): Int64(bars) * Int64(timeframe.seconds)
            }
        }

        public var description: String {
            switch self {
            case .days(let days): "\(days) days"
            case .bars(let bars): "\(bars) bars"
            }
        }
    }

    /// Retries of transient failures: exponential backoff on the injected clock, and longer pauses after a rate
    /// limit (HTTP 429 or a captcha penalty), during which no worker sends a request.
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts per chunk, the first included (≥ 1).
        public var maxAttempts: Int
        /// The wait before the second attempt.
        public var initialDelay: Duration
        /// The factor applied to the wait after each failed attempt.
        public var multiplier: Double
        /// The longest wait between attempts.
        public var maxDelay: Duration
        /// The pause after a `rateLimited` error; doubled on each further rate limit of the
        /// same chunk (up to ``maxRateLimitDelay``). Every worker waits until the pause is over.
        public var rateLimitDelay: Duration
        /// The longest pause after a rate limit.
        public var maxRateLimitDelay: Duration

        /// Creates a policy. The defaults: 6 attempts, 1 s doubling up to 60 s; 30 s after a rate limit, up to 10 min.
        public init(
            maxAttempts: Int = 6, initialDelay: Duration = .seconds(1), multiplier: Double = 2,
            maxDelay: Duration = .seconds(60), rateLimitDelay: Duration = .seconds(30),
            maxRateLimitDelay: Duration = .seconds(600)
        ) {
            self.maxAttempts = maxAttempts
            self.initialDelay = initialDelay
            self.multiplier = multiplier
            self.maxDelay = maxDelay
            self.rateLimitDelay = rateLimitDelay
            self.maxRateLimitDelay = maxRateLimitDelay
        }

        /// No waiting at all (tests): every retry is immediate.
        public static let immediate = RetryPolicy(
            initialDelay: .zero, maxDelay: .zero, rateLimitDelay: .zero, maxRateLimitDelay: .zero)

        /// The wait after failed attempt number `attempt` (1-based) with a transient, non-rate-limit error.
        public func delay(afterAttempt attempt: Int) -> Duration {
            .interval(
                min(maxDelay.timeInterval, initialDelay.timeInterval * pow(multiplier, Double(max(0, attempt - 1)))))
        }

        /// The pause after the `count`-th rate limit (1-based) of one chunk.
        public func rateLimitPause(count: Int) -> Duration {
            .interval(
                min(maxRateLimitDelay.timeInterval, rateLimitDelay.timeInterval * pow(2, Double(max(0, count - 1)))))
        }
    }

    /// Which chart a chunk asks the source for.
    public enum ChartPolicy: Sendable, Hashable {
        /// Always the front-month contract's chart (`NQZ5`).
        case contract
        /// The contract's chart while it trades; once its last trade has passed, the continuous chart (`@NQ`),
        /// because Tradovate returns nothing for expired contracts (protocol §5.8). The bars are stored under the
        /// contract the chunk belongs to (the front month by ``Configuration/contractCalendar``); when the broker's
        /// continuous chart rolls on another day, bars next to a roll are the other contract's prices.
        case continuousWhenExpired
    }

    /// What to do with a checkpoint file written by a backfill with other parameters.
    public enum CheckpointMismatchPolicy: Sendable, Hashable {
        /// Refuse to start with `checkpointMismatch` unless the series, the start of every
        /// range and the roll offset are the same; only a later end (`--to now` on a later day) is accepted, and
        /// extends the checkpoint.
        case refuse
        /// Accept any checkpoint: keep what it records as complete (those bars are in the sink) and add the new
        /// series and ranges.
        case extend
    }

    /// What to backfill and how.
    public struct Configuration: Sendable {
        /// The series and ranges to fetch.
        public var targets: [Target]
        /// The span of one history request (split further at contract rolls). Default: 7 days.
        public var chunkSize: ChunkSize
        /// Requests in flight at once, over all series (≥ 1). Default 4.
        public var maxConcurrentRequests: Int
        /// Which contract is front month at every instant; each chunk asks for that contract's chart.
        public var contractCalendar: ContractCalendar
        /// The trading calendar, for ``skipExisting`` (which bars must exist).
        public var tradingCalendar: TradingCalendar
        /// Where completed chunks are recorded, so a killed backfill resumes where it stopped; `nil`: no checkpoint.
        public var checkpointFile: URL?
        /// What to do when ``checkpointFile`` was written with other parameters.
        public var checkpointMismatch: CheckpointMismatchPolicy
        /// Retries of transient failures.
        public var retry: RetryPolicy
        /// Fetch only chunks in which the sink lacks a final bar the trading calendar expects.
        public var skipExisting: Bool
        /// Which chart each chunk requests. Default ``ChartPolicy/contract``; use
        /// ``ChartPolicy/continuousWhenExpired`` with Tradovate.
        public var charts: ChartPolicy
        /// Call the sink's `flush()` before recording a chunk as complete (needed for sinks that acknowledge writes
        /// before they are durable, e.g. a file sink without sync per write). Default `true`.
        public var flushBeforeCheckpoint: Bool
        /// The window of the moving bar and chunk rates in ``BackfillProgress``. Default 10 s.
        public var rateWindow: Duration

        /// A backfill of `series`, each over `[from, to)`.
        ///
        /// Instants are rounded up to whole seconds (bars start on whole minutes, so no bar moves in or out).
        public init(
            series: [Series], from: Date, to: Date, chunkSize: ChunkSize = .days(7), maxConcurrentRequests: Int = 4,
            contractCalendar: ContractCalendar = .standard, tradingCalendar: TradingCalendar = .cmeEquityIndex,
            checkpointFile: URL? = nil, checkpointMismatch: CheckpointMismatchPolicy = .refuse,
            retry: RetryPolicy = RetryPolicy(), skipExisting: Bool = false
        ) {
            self.init(
                targets: series.map { Target(series: $0, ranges: [from..<max(from, to)]) }, chunkSize: chunkSize,
                maxConcurrentRequests: maxConcurrentRequests, contractCalendar: contractCalendar,
                tradingCalendar: tradingCalendar, checkpointFile: checkpointFile,
                checkpointMismatch: checkpointMismatch, retry: retry, skipExisting: skipExisting)
        }

        /// A backfill of explicit ranges per series (e.g. the missing ranges `verify` found).
        public init(
            targets: [Target], chunkSize: ChunkSize = .days(7), maxConcurrentRequests: Int = 4,
            contractCalendar: ContractCalendar = .standard, tradingCalendar: TradingCalendar = .cmeEquityIndex,
            checkpointFile: URL? = nil, checkpointMismatch: CheckpointMismatchPolicy = .refuse,
            retry: RetryPolicy = RetryPolicy(), skipExisting: Bool = false
        ) {
            self.targets = targets
            self.chunkSize = chunkSize
            self.maxConcurrentRequests = maxConcurrentRequests
            self.contractCalendar = contractCalendar
            self.tradingCalendar = tradingCalendar
            self.checkpointFile = checkpointFile
            self.checkpointMismatch = checkpointMismatch
            self.retry = retry
            self.skipExisting = skipExisting
            self.charts = .contract
            self.flushBeforeCheckpoint = true
            self.rateWindow = .seconds(10)
        }

        /// A repair: fetch exactly the `missing` ranges of each series (what `verify --repair` found), without a
        /// checkpoint.
        public static func repair(
            missing: [Series: [Range<Date>]], chunkSize: ChunkSize = .days(7), maxConcurrentRequests: Int = 4,
            contractCalendar: ContractCalendar = .standard
        ) -> Configuration {
            Configuration(
                targets: missing.keys.sorted().map { Target(series: $0, ranges: missing[$0] ?? []) },
                chunkSize: chunkSize, maxConcurrentRequests: maxConcurrentRequests, contractCalendar: contractCalendar)
        }

        /// Checks the configuration.
        /// - Throws: ``BackfillError`` with code `invalidConfiguration`.
        public func validate() throws(BackfillError) {
            func invalid(_ message: String) -> BackfillError { BackfillError(.invalidConfiguration, message) }
            guard !targets.isEmpty else { throw invalid("no series to backfill: name at least one series") }
            let duplicates = Dictionary(grouping: targets, by: \.series).filter { $0.value.count > 1 }.keys
            guard duplicates.isEmpty else {
                throw invalid("series \(duplicates.sorted().map(\.description)) listed twice: list each series once")
            }
            for target in targets where target.ranges.allSatisfy(\.isEmpty) {
                throw invalid("the range of \(target.series) is empty: the end must be after the start")
            }
            guard maxConcurrentRequests >= 1 else {
                throw invalid("maxConcurrentRequests is \(maxConcurrentRequests): it must be at least 1")
            }
            for target in targets where chunkSize.seconds(for: target.series.timeframe) < 60 {
                throw invalid("chunk size \(chunkSize) is shorter than a minute for \(target.series): use a larger one")
            }
            guard retry.maxAttempts >= 1 else {
                throw invalid("retry.maxAttempts is \(retry.maxAttempts): it must be at least 1")
            }
            guard rateWindow > .zero else { throw invalid("rateWindow must be positive") }
        }
    }
}
