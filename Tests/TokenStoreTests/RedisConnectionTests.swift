import Foundation
import ServerTestSupport
import Testing

@testable import TokenStore

/// Tests that need no Redis server: failures against loopback peers that are not Redis.
@Suite("RedisConnection without a server")
struct RedisConnectionTests {
    private let password = "never-print-me-42"

    private func expectRedisError(
        _ code: RedisError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) -> RedisError? {
        do {
            try body()
            Issue.record("expected RedisError.\(code)", sourceLocation: sourceLocation)
            return nil
        } catch let error as RedisError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(!String(describing: error).contains(password), sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test("a closed port gives connectionFailed without the password")
    func closedPort() throws {
        let closed = try ClosedPort()
        let error = expectRedisError(.connectionFailed) {
            _ = try RedisConnection(url: "redis://:\(password)@127.0.0.1:\(closed.port)/0")
        }
        #expect(error?.message.contains("127.0.0.1:\(closed.port)") == true)
    }

    @Test("rediss:// URLs are refused with tlsUnsupported")
    func tlsUnsupported() throws {
        let error = expectRedisError(.tlsUnsupported) {
            _ = try RedisConnection(url: "rediss://user:\(password)@127.0.0.1:6380/0")
        }
        #expect(error?.message.contains("TLS not supported by this transport yet") == true)
    }

    @Test("a server that never answers gives timeout")
    func commandTimeout() throws {
        let server = try LoopbackServer(.silent)
        defer { server.stop() }
        let started = ContinuousClock.now
        _ = expectRedisError(.timeout) {
            _ = try RedisConnection(
                url: "redis://:\(password)@127.0.0.1:\(server.port)", commandTimeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(30))  // 0.3 s timeout; generous for a loaded machine
    }

    @Test("a peer that is not Redis gives protocolError")
    func notRedis() throws {
        let server = try LoopbackServer(.raw(bytes: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8)))
        defer { server.stop() }
        let connection = try RedisConnection(url: "redis://127.0.0.1:\(server.port)")
        _ = expectRedisError(.protocolError) {
            _ = try connection.command("PING")
        }
        #expect(!connection.isUsable)
        _ = expectRedisError(.connectionLost) {
            _ = try connection.command("PING")
        }
        #expect(server.firstRequestText == "*1\r\n$4\r\nPING\r\n")
    }

    @Test("a peer that closes the connection gives connectionLost")
    func peerCloses() throws {
        let server = try LoopbackServer(.raw(bytes: []))
        defer { server.stop() }
        let connection = try RedisConnection(url: "redis://127.0.0.1:\(server.port)")
        _ = expectRedisError(.connectionLost) {
            _ = try connection.command(["GET", "key"])
        }
    }

    @Test("an error reply to AUTH gives authFailed")
    func authRejected() throws {
        let server = try LoopbackServer(.raw(bytes: Array("-WRONGPASS invalid username-password pair\r\n".utf8)))
        defer { server.stop() }
        let error = expectRedisError(.authFailed) {
            _ = try RedisConnection(url: "redis://orca:\(password)@127.0.0.1:\(server.port)")
        }
        #expect(error?.message.contains("WRONGPASS") == true)
        // AUTH was sent as the ACL form with the password as a bulk string.
        #expect(server.firstRequestText == "*3\r\n$4\r\nAUTH\r\n$4\r\norca\r\n$17\r\n\(password)\r\n")
    }

    @Test("RedisClient reports connect failures and stays usable for retries")
    func clientClosedPort() async throws {
        let closed = try ClosedPort()
        let client = try RedisClient(url: "redis://:\(password)@127.0.0.1:\(closed.port)")
        for _ in 0..<2 {
            await #expect {
                try await client.command("PING")
            } throws: { error in
                (error as? RedisError)?.code == .connectionFailed && !"\(error)".contains(password)
            }
        }
        #expect(await client.isConnected == false)
        #expect(!client.url.description.contains(password))
    }
}
