public import CandleCore
public import Foundation
public import Logging
public import ServiceLifecycle

/// Keeps one fresh Tradovate token per login, renewed once per lifetime, shared through a ``TokenProvider``.
///
/// - **When**: a token is renewed when less than ``Configuration/renewalMargin`` (default 15 min) is left before the
///   server's `expirationTime` — never on a guessed lifetime.
/// - **Once per process** (single-flight): concurrent ``token(for:)`` callers share one renewal.
/// - **Once across processes**: with a ``TokenLocking`` store (Redis), the renewal runs under the lock
///   `renew:<login>` (`SET NX PX`, owner-checked release); the other processes wait and pick up the new token from the
///   store.
/// - **Expired or revoked** tokens are replaced by a fresh login with the credentials (an expired token cannot be
///   renewed). Penalty tickets are waited out by the auth client; a captcha stops logins for that login for
///   ``Configuration/captchaPause``; HTTP 429 and other failures back off exponentially (honouring `Retry-After`).
/// - **Budget guard**: at most ``Configuration/maximumRenewalsPerHour`` renewals per login in any rolling hour (logged
///   when it bites), well under Tradovate's 15 per hour per IP. When the guard refuses and the token would expire
///   within ``Configuration/budgetLoginMargin`` (default 180 s), the refresher logs in again instead — at most
///   ``Configuration/maximumBudgetLoginsPerHour`` times per login in any rolling hour (default 2, under Tradovate's 5
///   logins per hour and its 2-session cap) — so collection never sees an expired token.
/// - **Storage down**: when the store (Redis) fails, the refresher keeps serving and renewing its in-memory copy and
///   writes it back as soon as the store answers again.
/// - **Storage lost its keys**: every ``Configuration/reconcileInterval`` (default 10 s) — and every second while the
///   store fails — each login's keys are checked against the token held in memory
///   (``TokenProvider/reconcile(_:aliases:)``); missing keys, or keys holding another, older token, are written again
///   with the TTL left until the server's expiry (a Redis restarted empty, a failover, a `FLUSHALL`). Counted in
///   ``Statistics/keysRestored``, logged as a warning. A newer token found in the store (renewed by another process)
///   is adopted instead.
///
/// Run it in a `ServiceGroup`: ``run()`` returns on cancellation or graceful shutdown.
public actor TokenRefresher: Service {
    /// Tuning; every default is what production should use.
    public struct Configuration: Sendable {
        /// Renew when less than this is left (default 15 min).
        public var renewalMargin: Duration
        /// Lifetime of the cross-process renewal lock (default 30 s).
        public var lockTTL: Duration
        /// How often a process waiting for another's renewal looks at the store (default 0.25 s).
        public var lockPollInterval: Duration
        /// Renewals allowed per login in any rolling hour (default 4).
        public var maximumRenewalsPerHour: Int
        /// When the renewal budget is spent and less than this is left, log in again instead (default 180 s).
        public var budgetLoginMargin: Duration
        /// Logins per login in any rolling hour that may stand in for a refused renewal (default 2).
        public var maximumBudgetLoginsPerHour: Int
        /// First retry delay after a failure (default 5 s); doubles per failure.
        public var retryInitialDelay: Duration
        /// Longest retry delay (default 300 s).
        public var retryMaximumDelay: Duration
        /// How long logins stop after a captcha (default 3600 s = 1 h).
        public var captchaPause: Duration
        /// How often a store that failed is retried (default 30 s).
        public var storageRetryInterval: Duration
        /// How often every login's keys in the store are checked and lost ones written again (default 10 s; `nil`
        /// turns the check off).
        public var reconcileInterval: Duration?
        /// How often the check is retried while the store fails (default 1 s), so keys are back within about a
        /// second of the store answering again.
        public var reconcileRetryInterval: Duration

        /// Creates a configuration with the defaults above.
        public init(
            renewalMargin: Duration = .seconds(900), lockTTL: Duration = .seconds(30),
            lockPollInterval: Duration = .milliseconds(250), maximumRenewalsPerHour: Int = 4,
            retryInitialDelay: Duration = .seconds(5), retryMaximumDelay: Duration = .seconds(300),
            captchaPause: Duration = .seconds(3600), storageRetryInterval: Duration = .seconds(30),
            reconcileInterval: Duration? = .seconds(10), reconcileRetryInterval: Duration = .seconds(1),
            budgetLoginMargin: Duration = .seconds(180), maximumBudgetLoginsPerHour: Int = 2
        ) {
            self.renewalMargin = renewalMargin
            self.lockTTL = lockTTL
            self.lockPollInterval = lockPollInterval
            self.maximumRenewalsPerHour = maximumRenewalsPerHour
            self.retryInitialDelay = retryInitialDelay
            self.retryMaximumDelay = retryMaximumDelay
            self.captchaPause = captchaPause
            self.storageRetryInterval = storageRetryInterval
            self.reconcileInterval = reconcileInterval
            self.reconcileRetryInterval = reconcileRetryInterval
            self.budgetLoginMargin = budgetLoginMargin
            self.maximumBudgetLoginsPerHour = maximumBudgetLoginsPerHour
        }
    }

    /// Where a login's current token came from.
    public enum TokenSource: String, Sendable, Hashable {
        /// This process logged in (`accesstokenrequest`).
        case login
        /// This process renewed it (`renewaccesstoken`).
        case renewal
        /// It was read from the store: another process (or an earlier run) obtained it.
        case store
    }

    /// Counters since start, for health and metrics.
    public struct Statistics: Sendable, Hashable {
        /// Successful `renewaccesstoken` calls.
        public var renewals = 0
        /// Successful `accesstokenrequest` calls.
        public var logins = 0
        /// Tokens adopted from the store (renewed by another process).
        public var adopted = 0
        /// Renewals refused by the budget guard.
        public var budgetRefusals = 0
        /// Logins made because the budget guard refused a renewal and the token was about to expire.
        public var budgetLogins = 0
        /// Failed refresh attempts.
        public var failures = 0
        /// Store reads or writes that failed.
        public var storageFailures = 0
        /// The last failure's text, per login (never a secret).
        public var lastError: [String: String] = [:]
        /// Keys the store had lost (or held another token in) and that were written again from memory.
        public var keysRestored = 0
        /// When keys of each login were last written again, and how many.
        public var lastRestoration: [String: KeyRestoration] = [:]
        /// Whether the last check of the store's keys reached the store (`nil` before the first check).
        public var storeReachable: Bool?
    }

    /// One rewrite of a login's lost keys.
    public struct KeyRestoration: Sendable, Hashable {
        /// When the keys were written again.
        public var at: Date
        /// The keys written (store names, e.g. `token:PA1`; never a token value).
        public var keys: [String]
    }

    /// The settings in use.
    public nonisolated let configuration: Configuration
    private let credentials: [String: TradovateCredentials]
    private let order: [String]
    private let auth: any TradovateAuthenticating
    private let store: any TokenProvider
    private let locks: (any TokenLocking)?
    private let clock: any WallClock
    private let logger: Logger

    private var cache: [String: Token] = [:]
    private var sources: [String: TokenSource] = [:]
    private var inflight: [String: Task<Token, any Error>] = [:]
    private var renewalTimes: [String: [Date]] = [:]
    private var budgetLoginTimes: [String: [Date]] = [:]
    private var captchaUntil: [String: Date] = [:]
    private var retryAt: [String: Date] = [:]
    private var failureStreak: [String: Int] = [:]
    private var unsaved: Set<String> = []
    private var stats = Statistics()
    private var nextReconcile: Date = .distantPast
    /// The last access token a server refused, per login (``tokenRefused(_:)``): never adopted or handed out again.
    private var refusedAccessTokens: [String: String] = [:]

    /// Creates a refresher for `logins`.
    ///
    /// - Parameters:
    ///   - logger: where events are logged.
    ///   - configuration: the configuration.
    ///   - logins: the credentials of every login to keep fresh (aliases included).
    ///   - auth: the Tradovate auth client.
    ///   - store: where tokens are shared (Redis in production, memory in one process).
    ///   - locks: cross-process locking; pass the Redis provider, or `nil` for a single process.
    ///   - clock: the wall clock every wait and expiry check uses.
    public init(
        logins: [TradovateCredentials], auth: any TradovateAuthenticating, store: any TokenProvider,
        locks: (any TokenLocking)?, configuration: Configuration = Configuration(),
        clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "orca.tokens.refresher", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.credentials = Dictionary(logins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.order = logins.map(\.name)
        self.auth = auth
        self.store = store
        self.locks = locks
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Counters since start.
    public var statistics: Statistics { stats }

    /// The logins this refresher manages, in configuration order.
    public nonisolated var logins: [String] { order }

    /// A token for `login` with more than the renewal margin left, renewing (once, shared) when needed.
    ///
    /// - Throws: ``TokenStoreError`` when no usable token can be had (bad credentials, captcha, server down and the
    ///   cached token expired). While a cached token is still valid, a failed renewal returns it instead of throwing.
    public func token(for login: String) async throws -> Token {
        if let cached = cache[login], cached.secondsLeft(at: clock.now()) > configuration.renewalMargin.timeInterval {
            return cached
        }
        do {
            return try await obtain(login, force: false, grace: 0)
        } catch {
            if let cached = cache[login], !cached.isExpired(at: clock.now()) { return cached }
            throw error
        }
    }

    /// Where the cached token of `login` came from, if there is one.
    public func source(of login: String) -> TokenSource? { sources[login] }

    /// The cached token, if any, without any I/O.
    public func cachedToken(for login: String) -> Token? { cache[login] }

    /// Renews (or logs in) now even if the token is fresh — unless a token was issued less than `grace` before this
    /// call (by this or another process), which is then used as is. Used by `orca-run tokens refresh`, so that
    /// several processes refreshing at once renew each login once.
    public func refreshNow(_ login: String, grace: Duration = .zero) async throws -> Token {
        try await obtain(login, force: true, grace: grace.timeInterval)
    }

    /// Reports that a server refused `token` (revoked, or issued by another server, e.g. a token an earlier simulator
    /// left in Redis) and returns a replacement: a token another process stored since, or a renewal, or — when the
    /// server refuses the renewal too — a new login. The refused token is never handed out again, even if the store
    /// still holds it.
    public func tokenRefused(_ token: Token) async throws -> Token {
        refusedAccessTokens[token.login] = token.accessToken
        logger.info(
            "token refused by a server; replacing it",
            metadata: ["orca_login": "\(token.login)", "orca_token": "\(token.fingerprint)"])
        return try await obtain(token.login, force: true, grace: 0)
    }

    /// Keeps every login fresh until cancelled or gracefully shut down.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await self.loop()
        }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            let now = clock.now()
            for login in order where dueDate(login) <= now {
                await refreshInBackground(login)
            }
            if !unsaved.isEmpty { await retryStorage() }
            if let interval = configuration.reconcileInterval, nextReconcile <= clock.now() {
                let reached = await reconcileAll()
                let pause = reached ? interval : min(interval, configuration.reconcileRetryInterval)
                nextReconcile = clock.now().addingTimeInterval(pause.timeInterval)
            }
            var wake = order.map(dueDate).min() ?? now.addingTimeInterval(3600)
            if !unsaved.isEmpty {
                wake = min(wake, now.addingTimeInterval(configuration.storageRetryInterval.timeInterval))
            }
            if configuration.reconcileInterval != nil { wake = min(wake, nextReconcile) }
            do {
                try await clock.sleep(until: max(wake, now))
            } catch is CancellationError {
                return
            }
        }
    }

    /// When `login` next needs attention.
    private func dueDate(_ login: String) -> Date {
        if let retry = retryAt[login] { return retry }
        guard let token = cache[login] else { return .distantPast }
        return token.expirationTime.addingTimeInterval(-configuration.renewalMargin.timeInterval)
    }

    private func refreshInBackground(_ login: String) async {
        do {
            _ = try await obtain(login, force: false, grace: 0)
            retryAt[login] = nil
            failureStreak[login] = 0
        } catch is CancellationError {
            return
        } catch {
            let streak = (failureStreak[login] ?? 0) + 1
            failureStreak[login] = streak
            var delay = min(
                configuration.retryMaximumDelay.timeInterval,
                configuration.retryInitialDelay.timeInterval * pow(2, Double(streak - 1)))
            if let error = error as? TokenStoreError, let after = error.retryAfter { delay = max(delay, after) }
            if let until = captchaUntil[login] { delay = max(delay, until.timeIntervalSince(clock.now())) }
            if let cached = cache[login], !cached.isExpired(at: clock.now()) {
                // Retry before the token runs out, however long the back-off.
                let latest = cached.expirationTime.addingTimeInterval(
                    -min(60, configuration.renewalMargin.timeInterval / 2))
                if clock.now().addingTimeInterval(delay) > latest, latest > clock.now() {
                    delay = latest.timeIntervalSince(clock.now())
                }
            }
            retryAt[login] = clock.now().addingTimeInterval(delay)
            logger.warning(
                "token refresh failed; retrying",
                metadata: ["orca_login": "\(login)", "orca_error": "\(error)", "orca_retry_in_s": "\(Int(delay))"])
        }
    }

    // MARK: - Single flight

    private func obtain(_ login: String, force: Bool, grace: TimeInterval) async throws -> Token {
        guard credentials[login] != nil || cache[login] != nil else {
            throw TokenStoreError(.missingCredentials, login: login, "no credentials are configured for \(login)")
        }
        if let running = inflight[login] { return try await running.value }
        let requestedAt = clock.now().addingTimeInterval(-grace)
        // One refresh per login however many callers ask at once: the first caller's request becomes a shared task
        // that every concurrent caller awaits (single flight), so it cannot be a child of any one caller.
        let task = Task { try await self.perform(login, force: force, requestedAt: requestedAt) }
        inflight[login] = task
        defer { inflight[login] = nil }
        return try await task.value
    }

    private func perform(_ login: String, force: Bool, requestedAt: Date) async throws -> Token {
        do {
            let token = try await performLocked(login, force: force, requestedAt: requestedAt)
            stats.lastError[login] = nil
            return token
        } catch let error as TokenStoreError {
            stats.failures += 1
            stats.lastError[login] = error.description
            throw error
        }
    }

    /// Whether `token` makes a refresh of `login` unnecessary.
    private func satisfies(_ token: Token?, force: Bool, requestedAt: Date) -> Bool {
        guard let token, !token.isExpired(at: clock.now()) else { return false }
        if refusedAccessTokens[token.login] == token.accessToken { return false }
        if force { return token.issuedAt > requestedAt }
        return token.secondsLeft(at: clock.now()) > configuration.renewalMargin.timeInterval
    }

    private func performLocked(_ login: String, force: Bool, requestedAt: Date) async throws -> Token {
        if let shared = await readStore(login) {
            if satisfies(shared, force: force, requestedAt: requestedAt) { return adopt(shared) }
            // A valid token another process (or an earlier run) stored is renewed, not replaced by a new login.
            if !shared.isExpired(at: clock.now()), shared.expirationTime > cache[login]?.expirationTime ?? .distantPast
            {
                cache[login] = shared
            }
        }
        if !force, satisfies(cache[login], force: false, requestedAt: requestedAt) { return cache[login]! }

        var owner: String?
        if let locks {
            let candidate = UUID().uuidString
            let deadline = clock.now().addingTimeInterval(configuration.lockTTL.timeInterval)
            while owner == nil {
                let acquired: Bool
                do {
                    acquired = try await locks.acquireLock(
                        "renew:\(login)", owner: candidate, ttl: configuration.lockTTL)
                } catch {
                    noteStorageFailure(error)
                    break  // the store is down: renew without the lock rather than let the token expire
                }
                if acquired {
                    owner = candidate
                    break
                }
                // Another process is renewing: wait for its token to appear.
                try await clock.sleep(for: configuration.lockPollInterval.timeInterval)
                if let shared = await readStore(login), satisfies(shared, force: force, requestedAt: requestedAt) {
                    return adopt(shared)
                }
                if clock.now() >= deadline {
                    logger.warning(
                        "renewal lock held past its lifetime; retrying", metadata: ["orca_login": "\(login)"])
                }
            }
        }
        let outcome: Result<Token, any Error>
        do {
            if owner != nil, let shared = await readStore(login),
                satisfies(shared, force: force, requestedAt: requestedAt)
            {
                outcome = .success(adopt(shared))
            } else {
                let fresh = try await renewOrLogin(login)
                cache[login] = fresh
                await save(fresh)
                outcome = .success(fresh)
            }
        } catch {
            outcome = .failure(error)
        }
        if let owner, let locks {
            do {
                try await locks.releaseLock("renew:\(login)", owner: owner)
            } catch {
                noteStorageFailure(error)  // the lock expires by itself after lockTTL
            }
        }
        return try outcome.get()
    }

    private func adopt(_ token: Token) -> Token {
        if cache[token.login] != token {
            stats.adopted += 1
            sources[token.login] = .store
            logger.debug(
                "adopted token from store",
                metadata: ["orca_login": "\(token.login)", "orca_token": "\(token.fingerprint)"])
        }
        cache[token.login] = token
        return token
    }

    private func renewOrLogin(_ login: String) async throws -> Token {
        let now = clock.now()
        if let current = cache[login], !current.isExpired(at: now) {
            let recent = (renewalTimes[login] ?? []).filter { now.timeIntervalSince($0) < 3600 }
            renewalTimes[login] = recent
            if recent.count >= configuration.maximumRenewalsPerHour {
                stats.budgetRefusals += 1
                let left = current.secondsLeft(at: now)
                let logins = (budgetLoginTimes[login] ?? []).filter { now.timeIntervalSince($0) < 3600 }
                budgetLoginTimes[login] = logins
                let margin = configuration.budgetLoginMargin.timeInterval
                if left <= margin, logins.count < configuration.maximumBudgetLoginsPerHour, credentials[login] != nil {
                    // The token would run out before the budget frees: a login (its own budget) bridges the gap.
                    logger.warning(
                        "renewal budget spent and the token expires soon: logging in again instead",
                        metadata: [
                            "orca_login": "\(login)", "orca_renewals_last_hour": "\(recent.count)",
                            "orca_seconds_left": "\(Int(left))",
                        ])
                    let token = try await self.login(login, credentials: credentials[login]!)
                    budgetLoginTimes[login, default: []].append(clock.now())
                    stats.budgetLogins += 1
                    return token
                }
                logger.warning(
                    "renewal budget guard: not renewing",
                    metadata: ["orca_login": "\(login)", "orca_renewals_last_hour": "\(recent.count)"])
                // Come back when the budget frees, or when the token is close enough to expiry for a login.
                let frees = (recent.min().map { $0.addingTimeInterval(3600) } ?? now).timeIntervalSince(now)
                throw TokenStoreError(
                    .renewalBudgetExhausted, login: login,
                    "\(recent.count) renewals in the last hour already; the current token stays in use",
                    retryAfter: max(1, min(frees, left - margin)))
            }
            do {
                let renewed = try await auth.renewAccessToken(current)
                renewalTimes[login, default: []].append(clock.now())
                stats.renewals += 1
                sources[login] = .renewal
                logger.info(
                    "token renewed",
                    metadata: [
                        "orca_login": "\(login)", "orca_expires": "\(renewed.expirationTime.formatted(.iso8601))",
                    ])
                return renewed
            } catch let error as TokenStoreError where error.code == .tokenRejected || error.code == .tokenExpired {
                logger.warning("token refused on renewal; logging in again", metadata: ["orca_login": "\(login)"])
            }
        }
        guard let credentials = credentials[login] else {
            throw TokenStoreError(
                .missingCredentials, login: login, "the token expired and no credentials are configured to log in again"
            )
        }
        return try await self.login(login, credentials: credentials)
    }

    /// `accesstokenrequest` for `login`, unless a captcha paused its logins.
    private func login(_ login: String, credentials: TradovateCredentials) async throws -> Token {
        if let until = captchaUntil[login], until > clock.now() {
            throw TokenStoreError(
                .captchaRequired, login: login,
                "logins paused until \(until.formatted(.iso8601)) after a captcha request",
                retryAfter: until.timeIntervalSince(clock.now()))
        }
        do {
            let token = try await auth.requestAccessToken(credentials)
            stats.logins += 1
            sources[login] = .login
            logger.info(
                "logged in",
                metadata: ["orca_login": "\(login)", "orca_expires": "\(token.expirationTime.formatted(.iso8601))"])
            return token
        } catch let error as TokenStoreError where error.code == .captchaRequired {
            captchaUntil[login] = clock.now().addingTimeInterval(configuration.captchaPause.timeInterval)
            logger.critical(
                "Tradovate requires a captcha: logins for this login stop for an hour; log in once in the browser",
                metadata: ["orca_login": "\(login)"])
            throw error
        }
    }

    // MARK: - Store

    private func readStore(_ login: String) async -> Token? {
        do {
            return try await store.token(for: login)
        } catch {
            noteStorageFailure(error)
            return nil
        }
    }

    private func save(_ token: Token) async {
        do {
            try await store.store(token, aliases: credentials[token.login]?.aliases ?? [])
            unsaved.remove(token.login)
        } catch {
            unsaved.insert(token.login)
            noteStorageFailure(error)
        }
    }

    private func retryStorage() async {
        for login in unsaved {
            guard let token = cache[login], !token.isExpired(at: clock.now()) else {
                unsaved.remove(login)
                continue
            }
            await save(token)
        }
    }

    /// Checks the store's keys of every login holding a usable token; returns whether the store answered.
    private func reconcileAll() async -> Bool {
        for login in order {
            guard let token = cache[login], !token.isExpired(at: clock.now()), inflight[login] == nil,
                refusedAccessTokens[login] != token.accessToken
            else { continue }
            let outcome: TokenReconciliation
            do {
                outcome = try await store.reconcile(token, aliases: credentials[login]?.aliases ?? [])
            } catch is CancellationError {
                return true
            } catch {
                stats.storageFailures += 1
                if stats.storeReachable != false {
                    logger.warning(
                        "token store unavailable; its keys are checked again every second and restored when it answers",
                        metadata: ["orca_error": "\(error)"])
                }
                stats.storeReachable = false
                return false
            }
            // The store may have changed hands while this check was away (a renewal in flight): keep the newer.
            guard cache[login] == token else { continue }
            switch outcome {
            case .intact:
                unsaved.remove(login)
            case .restored(let keys):
                unsaved.remove(login)
                stats.keysRestored += keys.count
                stats.lastRestoration[login] = KeyRestoration(at: clock.now(), keys: keys)
                logger.warning(
                    "the token store had lost keys of this login; written again from the token held in memory",
                    metadata: [
                        "orca_login": "\(login)", "orca_keys_restored": "\(keys.count)",
                        "orca_keys": "\(keys.joined(separator: ","))",
                        "orca_expires": "\(token.expirationTime.formatted(.iso8601))",
                    ])
            case .newer(let newer):
                if !newer.isExpired(at: clock.now()), refusedAccessTokens[login] != newer.accessToken {
                    _ = adopt(newer)
                }
            }
        }
        if stats.storeReachable == false {
            logger.info("token store answers again; every login's keys are checked")
        }
        stats.storeReachable = true
        return true
    }

    private func noteStorageFailure(_ error: any Error) {
        stats.storageFailures += 1
        logger.warning("token store unavailable; serving the in-memory copy", metadata: ["orca_error": "\(error)"])
    }
}
