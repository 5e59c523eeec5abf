import CandleCore
import Foundation
import Testing
import TokenStore

@Suite("TokenRefresher (scripted auth, manual clock)", .timeLimit(.minutes(10)))
struct TokenRefresherTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)

    func make(
        _ credentials: [TradovateCredentials], clock: ManualWallClock, auth: ScriptedAuth,
        store: (any TokenProvider)? = nil,
        // These tests follow one deadline at a time: the periodic key check is off unless a test turns it on.
        configuration: TokenRefresher.Configuration = .init(reconcileInterval: nil),
        logs: CapturedLogs? = nil
    ) -> (TokenRefresher, any TokenProvider) {
        let store = store ?? InMemoryTokenProvider(clock: clock)
        let refresher = TokenRefresher(
            logins: credentials, auth: auth, store: store, locks: nil, configuration: configuration, clock: clock,
            logger: logs?.logger() ?? .init(label: "quiet", factory: { _ in SwiftLogNoOpLogHandlerShim() }))
        return (refresher, store)
    }

    @Test("100 concurrent callers share one login, then one renewal")
    func singleFlight() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, store) = make([login], clock: clock, auth: auth)
        let tokens = try await withThrowingTaskGroup(of: Token.self) { group in
            for _ in 0..<100 { group.addTask { try await refresher.token(for: login.name) } }
            return try await group.reduce(into: [Token]()) { $0.append($1) }
        }
        #expect(Set(tokens).count == 1)
        #expect(await auth.loginCalls == 1)
        #expect(try await store.token(for: login.name) == tokens[0])

        clock.advance(by: 76 * 60)  // inside the 15-minute margin
        await auth.setRenewDelay(1)  // keep the renewal in flight while all callers arrive
        let renewing = Task {
            try await withThrowingTaskGroup(of: Token.self) { group in
                for _ in 0..<100 { group.addTask { try await refresher.token(for: login.name) } }
                return try await group.reduce(into: [Token]()) { $0.append($1) }
            }
        }
        await clock.waitForSleepers(1)
        clock.advance(by: 1)
        let renewed = try await renewing.value
        #expect(Set(renewed).count == 1)
        #expect(renewed[0] != tokens[0])
        #expect(await auth.renewCalls == 1)
        #expect(await refresher.statistics.renewals == 1)
    }

    @Test("a fresh token is not renewed; one inside the margin is")
    func margin() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make([login], clock: clock, auth: auth)
        let first = try await refresher.token(for: login.name)
        clock.advance(by: 74 * 60)  // 16 min left
        #expect(try await refresher.token(for: login.name) == first)
        #expect(await auth.renewCalls == 0)
        clock.advance(by: 2 * 60)  // 14 min left
        let second = try await refresher.token(for: login.name)
        #expect(second != first)
        #expect(second.expirationTime == clock.now().addingTimeInterval(90 * 60))
        #expect(await auth.renewCalls == 1)
    }

    @Test("a revoked token leads to a fresh login")
    func revokedRelogin() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make([login], clock: clock, auth: auth)
        let first = try await refresher.token(for: login.name)
        await auth.revoke(first)
        clock.advance(by: 80 * 60)
        let second = try await refresher.token(for: login.name)
        #expect(second != first)
        #expect(await auth.loginCalls == 2)
    }

    @Test("a token a server refused is replaced even when the store still holds it with a later issue time")
    func refusedTokenReplaced() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let store = InMemoryTokenProvider(clock: clock)
        // A token another server issued "later" (its clock ran ahead): the scripted auth never issued it.
        let foreign = Token(
            accessToken: "foreign-\(UUID().uuidString)", marketDataToken: "md-\(UUID().uuidString)",
            expirationTime: start.addingTimeInterval(80 * 60), userID: 1, login: login.name,
            issuedAt: start.addingTimeInterval(600))
        await store.store(foreign, aliases: [])
        let (refresher, _) = make([login], clock: clock, auth: auth, store: store)
        #expect(try await refresher.token(for: login.name) == foreign)

        let replacement = try await refresher.tokenRefused(foreign)
        #expect(replacement != foreign)
        #expect(await auth.loginCalls == 1)  // the renewal of the foreign token was refused: a new login
        #expect(try await refresher.token(for: login.name) == replacement)
        #expect(await store.token(for: login.name) == replacement)
        // Refusing again does not bring the foreign token back.
        #expect(try await refresher.tokenRefused(foreign) != foreign)
    }

    @Test("an expired token is replaced by a login, never renewed")
    func expiredRelogin() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make([login], clock: clock, auth: auth)
        _ = try await refresher.token(for: login.name)
        clock.advance(by: 3 * 3600)
        _ = try await refresher.token(for: login.name)
        #expect(await auth.renewCalls == 0)
        #expect(await auth.loginCalls == 2)
        #expect(await auth.expiredUses.isEmpty)
    }

    @Test("a captcha stops logins for an hour")
    func captcha() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make([login], clock: clock, auth: auth)
        await auth.failNextLogin(
            with: TokenStoreError(.captchaRequired, login: login.name, "captcha", retryAfter: 3600))
        let error = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: login.name) }
        #expect(error?.code == .captchaRequired)
        clock.advance(by: 30 * 60)
        let again = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: login.name) }
        #expect(again?.code == .captchaRequired)
        #expect(await auth.loginCalls == 1)  // the second attempt never reached Tradovate
        clock.advance(by: 31 * 60)
        _ = try await refresher.token(for: login.name)
        #expect(await auth.loginCalls == 2)
    }

    @Test("bad credentials give a clear error naming the login")
    func badCredentials() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials("APEX_BAD")
        let (refresher, _) = make([login], clock: clock, auth: auth)
        await auth.failNextLogin(
            with: TokenStoreError(.loginRejected, login: login.name, "Tradovate said: Incorrect username or password"))
        let error = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: login.name) }
        #expect(error?.code == .loginRejected)
        #expect(error?.description.contains("APEX_BAD") == true)
        let unknown = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: "nobody") }
        #expect(unknown?.code == .missingCredentials)
    }

    @Test("the budget guard refuses a renewal storm and keeps the current token")
    func budget() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make(
            [login], clock: clock, auth: auth, configuration: .init(maximumRenewalsPerHour: 2, reconcileInterval: nil))
        _ = try await refresher.token(for: login.name)
        _ = try await refresher.refreshNow(login.name)
        clock.advance(by: 1)
        let second = try await refresher.refreshNow(login.name)
        clock.advance(by: 1)
        let error = await #expect(throws: TokenStoreError.self) { try await refresher.refreshNow(login.name) }
        #expect(error?.code == .renewalBudgetExhausted)
        #expect(await auth.renewCalls == 2)
        #expect(await refresher.statistics.budgetRefusals == 1)
        #expect(try await refresher.token(for: login.name) == second)
    }

    @Test("24 simulated hours: one login, at most 24h/(lifetime − margin) renewals, never expired")
    func day() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let logins = [fakeCredentials(), fakeCredentials()]
        let (refresher, store) = make(logins, clock: clock, auth: auth)
        let service = Task { try await refresher.run() }
        let end = start.addingTimeInterval(24 * 3600)
        var worstLeft = TimeInterval.infinity
        while clock.now() < end {
            await clock.waitForSleepers(1)
            for login in logins {
                let token = try #require(try await store.token(for: login.name))
                worstLeft = min(worstLeft, token.secondsLeft(at: clock.now()))
            }
            guard let next = clock.nextDeadline else { break }
            clock.set(to: min(next, end))
        }
        service.cancel()
        try await service.value
        let budget = Int((24 * 3600) / (75 * 60.0))  // 19
        #expect(await auth.loginCalls == logins.count)
        #expect(await auth.renewCalls <= budget * logins.count)
        #expect(await auth.renewCalls >= (budget - 1) * logins.count)
        #expect(await auth.expiredUses.isEmpty)
        #expect(worstLeft > 0)
    }

    @Test("a spent renewal budget near expiry leads to a login before the token runs out: no gap, no burst")
    func budgetLoginBeforeExpiry() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock, lifetime: 30 * 60)  // short tokens: 2 per hour needed
        let login = fakeCredentials()
        let (refresher, _) = make(
            [login], clock: clock, auth: auth,
            configuration: .init(maximumRenewalsPerHour: 1, reconcileInterval: nil))
        let service = Task { try await refresher.run() }
        let end = start.addingTimeInterval(4 * 3600)
        var worstLeft = TimeInterval.infinity
        while clock.now() < end {
            await clock.waitForSleepers(1)
            let token = try #require(await refresher.cachedToken(for: login.name))
            worstLeft = min(worstLeft, token.secondsLeft(at: clock.now()))
            guard let next = clock.nextDeadline else { break }
            clock.set(to: min(next, end))
        }
        service.cancel()
        try await service.value
        let statistics = await refresher.statistics
        #expect(worstLeft > 0, "the token expired at some point")
        #expect(await auth.expiredUses.isEmpty)
        #expect(statistics.budgetRefusals > 0)
        #expect(statistics.budgetLogins >= 3, "4 h of 30-minute tokens with 1 renewal per hour need logins")
        // Budgets hold in every rolling hour: 1 renewal; the first login plus at most 2 stand-in logins.
        func worstHour(_ times: [Date]) -> Int {
            times.map { from in times.filter { $0 >= from && $0 < from.addingTimeInterval(3600) }.count }.max() ?? 0
        }
        #expect(worstHour(await auth.renewTimes) <= 1)
        #expect(worstHour(await auth.loginTimes) <= 3)
        #expect(await auth.loginCalls == 1 + statistics.budgetLogins)
        // The only failures are the refusals that waited (the others became logins).
        #expect(statistics.failures == statistics.budgetRefusals - statistics.budgetLogins)
    }

    @Test("HTTP 429 backs off for Retry-After, but retries before the token runs out")
    func rateLimitBackOff() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let (refresher, _) = make([login], clock: clock, auth: auth)
        let service = Task { try await refresher.run() }
        await clock.waitForSleepers(1)  // logged in; sleeping until the renewal is due (75 min)
        await auth.failRenewals(with: TokenStoreError(.rateLimited, login: login.name, "HTTP 429", retryAfter: 600))
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        // Back-off honours Retry-After (600 s), not the 5 s first retry.
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(600))
        #expect(await auth.renewCalls == 1)
        await auth.failRenewals(with: TokenStoreError(.rateLimited, login: login.name, "HTTP 429", retryAfter: 3600))
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        // A 1-hour lockout would outlive the token (about 4 minutes left): the retry comes before expiry instead.
        let token = try #require(await refresher.cachedToken(for: login.name))
        let next = try #require(clock.nextDeadline)
        #expect(next < token.expirationTime)
        #expect(await auth.renewCalls == 2)
        await auth.failRenewals(with: nil)
        clock.set(to: next)
        await clock.waitForSleepers(1)
        #expect(await auth.renewCalls == 3)
        #expect(await refresher.cachedToken(for: login.name) != token)
        #expect(await auth.loginCalls == 1)
        service.cancel()
        try await service.value
    }

    @Test("when the store fails, the in-memory copy is served and written back later")
    func storageDown() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials()
        let flaky = FlakyStore(clock: clock)
        await flaky.setDown(true)
        let (refresher, _) = make([login], clock: clock, auth: auth, store: flaky)
        let token = try await refresher.token(for: login.name)
        #expect(await refresher.statistics.storageFailures > 0)
        #expect(try await refresher.token(for: login.name) == token)
        let service = Task { try await refresher.run() }
        await clock.waitForSleepers(1)
        await flaky.setDown(false)
        clock.advance(by: 30)
        await clock.waitForSleepers(1)
        #expect(await flaky.peek(login.name) == token)
        service.cancel()
        try await service.value
    }

    @Test("lost keys are written again at the next check; a failing store is retried every second and logged once")
    func reconcileLostKeys() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials(aliases: ["PA-9"])
        let flaky = FlakyStore(clock: clock)
        let logs = CapturedLogs()
        let (refresher, _) = make(
            [login], clock: clock, auth: auth, store: flaky, configuration: .init(), logs: logs)
        let service = Task { try await refresher.run() }
        await clock.waitForSleepers(1)  // logged in; the next check is 10 s away
        let token = try #require(await refresher.cachedToken(for: login.name))
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(10))

        await flaky.wipe()  // the store lost everything (Redis restarted empty)
        #expect(await flaky.peek("PA-9") == nil)
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        #expect(await flaky.peek(login.name) == token)
        #expect(await flaky.peek("PA-9") == token)
        var statistics = await refresher.statistics
        #expect(statistics.keysRestored == 2)
        #expect(statistics.lastRestoration[login.name]?.at == clock.now())
        #expect(statistics.lastRestoration[login.name]?.keys.sorted() == ["PA-9", login.name].sorted())

        // Down: retried every second, one warning for the whole outage; back: restored at once.
        await flaky.setDown(true)
        await flaky.wipe()
        for _ in 0..<5 {
            clock.advanceToNextDeadline()
            await clock.waitForSleepers(1)
        }
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(1))
        #expect(logs.all.filter { $0.contains("its keys are checked again every second") }.count == 1)
        #expect(await refresher.statistics.storeReachable == false)
        await flaky.setDown(false)
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        #expect(await flaky.peek("PA-9") == token)
        statistics = await refresher.statistics
        #expect(statistics.keysRestored == 4)
        #expect(statistics.storeReachable == true)
        #expect(clock.nextDeadline == clock.now().addingTimeInterval(10))

        // A newer token in the store (another process renewed) is adopted, not overwritten.
        let newer = Token(
            accessToken: "fake-newer-\(UUID().uuidString)", marketDataToken: "fake-md-\(UUID().uuidString)",
            expirationTime: token.expirationTime.addingTimeInterval(600), userID: 42, login: login.name,
            issuedAt: clock.now())
        try await flaky.store(newer, aliases: ["PA-9"])
        clock.advanceToNextDeadline()
        await clock.waitForSleepers(1)
        #expect(await refresher.cachedToken(for: login.name) == newer)
        #expect(await flaky.peek(login.name) == newer)
        #expect(await refresher.statistics.keysRestored == 4)
        #expect(await auth.loginCalls == 1)
        #expect(await auth.renewCalls == 0)
        service.cancel()
        try await service.value
    }

    @Test("no secret appears in any log line or error text, even on failures")
    func noSecretsInLogs() async throws {
        let clock = ManualWallClock(now: start)
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials(aliases: ["PA-1"])
        let logs = CapturedLogs()
        let (refresher, _) = make([login], clock: clock, auth: auth, logs: logs)
        let service = Task { try await refresher.run() }
        await clock.waitForSleepers(1)
        let token = try await refresher.token(for: login.name)
        await auth.failRenewals(with: TokenStoreError(.serverError, login: login.name, "HTTP 503"))
        var errors: [String] = []
        for _ in 0..<6 {
            clock.advanceToNextDeadline()
            await clock.waitForSleepers(1)
        }
        errors.append(await refresher.statistics.lastError.values.joined())
        await auth.revoke(token)
        await auth.failRenewals(with: nil)
        clock.advance(by: 3 * 3600)
        await clock.waitForSleepers(1)
        service.cancel()
        try await service.value
        let secrets = [login.password, login.secret, token.accessToken, token.marketDataToken]
        let text = logs.all.joined(separator: "\n") + errors.joined()
        #expect(!logs.all.isEmpty)
        for secret in secrets { #expect(!text.contains(secret)) }
    }
}

/// A store that can be switched off, to exercise the refresher's storage fallback.
actor FlakyStore: TokenProvider {
    private let clock: any WallClock
    private var inner: any TokenProvider
    private var down = false

    init(clock: any WallClock) {
        self.clock = clock
        inner = InMemoryTokenProvider(clock: clock)
    }

    func setDown(_ value: Bool) { down = value }
    /// Forgets every token, as a Redis restarted without persistence does.
    func wipe() { inner = InMemoryTokenProvider(clock: clock) }
    func peek(_ account: String) async -> Token? { try? await inner.token(for: account) }

    func token(for account: String) async throws -> Token? {
        if down { throw TokenStoreError(.storageUnavailable, "down") }
        return try await inner.token(for: account)
    }

    func store(_ token: Token, aliases: [String]) async throws {
        if down { throw TokenStoreError(.storageUnavailable, "down") }
        try await inner.store(token, aliases: aliases)
    }

    func remove(account: String) async throws {
        if down { throw TokenStoreError(.storageUnavailable, "down") }
        try await inner.remove(account: account)
    }
}
