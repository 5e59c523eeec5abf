import CandleCore
import Foundation
import Testing
import TokenStore
import TradovateSimulator

/// The auth client and the refresher against the Tradovate simulator over real loopback HTTP.
@Suite("Tradovate auth against the simulator", .timeLimit(.minutes(10)))
struct SimulatorAuthTests {
    static func logins(_ count: Int = 1) -> [SimulatorLogin] {
        (0..<count).map {
            SimulatorLogin(name: "APEX_\($0)", password: "pw-\(UUID())", cid: 10 + $0, sec: "sec-\(UUID())")
        }
    }

    static func credentials(_ login: SimulatorLogin, aliases: [String] = []) -> TradovateCredentials {
        TradovateCredentials(
            name: login.name, password: login.password, cid: login.cid, secret: login.sec, aliases: aliases)
    }

    static func start(
        _ logins: [SimulatorLogin], clock: any WallClock = SystemWallClock(),
        configure: (inout SimulatorConfiguration) -> Void = { _ in }
    ) async throws -> SimulatorServer {
        var configuration = SimulatorConfiguration()
        configuration.logins = logins
        configuration.clock = clock
        configure(&configuration)
        return try await SimulatorServer.start(configuration)
    }

    static func client(_ sim: SimulatorServer, clock: any WallClock = SystemWallClock()) -> TradovateAuthClient {
        TradovateAuthClient(
            // A guard, not a measure: with every suite at once on a loaded 2-core machine the in-process simulator
            // was seen to take more than the production 15 s to answer.
            configuration: .init(
                baseURL: sim.restBaseURL.absoluteString, deviceID: "test-device", requestTimeout: .seconds(120)),
            clock: clock)
    }

    @Test("login, me and renewal return real tokens with the server's expirationTime")
    func loginRenewMe() async throws {
        let users = Self.logins()
        let sim = try await Self.start(users)
        defer { Task { await sim.shutdown() } }
        let auth = Self.client(sim)
        let asked = Date()
        let token = try await auth.requestAccessToken(Self.credentials(users[0]))
        let answered = Date()
        #expect(token.login == users[0].name)
        #expect(token.marketDataToken != token.accessToken)
        // The server stamps the expiry at some moment between the request and the answer (seconds apart on a loaded
        // machine); whole-second rounding allows one more second either side.
        #expect(token.expirationTime >= asked.addingTimeInterval(5400 - 1))
        #expect(token.expirationTime <= answered.addingTimeInterval(5400 + 1))
        let me = try await auth.me(token)
        #expect(me.name == users[0].name)
        try await Task.sleep(for: .milliseconds(20))
        let renewed = try await auth.renewAccessToken(token)
        #expect(renewed.accessToken != token.accessToken)
        #expect(renewed.expirationTime > token.expirationTime)
        let stats = sim.stats.snapshot()
        #expect(stats.loginsSucceeded == 1)
        #expect(stats.renewalsSucceeded == 1)
    }

    @Test("bad credentials and a revoked token map to precise errors without secrets")
    func errors() async throws {
        let users = Self.logins()
        let sim = try await Self.start(users)
        defer { Task { await sim.shutdown() } }
        let auth = Self.client(sim)
        var wrong = Self.credentials(users[0])
        wrong.password = "wrong-\(UUID())"
        let rejected = await #expect(throws: TokenStoreError.self) { try await auth.requestAccessToken(wrong) }
        #expect(rejected?.code == .loginRejected)
        #expect(rejected?.description.contains(wrong.password) == false)
        let token = try await auth.requestAccessToken(Self.credentials(users[0]))
        #expect(sim.faults.revokeToken(token.accessToken))
        let refused = await #expect(throws: TokenStoreError.self) { try await auth.renewAccessToken(token) }
        #expect(refused?.code == .tokenRejected)
        #expect(refused?.description.contains(token.accessToken) == false)
    }

    @Test("an expired token cannot be renewed; the refresher logs in again instead")
    func expired() async throws {
        let users = Self.logins()
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_795_000_000))
        let sim = try await Self.start(users, clock: clock)
        defer { Task { await sim.shutdown() } }
        let auth = Self.client(sim, clock: clock)
        let token = try await auth.requestAccessToken(Self.credentials(users[0]))
        clock.advance(by: 91 * 60)
        let refused = await #expect(throws: TokenStoreError.self) { try await auth.renewAccessToken(token) }
        #expect(refused?.code == .tokenRejected)
        let refresher = TokenRefresher(
            logins: [Self.credentials(users[0])], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil,
            clock: clock)
        _ = try await refresher.token(for: users[0].name)
        #expect(sim.stats.snapshot().loginsSucceeded == 2)
    }

    @Test("30-minute tokens and 1 renewal per hour on the simulator: logins bridge the budget, the token never dies")
    func budgetLoginsOnTheSimulator() async throws {
        let users = Self.logins()
        // Both sides on one manual clock: the server's expiry and the refresher's schedule agree.
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_795_000_000))
        let sim = try await Self.start(users, clock: clock) { $0.auth.tokenLifetime = .seconds(30 * 60) }
        defer { Task { await sim.shutdown() } }
        let auth = Self.client(sim, clock: clock)
        let refresher = TokenRefresher(
            logins: [Self.credentials(users[0])], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil,
            configuration: .init(maximumRenewalsPerHour: 1, reconcileInterval: nil), clock: clock)
        let service = Task { try await refresher.run() }
        let end = clock.now().addingTimeInterval(3 * 3600)
        var checks = 0
        while clock.now() < end {
            await clock.waitForSleepers(1)
            // At every step the held token is alive, and the server accepts it.
            let token = try #require(await refresher.cachedToken(for: users[0].name))
            #expect(token.secondsLeft(at: clock.now()) > 0)
            _ = try await auth.me(token)
            checks += 1
            guard let next = clock.nextDeadline else { break }
            clock.set(to: min(next, end))
        }
        service.cancel()
        try await service.value
        let stats = sim.stats.snapshot()
        let refresherStats = await refresher.statistics
        #expect(checks >= 6)
        #expect(refresherStats.budgetLogins >= 2, "3 h of 30-minute tokens with 1 renewal per hour need logins")
        #expect(stats.renewalsSucceeded <= 3, "at most one renewal per hour")
        #expect(stats.loginsSucceeded == 1 + refresherStats.budgetLogins)
        #expect(stats.loginsSucceeded <= 1 + 2 * 3, "at most 2 stand-in logins per hour")
        #expect(stats.renewalsRejected == 0)
    }

    @Test("a penalty ticket is waited out on the injected clock and the request resent with it")
    func penalty() async throws {
        let users = Self.logins()
        // The server judges the ticket's wait on its clock: both sides share the manual clock.
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_795_000_000))
        let sim = try await Self.start(users, clock: clock)
        defer { Task { await sim.shutdown() } }
        let auth = Self.client(sim, clock: clock)
        sim.faults.forcePenalties(nextRequests: 1, seconds: 7)
        let login = Task { try await auth.requestAccessToken(Self.credentials(users[0])) }
        // Wait for the client's own 7 s sleep (the simulator may sleep on this clock too) before moving it.
        let resend = clock.now().addingTimeInterval(7)
        let deadline = Date().addingTimeInterval(120)
        while !clock.deadlines.contains(resend), Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(clock.deadlines.contains(resend))
        clock.advance(by: 7)
        let token = try await withTaskCancellationHandler { try await login.value } onCancel: { login.cancel() }
        #expect(!token.accessToken.isEmpty)
        let stats = sim.stats.snapshot()
        #expect(stats.penaltiesIssued == 1)
        #expect(stats.penaltyTicketsHonoured == 1)
    }

    @Test("a captcha stops retries; HTTP 429 is reported for back-off")
    func captchaAndRateLimit() async throws {
        let users = Self.logins()
        let sim = try await Self.start(users) { $0.auth.rateLimit = RateLimit(requests: 3, window: .seconds(3600)) }
        defer { Task { await sim.shutdown() } }
        let clock = ManualWallClock(now: Date())
        let auth = Self.client(sim, clock: clock)
        sim.faults.forcePenalties(nextRequests: 1, seconds: 60, captcha: true)
        let refresher = TokenRefresher(
            logins: [Self.credentials(users[0])], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil,
            clock: clock)
        let captcha = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: users[0].name) }
        #expect(captcha?.code == .captchaRequired)
        let again = await #expect(throws: TokenStoreError.self) { try await refresher.token(for: users[0].name) }
        #expect(again?.code == .captchaRequired)
        #expect(sim.stats.snapshot().restRequests == 1)  // the second attempt never left the process
        // Two more requests use up the rate limit; the next is a 429.
        _ = try await auth.requestAccessToken(Self.credentials(users[0]))
        _ = try? await auth.requestAccessToken(Self.credentials(users[0]))
        let limited = await #expect(throws: TokenStoreError.self) {
            try await auth.requestAccessToken(Self.credentials(users[0]))
        }
        #expect(limited?.code == .rateLimited)
    }

    @Test("100 concurrent callers in one process: exactly one renewal (simulator stats)")
    func concurrentCallers() async throws {
        let users = Self.logins()
        let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_795_000_000))
        let sim = try await Self.start(users, clock: clock)
        defer { Task { await sim.shutdown() } }
        let refresher = TokenRefresher(
            logins: [Self.credentials(users[0])], auth: Self.client(sim, clock: clock),
            store: InMemoryTokenProvider(clock: clock), locks: nil, clock: clock)
        _ = try await refresher.token(for: users[0].name)
        clock.advance(by: 80 * 60)
        let tokens = try await withThrowingTaskGroup(of: Token.self) { group in
            for _ in 0..<100 { group.addTask { try await refresher.token(for: users[0].name) } }
            return try await group.reduce(into: Set<Token>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        let stats = sim.stats.snapshot()
        #expect(stats.renewalsSucceeded == 1)
        #expect(stats.loginsSucceeded == 1)
    }

    @Test("24 simulated hours with defaults: one login, ≤ 19 renewals, never an expired token (simulator audit)")
    func simulatedDay() async throws {
        let users = Self.logins(2)
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let clock = ManualWallClock(now: start)
        let sim = try await Self.start(users, clock: clock)
        defer { Task { await sim.shutdown() } }
        let store = InMemoryTokenProvider(clock: clock)
        let refresher = TokenRefresher(
            logins: users.map { Self.credentials($0) }, auth: Self.client(sim, clock: clock), store: store, locks: nil,
            clock: clock)
        let service = Task { try await refresher.run() }
        let end = start.addingTimeInterval(24 * 3600)
        while clock.now() < end {
            await clock.waitForSleepers(1)
            for user in users {
                // Every instant the service sleeps, each login has a valid token with time to spare.
                let token = try #require(await store.token(for: user.name))
                #expect(token.secondsLeft(at: clock.now()) > 0)
                _ = try await Self.client(sim, clock: clock).me(token)  // the server agrees it is valid
            }
            clock.set(to: min(clock.nextDeadline ?? end, end))
        }
        service.cancel()
        try await service.value
        let stats = sim.stats.snapshot()
        #expect(stats.loginsSucceeded == users.count)
        #expect(stats.renewalsSucceeded <= 19 * users.count)
        #expect(stats.renewalsSucceeded >= 18 * users.count)
        #expect(stats.expiredTokenUses.isEmpty)
        #expect(stats.revokedTokenUses.isEmpty)
    }
}
