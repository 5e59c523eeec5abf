import Foundation
import ServerTestSupport
import Testing

@testable import TokenStore

private let redisURL = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_URL"]

/// Smoke tests against a real Redis; `scripts/test.sh` starts a throwaway server with `requirepass` and exports
/// `ORCA_TEST_REDIS_URL` (with the password). Skipped otherwise.
@Suite(
    "Redis integration",
    .enabled(if: redisURL != nil, "set ORCA_TEST_REDIS_URL (scripts/test.sh does) to run against a real Redis"),
    .serialized)
struct RedisIntegrationTests {
    let url: RedisURL
    /// A per-run key prefix so concurrent runs against a shared server do not collide.
    let prefix = "orca-test:\(UUID().uuidString):"

    init() throws {
        url = try RedisURL(redisURL ?? "redis://127.0.0.1:6379/0")
    }

    @Test("PING, SET, GET, EXPIRE and TTL, DEL")
    func basicCommands() throws {
        let redis = try RedisConnection(url: url)
        #expect(try redis.command("PING") == .status("PONG"))
        let key = prefix + "basic"
        #expect(try redis.command(["SET", key, "value-1"]) == .status("OK"))
        #expect(try redis.command("GET", key).stringValue == "value-1")
        #expect(try redis.command("EXPIRE", key, "100") == .integer(1))
        let ttl = try #require(try redis.command("TTL", key).integerValue)
        #expect((1...100).contains(ttl))
        #expect(try redis.command("DEL", key) == .integer(1))
        #expect(try redis.command("GET", key) == .null)
        #expect(try redis.command("TTL", key) == .integer(-2))
    }

    @Test("binary values round-trip")
    func binaryValues() throws {
        let redis = try RedisConnection(url: url)
        let key = Array((prefix + "binary").utf8)
        let value: [UInt8] = [0, 1, 2, 13, 10, 255, 0, 36]
        #expect(try redis.command(bytes: [Array("SET".utf8), key, value]) == .status("OK"))
        #expect(try redis.command(bytes: [Array("GET".utf8), key]) == .bulk(value))
        _ = try redis.command(bytes: [Array("DEL".utf8), key])
    }

    @Test("arrays and server errors")
    func arraysAndErrors() throws {
        let redis = try RedisConnection(url: url)
        let list = prefix + "list"
        #expect(try redis.command("RPUSH", list, "a", "b", "c") == .integer(3))
        #expect(
            try redis.command("LRANGE", list, "0", "-1")
                == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8)), .bulk(Array("c".utf8))]))
        #expect {
            try redis.command("INCR", list)
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .serverError && error?.message.hasPrefix("WRONGTYPE") == true
        }
        // A server error leaves the connection usable.
        #expect(redis.isUsable)
        #expect(try redis.command("DEL", list) == .integer(1))
        #expect {
            try redis.command("NO-SUCH-COMMAND")
        } throws: { error in
            (error as? RedisError)?.code == .serverError
        }
    }

    @Test("MULTI/EXEC returns nested replies through withConnection")
    func transaction() async throws {
        let client = RedisClient(url: url)
        let key = prefix + "tx"
        let replies = try await client.withConnection { redis in
            _ = try redis.command("MULTI")
            _ = try redis.command("SET", key, "1")
            _ = try redis.command("INCRBY", key, "41")
            _ = try redis.command("DEL", key)
            return try redis.command("EXEC")
        }
        #expect(replies == .array([.status("OK"), .integer(42), .integer(1)]))
    }

    @Test("a wrong password gives authFailed without echoing it")
    func wrongPassword() throws {
        var wrong = url
        wrong.password = "definitely-wrong-\(UUID().uuidString)"
        #expect {
            _ = try RedisConnection(url: wrong)
        } throws: { error in
            (error as? RedisError)?.code == .authFailed && !"\(error)".contains(wrong.password!)
        }
    }

    @Test("no password against a requirepass server gives authFailed (NOAUTH)")
    func missingPassword() throws {
        var anonymous = url
        anonymous.password = nil
        anonymous.username = nil
        let redis = try RedisConnection(url: anonymous)
        #expect {
            try redis.command("GET", prefix + "x")
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .authFailed && error?.message.hasPrefix("NOAUTH") == true
        }
    }

    @Test("SELECT runs on connect")
    func selectDatabase() throws {
        var other = url
        other.database = 1
        let key = prefix + "db"
        let one = try RedisConnection(url: other)
        _ = try one.command("SET", key, "in-db-1")
        let zero = try RedisConnection(url: url)
        #expect(try zero.command("GET", key) == .null)
        #expect(try one.command("GET", key).stringValue == "in-db-1")
        _ = try one.command("DEL", key)

        other.database = 100_000
        #expect {
            _ = try RedisConnection(url: other)
        } throws: { error in
            (error as? RedisError)?.code == .serverError
        }
    }

    @Test("RedisClient serves concurrent tasks and reconnects after close")
    func asyncClient() async throws {
        let client = RedisClient(url: url)
        try await client.connect()
        let key = prefix + "counter"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { _ = try await client.command("INCR", key) }
            }
            try await group.waitForAll()
        }
        #expect(try await client.command("GET", key).stringValue == "50")
        await client.close()
        #expect(await client.isConnected == false)
        #expect(try await client.command("DEL", key) == .integer(1))
        #expect(await client.isConnected)
    }

    @Test("a blocking command past the command timeout gives timeout, and the client recovers")
    func timeout() async throws {
        let client = RedisClient(url: url, commandTimeout: .milliseconds(300))
        await #expect {
            try await client.command("BLPOP", prefix + "never", "5")
        } throws: { error in
            (error as? RedisError)?.code == .timeout
        }
        #expect(await client.isConnected == false)
        #expect(try await client.command("PING") == .status("PONG"))
    }
}
