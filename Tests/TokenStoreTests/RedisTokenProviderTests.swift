import CandleCore
import Foundation
import ServerTestSupport
import Testing
import TokenStore

private let env = ProcessInfo.processInfo.environment

@Suite(
    "Redis token provider (real Redis)", .timeLimit(.minutes(10)),
    .enabled(
        if: env["ORCA_TEST_REDIS_URL"] != nil,
        "set ORCA_TEST_REDIS_URL (scripts/test.sh does) to run against a real Redis"))
struct RedisTokenProviderTests {
    let clock = SystemWallClock()

    func provider(_ url: String? = env["ORCA_TEST_REDIS_URL"], tls: RedisTLSOptions = .init()) throws
        -> RedisTokenProvider
    {
        let prefix = "test\(UUID().uuidString.prefix(8)):"
        return RedisTokenProvider(
            configuration: .init(
                url: try RedisURL(url!), tls: tls, legacyPrefix: prefix + "token:", prefix: prefix + "orca:"))
    }

    func token(login: String, lifetime: TimeInterval = 5400) -> Token {
        Token(
            accessToken: "fake-\(UUID().uuidString)", marketDataToken: "fake-md-\(UUID().uuidString)",
            expirationTime: Date().addingTimeInterval(lifetime), userID: 5, login: login, issuedAt: Date())
    }

    @Test("token:<account> keys hold the raw token with a TTL from expirationTime, for the login and every alias")
    func seedLayout() async throws {
        let redis = try provider()
        let token = token(login: "APEX_1", lifetime: 4000)
        let before = Date()
        try await redis.store(token, aliases: ["PA1", "PA2"])
        let raw = try RedisClient(url: env["ORCA_TEST_REDIS_URL"]!)
        let prefix = redis.configuration.legacyPrefix
        for account in ["APEX_1", "PA1", "PA2"] {
            #expect(try await raw.command("GET", prefix + account).stringValue == token.accessToken)
            let ttl = Double(try #require(try await raw.command("TTL", prefix + account).integerValue))
            // The key expires with the token: its TTL lies between the time left when the write started and the time
            // left now (± 1 s for Redis's whole-second TTL), however slow a loaded machine makes the round trips.
            #expect(ttl <= token.secondsLeft(at: before) + 1)
            #expect(ttl >= token.secondsLeft(at: Date()) - 1)
            #expect(try await redis.token(for: account) == token)
        }
        let status = try await redis.status(of: ["APEX_1", "PA2", "NOPE"])
        #expect(status.map(\.present) == [true, true, false])
        #expect(status[1].login == "APEX_1")
        // Re-storing with fewer aliases removes the dropped alias's keys.
        let renewed = self.token(login: "APEX_1")
        try await redis.store(renewed, aliases: ["PA1"])
        #expect(try await raw.command("EXISTS", prefix + "PA2").integerValue == 0)
        #expect(try await redis.token(for: "PA1") == renewed)
        try await redis.remove(account: "APEX_1")
        #expect(try await redis.token(for: "PA1") == nil)
        #expect(try await raw.command("EXISTS", prefix + "APEX_1").integerValue == 0)
    }

    @Test("a token:<account> key written by the old system is readable")
    func oldLayoutReader() async throws {
        let redis = try provider()
        let raw = try RedisClient(url: env["ORCA_TEST_REDIS_URL"]!)
        let before = Date()
        _ = try await raw.command("SETEX", redis.configuration.legacyPrefix + "OLD_1", "3600", "legacy-token-value")
        let token = try #require(try await redis.token(for: "OLD_1"))
        #expect(token.accessToken == "legacy-token-value")
        let after = Date()
        // The key was set between `before` and `after`; the provider reads expiry as now + PTTL, so it lies in
        // [before + 3600, after + 3600] (± 1 s), however slow a loaded machine makes the round trips.
        #expect(token.expirationTime >= before.addingTimeInterval(3600 - 1))
        #expect(token.expirationTime <= after.addingTimeInterval(3600 + 1))
    }

    @Test("an expired token is refused, not stored")
    func expired() async throws {
        let redis = try provider()
        let error = await #expect(throws: TokenStoreError.self) {
            try await redis.store(token(login: "APEX_X", lifetime: -1), aliases: [])
        }
        #expect(error?.code == .tokenExpired)
    }

    @Test("the renewal lock is exclusive and only its owner releases it")
    func lock() async throws {
        let redis = try provider()
        // Locks that must outlive the next steps get 120 s: on a loaded machine a few awaits can take seconds.
        #expect(try await redis.acquireLock("renew:A", owner: "one", ttl: .seconds(120)))
        #expect(try await !redis.acquireLock("renew:A", owner: "two", ttl: .seconds(120)))
        try await redis.releaseLock("renew:A", owner: "two")  // not the owner: no effect
        #expect(try await !redis.acquireLock("renew:A", owner: "two", ttl: .seconds(120)))
        try await redis.releaseLock("renew:A", owner: "one")
        #expect(try await redis.acquireLock("renew:A", owner: "two", ttl: .milliseconds(200)))
        try await Task.sleep(for: .milliseconds(300))  // the lock expires by itself
        #expect(try await redis.acquireLock("renew:A", owner: "three", ttl: .seconds(120)))
        try await redis.releaseLock("renew:A", owner: "three")
    }

    @Test("a wrong password gives storageUnavailable naming the auth failure, without the password")
    func wrongPassword() async throws {
        var url = try RedisURL(env["ORCA_TEST_REDIS_URL"]!)
        url.password = "wrong-\(UUID().uuidString)"
        let redis = RedisTokenProvider(configuration: .init(url: url))
        let error = await #expect(throws: TokenStoreError.self) { try await redis.ping() }
        #expect(error?.code == .storageUnavailable)
        #expect(error?.description.contains("authFailed") == true)
        #expect(error?.description.contains(url.password!) == false)
    }

    @Test(
        "TLS with the right CA works; a wrong CA is a clear TLS error",
        .enabled(
            if: env["ORCA_TEST_REDIS_TLS_URL"] != nil,
            "set ORCA_TEST_REDIS_TLS_URL (scripts/test.sh starts a TLS Redis)"))
    func tls() async throws {
        let good = try provider(env["ORCA_TEST_REDIS_TLS_URL"], tls: .init(caFile: env["ORCA_TEST_REDIS_CA_FILE"]))
        let token = token(login: "TLS_1")
        try await good.store(token, aliases: ["TLS_ALIAS"])
        #expect(try await good.token(for: "TLS_ALIAS") == token)

        let wrong = try provider(
            env["ORCA_TEST_REDIS_TLS_URL"], tls: .init(caFile: env["ORCA_TEST_REDIS_WRONG_CA_FILE"]))
        let error = await #expect(throws: TokenStoreError.self) { try await wrong.ping() }
        #expect(error?.code == .storageUnavailable)
        #expect(error?.description.contains("tlsFailed") == true)

        // The certificate names only "localhost": the server name is verified.
        let badName = try provider(
            env["ORCA_TEST_REDIS_TLS_URL"],
            tls: .init(caFile: env["ORCA_TEST_REDIS_CA_FILE"], serverName: "not-this-host"))
        let nameError = await #expect(throws: TokenStoreError.self) { try await badName.ping() }
        #expect(nameError?.description.contains("tlsFailed") == true)
        let byIP = env["ORCA_TEST_REDIS_TLS_URL"]!.replacingOccurrences(of: "@localhost:", with: "@127.0.0.1:")
        let ipError = await #expect(throws: TokenStoreError.self) {
            try await provider(byIP, tls: .init(caFile: env["ORCA_TEST_REDIS_CA_FILE"])).ping()
        }
        #expect(ipError?.description.contains("tlsFailed") == true)
        try await provider(byIP, tls: .init(caFile: env["ORCA_TEST_REDIS_CA_FILE"], serverName: "localhost")).ping()

        let missingCA = try provider(env["ORCA_TEST_REDIS_TLS_URL"], tls: .init(caFile: "/nonexistent/ca.pem"))
        let caError = await #expect(throws: TokenStoreError.self) { try await missingCA.ping() }
        #expect(caError?.description.contains("/nonexistent/ca.pem") == true)
    }

    @Test("reconcile writes again exactly the lost or foreign keys, with the token's TTL, and defers to a newer token")
    func reconcile() async throws {
        let redis = try provider()
        let raw = try RedisClient(url: env["ORCA_TEST_REDIS_URL"]!)
        let legacy = redis.configuration.legacyPrefix
        let orca = redis.configuration.prefix
        let token = token(login: "APEX_R", lifetime: 4000)
        try await redis.store(token, aliases: ["PA1", "PA2"])
        #expect(try await redis.reconcile(token, aliases: ["PA1", "PA2"]) == .intact)

        // Lost: one alias key and the record; foreign: another alias holds an old value (written by hand).
        _ = try await raw.command("DEL", legacy + "PA1", orca + "token:APEX_R")
        _ = try await raw.command("SET", legacy + "PA2", "old-hand-written-value")
        let before = Date()
        let outcome = try await redis.reconcile(token, aliases: ["PA1", "PA2"])
        guard case .restored(let keys) = outcome else {
            Issue.record("expected restored, got \(outcome)")
            return
        }
        #expect(Set(keys) == [legacy + "PA1", legacy + "PA2", orca + "token:APEX_R"])
        for account in ["APEX_R", "PA1", "PA2"] {
            #expect(try await raw.command("GET", legacy + account).stringValue == token.accessToken)
            #expect(try await redis.token(for: account) == token)
        }
        // The rewritten keys expire with the token: written after `before`, so no later than its time left then.
        for key in [legacy + "PA1", legacy + "PA2", orca + "token:APEX_R"] {
            let ttl = Double(try #require(try await raw.command("TTL", key).integerValue))
            #expect(ttl <= token.secondsLeft(at: before) + 1)
            #expect(ttl >= token.secondsLeft(at: Date()) - 1)
        }
        #expect(try await redis.reconcile(token, aliases: ["PA1", "PA2"]) == .intact)

        // Everything gone (FLUSHALL-like): every key of the login comes back.
        _ = try await raw.command(
            "DEL", legacy + "APEX_R", legacy + "PA1", legacy + "PA2", orca + "account:APEX_R", orca + "account:PA1",
            orca + "account:PA2", orca + "token:APEX_R")
        guard case .restored(let all) = try await redis.reconcile(token, aliases: ["PA1", "PA2"]) else {
            Issue.record("expected restored")
            return
        }
        #expect(all.count == 7)

        // Another process renewed: its newer token is returned and nothing is overwritten.
        let renewed = self.token(login: "APEX_R", lifetime: 5000)
        try await redis.store(renewed, aliases: ["PA1", "PA2"])
        #expect(try await redis.reconcile(token, aliases: ["PA1", "PA2"]) == .newer(renewed))
        #expect(try await raw.command("GET", legacy + "PA1").stringValue == renewed.accessToken)

        // An older token in the store (an earlier run's) is replaced by the one held.
        let older = self.token(login: "APEX_O", lifetime: 100)
        let held = self.token(login: "APEX_O", lifetime: 4000)
        try await redis.store(older, aliases: [])
        guard case .restored(let replaced) = try await redis.reconcile(held, aliases: []) else {
            Issue.record("expected restored")
            return
        }
        #expect(Set(replaced) == [legacy + "APEX_O", orca + "token:APEX_O"])
        #expect(try await redis.token(for: "APEX_O") == held)

        let error = await #expect(throws: TokenStoreError.self) {
            try await redis.reconcile(self.token(login: "APEX_X", lifetime: -1), aliases: [])
        }
        #expect(error?.code == .tokenExpired)
    }

    @Test(
        "a refresher restores its keys after FLUSHALL and after Redis restarts empty, without a login or renewal",
        .enabled(if: env["ORCA_TEST_REDIS_SERVER"] != nil, "set ORCA_TEST_REDIS_SERVER to a redis-server binary"))
    func refresherRestoresLostKeys() async throws {
        let server = try OwnRedisServer(binary: env["ORCA_TEST_REDIS_SERVER"]!)
        defer { server.stop() }
        try await onThread { try server.start() }
        let url = RedisURL(host: "127.0.0.1", port: server.port)
        let redis = RedisTokenProvider(configuration: .init(url: url, connectTimeout: .seconds(2)))
        let raw = RedisClient(url: url)
        let clock = SystemWallClock()
        let auth = ScriptedAuth(clock: clock)
        let login = fakeCredentials(aliases: ["PA-R1"])
        let logs = CapturedLogs()
        let refresher = TokenRefresher(
            logins: [login], auth: auth, store: redis, locks: redis,
            configuration: .init(reconcileInterval: .seconds(1), reconcileRetryInterval: .milliseconds(200)),
            clock: clock, logger: logs.logger())
        let service = Task { try await refresher.run() }
        defer { service.cancel() }
        let token = try await refresher.token(for: login.name)
        let keys = ["token:\(login.name)", "token:PA-R1", "orca:token:\(login.name)"]

        /// Polls until every key holds what it should, for at most 60 s (a loaded machine, not the expected time).
        func restored() async throws -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let present = try? await [raw.command("GET", keys[0]), raw.command("GET", keys[1])]
                if present?.allSatisfy({ $0.stringValue == token.accessToken }) == true,
                    (try? await raw.command("EXISTS", keys[2]).integerValue) == 1
                {
                    return true
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        _ = try await raw.command("FLUSHALL")
        #expect(try await restored())
        let afterFlush = await refresher.statistics.keysRestored
        #expect(afterFlush >= 5)  // token: ×2, orca:account: ×2, orca:token:

        try await onThread {
            server.stop()
            try server.start()  // --save "": it comes back empty
        }
        #expect(try await restored())
        let statistics = await refresher.statistics
        #expect(statistics.keysRestored >= afterFlush + 5)
        #expect(statistics.lastRestoration[login.name]?.keys.contains(keys[1]) == true)
        #expect(statistics.storeReachable == true)
        // Restored from memory: no new login, no renewal.
        #expect(await auth.loginCalls == 1)
        #expect(await auth.renewCalls == 0)
        #expect(logs.all.contains { $0.contains("written again from the token held in memory") })
        // Key names are logged, never the token.
        #expect(!logs.all.contains { $0.contains(token.accessToken) || $0.contains(token.marketDataToken) })
    }

    @Test(
        "Redis down at start, then started, then restarted mid-run: the provider reconnects",
        .enabled(if: env["ORCA_TEST_REDIS_SERVER"] != nil, "set ORCA_TEST_REDIS_SERVER to a redis-server binary"))
    func restart() async throws {
        let server = try OwnRedisServer(binary: env["ORCA_TEST_REDIS_SERVER"]!)
        defer { server.stop() }
        // Starting and stopping block (spawn, wait, poll): keep them off the cooperative pool.
        let redis = RedisTokenProvider(
            configuration: .init(url: RedisURL(host: "127.0.0.1", port: server.port), connectTimeout: .seconds(2)))
        let down = await #expect(throws: TokenStoreError.self) { try await redis.ping() }
        #expect(down?.code == .storageUnavailable)
        try await onThread { try server.start() }
        let token = token(login: "R1")
        try await redis.store(token, aliases: [])
        try await onThread {
            server.stop()
            try server.start()
        }
        // The first call after the restart may see the dead connection; the next one reconnects.
        _ = try? await redis.token(for: "R1")
        try await redis.store(token, aliases: [])
        #expect(try await redis.token(for: "R1") == token)
    }
}
