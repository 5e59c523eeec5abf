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

/// A redis-server process of the test's own, on a fixed free port, that can be stopped and started again.
///
/// Spawned with `posix_spawn` and reaped with `waitpid` (Foundation's `Process.waitUntilExit` busy-spins on Linux when
/// called off the main thread).
final class OwnRedisServer: @unchecked Sendable {
    let binary: String
    let port: Int
    private var pid: pid_t = 0

    init(binary: String) throws {
        self.binary = binary
        self.port = try OwnRedisServer.freePort()
    }

    func start() throws {
        let arguments = [
            binary, "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--logfile", "/dev/null",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, nil, nil, &argv, environ)
        guard rc == 0 else { throw TokenStoreError(.storageUnavailable, "cannot spawn redis-server (\(rc))") }
        pid = child
        for _ in 0..<200 {
            if let client = try? RedisConnection(url: RedisURL(host: "127.0.0.1", port: port)),
                (try? client.command("PING")) == .status("PONG")
            {
                return
            }
            usleep(25_000)
        }
        throw TokenStoreError(.storageUnavailable, "redis-server did not start on \(port)")
    }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
