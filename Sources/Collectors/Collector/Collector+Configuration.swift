public import CandleCore
public import Foundation

extension Collector {
    /// How the collector gets closed bars.
    public enum Mode: Sendable, Hashable {
        /// Live chart subscriptions (the default): each bar is written within ``Configuration/settleTimeout`` of its
        /// end.
        case live
        /// No subscriptions: at each firing of `schedule` (evaluated on the wall clock of `timeZone`) the recent window
        /// (``Configuration/cronWindowBars`` bars per series) is fetched from history and its closed bars are written,
        /// like the old pg_cron job. Healing runs as in live mode.
        case cron(CronSchedule, timeZone: TimeZone)
    }

    /// Tuning. Every default is what production should use; see `Docs/collector.md` for the table.
    public struct Configuration: Sendable {
        /// The series to collect (default `Series.seedDefaults`: NQ, MNQ, ES, MES × 5, 15, 30, 60 minutes).
        public var series: [Series]
        /// Live subscriptions or cron polling (default ``Mode/live``).
        public var mode: Mode
        /// The market's sessions: which bars must exist (default `TradingCalendar.cmeEquityIndex`).
        public var tradingCalendar: TradingCalendar
        /// Calendar days between the roll date and expiry, for the front-month rule (default 8, 0…60).
        public var rollDaysBeforeExpiry: Int
        /// How long after a bar's end its last received state is taken as final when no newer bar and no update at or
        /// after the end arrived (default 1.5 s).
        public var settleTimeout: Duration
        /// How long after each expected bar's end (per the calendar) a bar that no newer live update closed is
        /// fetched from history at once and written (default 1 s; `.zero` turns this off and leaves such bars to the
        /// settle timeout and the heals). A live feed that goes quiet — a chart subscription that stops sending
        /// while the socket stays up, or a server that sends a bar only with its completed minutes — then loses no
        /// bar and delays none by more than this plus the history round trip.
        public var closeGrace: Duration
        /// A chart whose bars have to be fetched from history this many expected bars in a row (the live feed sent
        /// nothing for them though history has them) is subscribed again (default 3).
        public var quietChartBars: Int
        /// Write forming bars with `isFinal = false` as they change (default `false`); the final bar follows.
        public var writeProvisional: Bool
        /// At most one provisional write per series in this span (default 5 s).
        public var provisionalInterval: Duration
        /// How long before a roll instant the next contract is subscribed, and after it the old one is dropped
        /// (default 60 s).
        public var rollLeadTime: Duration
        /// How far back healing compares the sink with the calendar (default 3 days).
        public var healLookBack: Duration
        /// Time between periodic heals (default 15 min). Heals also run at start and after every reconnect.
        public var healInterval: Duration
        /// The last K closed bars per series fetched again on every heal to catch late revisions (default 3; 0 = off).
        public var revisionWindowBars: Int
        /// A bar that history does not return is recorded as confirmed empty only once its end is at least this long
        /// in the past (default 600 s), so a broker that lags behind real time is not mistaken for "no trades".
        public var emptyConfirmationDelay: Duration
        /// First delay after a transient source failure (default 1 s); doubles per attempt.
        public var retryInitialDelay: Duration
        /// Longest delay between attempts (default 60 s).
        public var retryMaximumDelay: Duration
        /// Attempts per history request before the failure is counted and the series goes on (default 6).
        public var retryAttempts: Int
        /// Build 15/30/60-minute bars from the stored base bars and compare them with the broker's (default `false`).
        /// Mismatches are logged and counted, never written.
        public var checkDerivedTimeframes: Bool
        /// The timeframe derived bars are built from (default 5 minutes).
        public var derivedBaseTimeframe: Timeframe
        /// Bars per series fetched at each cron firing (default 3).
        public var cronWindowBars: Int
        /// Latency samples kept for the percentiles (default 10 000, the most recent).
        public var latencySampleLimit: Int
        /// Events buffered for a slow ``Collector/events`` reader before the oldest are dropped (default 10 000).
        public var eventBufferSize: Int

        /// Creates a configuration; every parameter has the documented default.
        public init(
            series: [Series] = Series.seedDefaults,
            mode: Mode = .live,
            tradingCalendar: TradingCalendar = .cmeEquityIndex,
            rollDaysBeforeExpiry: Int = 8,
            settleTimeout: Duration = .milliseconds(1500),
            closeGrace: Duration = .seconds(1),
            quietChartBars: Int = 3,
            writeProvisional: Bool = false,
            provisionalInterval: Duration = .seconds(5),
            rollLeadTime: Duration = .seconds(60),
            healLookBack: Duration = .seconds(3 * 86_400),
            healInterval: Duration = .seconds(900),
            revisionWindowBars: Int = 3,
            emptyConfirmationDelay: Duration = .seconds(600),
            retryInitialDelay: Duration = .seconds(1),
            retryMaximumDelay: Duration = .seconds(60),
            retryAttempts: Int = 6,
            checkDerivedTimeframes: Bool = false,
            derivedBaseTimeframe: Timeframe = .fiveMinutes,
            cronWindowBars: Int = 3,
            latencySampleLimit: Int = 10_000,
            eventBufferSize: Int = 10_000
        ) {
            self.series = series
            self.mode = mode
            self.tradingCalendar = tradingCalendar
            self.rollDaysBeforeExpiry = rollDaysBeforeExpiry
            self.settleTimeout = settleTimeout
            self.closeGrace = closeGrace
            self.quietChartBars = quietChartBars
            self.writeProvisional = writeProvisional
            self.provisionalInterval = provisionalInterval
            self.rollLeadTime = rollLeadTime
            self.healLookBack = healLookBack
            self.healInterval = healInterval
            self.revisionWindowBars = revisionWindowBars
            self.emptyConfirmationDelay = emptyConfirmationDelay
            self.retryInitialDelay = retryInitialDelay
            self.retryMaximumDelay = retryMaximumDelay
            self.retryAttempts = retryAttempts
            self.checkDerivedTimeframes = checkDerivedTimeframes
            self.derivedBaseTimeframe = derivedBaseTimeframe
            self.cronWindowBars = cronWindowBars
            self.latencySampleLimit = latencySampleLimit
            self.eventBufferSize = eventBufferSize
        }

        /// Checks every value and builds the contract calendar.
        func validated() throws(CollectorError) -> ContractCalendar {
            func check(_ ok: Bool, _ message: String) throws(CollectorError) {
                if !ok { throw CollectorError(.invalidConfiguration, message) }
            }
            try check(!series.isEmpty, "series is empty: name at least one instrument × timeframe")
            try check(Set(series).count == series.count, "series lists a series twice")
            try check(settleTimeout > .zero, "settleTimeout must be a positive number of seconds")
            try check(provisionalInterval >= .zero, "provisionalInterval must not be negative")
            try check(
                closeGrace >= .zero && closeGrace < .seconds(3600), "closeGrace must be within 0 s … 1 hour")
            try check(quietChartBars >= 1, "quietChartBars must be at least 1")
            try check(
                rollLeadTime >= .zero && rollLeadTime < .seconds(86_400), "rollLeadTime must be within 0 s … 1 day")
            try check(healLookBack > .zero, "healLookBack must be positive")
            try check(healInterval >= .seconds(1), "healInterval must be at least 1 second")
            try check(revisionWindowBars >= 0, "revisionWindowBars must not be negative")
            try check(emptyConfirmationDelay >= .zero, "emptyConfirmationDelay must not be negative")
            try check(retryInitialDelay > .zero, "retryInitialDelay must be positive")
            try check(retryMaximumDelay >= retryInitialDelay, "retryMaximumDelay must be ≥ retryInitialDelay")
            try check(retryAttempts >= 1, "retryAttempts must be at least 1")
            try check(cronWindowBars >= 1, "cronWindowBars must be at least 1")
            try check(latencySampleLimit >= 1, "latencySampleLimit must be at least 1")
            try check(eventBufferSize >= 1, "eventBufferSize must be at least 1")
            do {
                return try ContractCalendar(rollDaysBeforeExpiry: rollDaysBeforeExpiry)
            } catch {
                throw CollectorError(.invalidConfiguration, "rollDaysBeforeExpiry: \(error.message)")
            }
        }
    }
}
