public import CandleCore
public import Foundation
public import TokenStore

/// What `orca-run schedule` prints: the configured series with their next bar closes, front contracts and rolls, how
/// bars are collected, and when each login's token is renewed.
///
/// Built by ``make(at:series:tokens:renewalMargin:tradingCalendar:contractCalendar:collectionCron:count:notes:)``, a
/// pure function of its arguments (no clock, no I/O); the token store is read separately
/// (``TokenStoreObservation/read(configuration:clock:)``). Renders as a table (``table()``) or JSON (``json(prettyPrinted:)``).
/// Never holds a secret: tokens appear only as their expiry.
public struct SchedulePlan: Sendable, Hashable, Codable {
    /// The instant the plan starts from.
    public var at: Date
    /// The market at ``at``.
    public var market: Market
    /// How bars are collected (live subscriptions or a cron schedule).
    public var collection: Collection
    /// One entry per configured series, in configuration order.
    public var series: [SeriesPlan]
    /// Where tokens live and when each login's token is renewed.
    public var tokens: Tokens
    /// Remarks worth printing above the tables (e.g. the embedded simulator is in use).
    public var notes: [String]

    /// The market's state at the plan's instant.
    public struct Market: Sendable, Hashable, Codable {
        /// Whether the market is open.
        public var open: Bool
        /// The next close or halt (`nil` when none within 30 days).
        public var nextClose: Date?
        /// The next open (`nil` when none within 30 days).
        public var nextOpen: Date?

        /// Creates a market entry.
        public init(open: Bool, nextClose: Date?, nextOpen: Date?) {
            self.open = open
            self.nextClose = nextClose
            self.nextOpen = nextOpen
        }
    }

    /// How the collector gets closed bars.
    public struct Collection: Sendable, Hashable, Codable {
        /// The `collector.cron` expression, or `nil` for live chart subscriptions (the default).
        public var cron: String?
        /// The cron schedule's next firings (UTC, as the daemon evaluates it); empty for live subscriptions.
        public var nextFirings: [Date]

        /// Creates a collection entry.
        public init(cron: String?, nextFirings: [Date]) {
            self.cron = cron
            self.nextFirings = nextFirings
        }
    }

    /// One series: its contract and roll, and its next bar closes.
    public struct SeriesPlan: Sendable, Hashable, Codable {
        /// `NQ 5min`.
        public var series: String
        /// The instrument root (`NQ`).
        public var instrument: String
        /// The timeframe label (`5min`).
        public var timeframe: String
        /// The front-month contract at the plan's instant (`NQZ6`).
        public var frontContract: String
        /// When the next contract becomes the front month (18:00 New York on the eve of the roll date).
        public var nextRoll: Date
        /// The contract it rolls to (`NQH7`).
        public var nextContract: String
        /// The next instants at which a bar of this series is complete, strictly after the plan's instant.
        public var nextCloses: [Date]

        /// Creates a series entry.
        public init(
            series: String, instrument: String, timeframe: String, frontContract: String, nextRoll: Date,
            nextContract: String, nextCloses: [Date]
        ) {
            self.series = series
            self.instrument = instrument
            self.timeframe = timeframe
            self.frontContract = frontContract
            self.nextRoll = nextRoll
            self.nextContract = nextContract
            self.nextCloses = nextCloses
        }
    }

    /// Where tokens live and when each login's token is renewed.
    public struct Tokens: Sendable, Hashable, Codable {
        /// The shared store (a Redis URL without its password), or `nil` when tokens live in the daemon's memory.
        public var store: String?
        /// Why the store could not be read, when it could not (never a secret).
        public var storeError: String?
        /// Renewal happens this many seconds before a token's expiry (`TokenRefresher.Configuration.renewalMargin`).
        public var renewalMarginSeconds: TimeInterval
        /// One entry per login whose token is kept fresh.
        public var logins: [LoginPlan]

        /// Creates a tokens entry.
        public init(store: String?, storeError: String?, renewalMarginSeconds: TimeInterval, logins: [LoginPlan]) {
            self.store = store
            self.storeError = storeError
            self.renewalMarginSeconds = renewalMarginSeconds
            self.logins = logins
        }
    }

    /// One login's token and its planned renewal.
    public struct LoginPlan: Sendable, Hashable, Codable {
        /// The login name.
        public var login: String
        /// When its stored token expires, `nil` when none is stored or the store is unknown or unreadable.
        public var expirationTime: Date?
        /// When the refresher renews it (`expirationTime − renewalMargin`; the plan's instant when already due),
        /// `nil` when it logs in at start or the store is unreadable.
        public var renewalTime: Date?
        /// Which case applies.
        public var renewal: Renewal

        /// Creates a login entry.
        public init(login: String, expirationTime: Date?, renewalTime: Date?, renewal: Renewal) {
            self.login = login
            self.expirationTime = expirationTime
            self.renewalTime = renewalTime
            self.renewal = renewal
        }
    }

    /// When a login's token is renewed.
    public enum Renewal: String, Sendable, Hashable, Codable, CaseIterable {
        /// At ``LoginPlan/renewalTime`` = expiry − margin, which is after the plan's instant.
        case scheduled
        /// Now: less than the margin is left before expiry.
        case due
        /// The token has expired by the plan's instant: it cannot be renewed, the refresher logs in again.
        case expired
        /// No token is stored (or tokens live only in the daemon's memory): the refresher logs in when it starts.
        case atStart
        /// The token store could not be read.
        case unknown
    }

    /// Creates a plan from its parts.
    public init(
        at: Date, market: Market, collection: Collection, series: [SeriesPlan], tokens: Tokens, notes: [String] = []
    ) {
        self.at = at
        self.market = market
        self.collection = collection
        self.series = series
        self.tokens = tokens
        self.notes = notes
    }
}

/// What the token store holds for the logins whose tokens are kept fresh (the input of the plan's token section).
public struct TokenStoreObservation: Sendable, Hashable {
    /// The shared store (a password-free description such as `redis://127.0.0.1:6379/0`), or `nil` when tokens live
    /// only in the daemon's memory.
    public var store: String?
    /// The logins, in configuration order.
    public var logins: [String]
    /// What the store holds for each login (logins missing here have no token).
    public var tokens: [TokenObservation]
    /// Why the store could not be read (never a secret).
    public var error: String?

    /// Creates an observation.
    public init(store: String?, logins: [String], tokens: [TokenObservation] = [], error: String? = nil) {
        self.store = store
        self.logins = logins
        self.tokens = tokens
        self.error = error
    }

    /// No shared store: tokens live in the daemon's memory, so nothing can be read from outside it.
    public static func memory(logins: [String]) -> TokenStoreObservation {
        TokenStoreObservation(store: nil, logins: logins)
    }
}

extension SchedulePlan {
    /// Builds the plan; a pure function of its arguments.
    ///
    /// - Parameters:
    ///   - now: the instant the plan starts from.
    ///   - series: the configured series (`OrcaConfiguration.Collector.series`).
    ///   - tokens: what the token store holds.
    ///   - renewalMargin: how long before expiry the refresher renews (default: `TokenRefresher`'s, 15 min).
    ///   - tradingCalendar: the sessions; bars that would close while the market is shut are skipped.
    ///   - contractCalendar: expiries and rolls (`OrcaConfiguration.Collector.contractCalendar`).
    ///   - collectionCron: `collector.cron`, when the collector polls on a schedule instead of subscribing.
    ///   - count: how many bar closes (and cron firings) to list per line; at least 1.
    ///   - notes: remarks printed above the tables.
    public static func make(
        at now: Date, series: [Series], tokens: TokenStoreObservation,
        renewalMargin: Duration = TokenRefresher.Configuration().renewalMargin,
        tradingCalendar: TradingCalendar = .cmeEquityIndex, contractCalendar: ContractCalendar = .standard,
        collectionCron: CronSchedule? = nil, count: Int = 4, notes: [String] = []
    ) -> SchedulePlan {
        let count = max(1, count)
        let market = Market(
            open: tradingCalendar.isOpen(at: now), nextClose: tradingCalendar.nextClose(after: now),
            nextOpen: tradingCalendar.nextOpen(after: now))
        let collection = Collection(
            cron: collectionCron?.expression,
            nextFirings: collectionCron.map { Array($0.firings(after: now, in: .gmt).prefix(count)) } ?? [])
        let entries = series.map { series in
            let front = contractCalendar.frontMonth(series.instrument, at: now)
            return SeriesPlan(
                series: series.description, instrument: series.instrument.root, timeframe: series.timeframe.label,
                frontContract: front.symbol, nextRoll: contractCalendar.rollInstant(of: front),
                nextContract: contractCalendar.nextContract(after: front, for: series.instrument).symbol,
                nextCloses: nextBarCloses(series, after: now, count: count, calendar: tradingCalendar))
        }
        return SchedulePlan(
            at: now, market: market, collection: collection, series: entries,
            tokens: tokenPlan(tokens, now: now, renewalMargin: renewalMargin.timeInterval), notes: notes)
    }

    /// The next `count` instants strictly after `now` at which a bar of `series` is complete, on `calendar`.
    ///
    /// A bar is complete at its grid end, or earlier when the market shuts inside it (a 30-minute bar at a 13:15
    /// early close is complete at 13:15); a bar whose whole interval falls while the market is shut does not exist
    /// and is skipped. A bar that straddles a halt and reopens (only timeframes over 60 minutes) is complete when the
    /// last session overlapping it closes, or at its grid end. Searches up to 70 days ahead.
    public static func nextBarCloses(
        _ series: Series, after now: Date, count: Int, calendar: TradingCalendar = .cmeEquityIndex
    ) -> [Date] {
        let timeframe = series.timeframe
        var result: [Date] = []
        var from = timeframe.barStart(containing: now)
        let window: TimeInterval = 14 * 86_400
        for _ in 0..<5 where result.count < count {
            let to = from.addingTimeInterval(window)
            let sessions = calendar.sessions(from: from, to: to.addingTimeInterval(timeframe.duration))
            for start in calendar.expectedBars(series.instrument, timeframe, from: from, to: to) {
                let end = timeframe.barEnd(startingAt: start)
                let lastClose = sessions.last { $0.open < end && $0.close > start }?.close ?? end
                let close = min(end, lastClose)
                guard close > now else { continue }
                result.append(close)
                if result.count == count { break }
            }
            from = to
        }
        return result
    }

    private static func tokenPlan(
        _ observation: TokenStoreObservation, now: Date, renewalMargin: TimeInterval
    ) -> Tokens {
        let byLogin = Dictionary(observation.tokens.map { ($0.login, $0) }) { first, _ in first }
        let logins = observation.logins.map { login -> LoginPlan in
            if observation.store == nil {
                return LoginPlan(login: login, expirationTime: nil, renewalTime: nil, renewal: .atStart)
            }
            if observation.error != nil {
                return LoginPlan(login: login, expirationTime: nil, renewalTime: nil, renewal: .unknown)
            }
            guard let expiry = byLogin[login]?.expirationTime else {
                return LoginPlan(login: login, expirationTime: nil, renewalTime: nil, renewal: .atStart)
            }
            if expiry <= now {
                return LoginPlan(login: login, expirationTime: expiry, renewalTime: nil, renewal: .expired)
            }
            let renewal = expiry.addingTimeInterval(-renewalMargin)
            if renewal <= now {
                return LoginPlan(login: login, expirationTime: expiry, renewalTime: now, renewal: .due)
            }
            return LoginPlan(login: login, expirationTime: expiry, renewalTime: renewal, renewal: .scheduled)
        }
        return Tokens(
            store: observation.store, storeError: observation.error, renewalMarginSeconds: renewalMargin,
            logins: logins)
    }
}
