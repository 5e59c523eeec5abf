import Foundation
import TokenStore

#if canImport(Glibc)
    import Glibc
#endif

/// A redis-server process of the test's own, on a fixed free port, that can be stopped and started again.
///
/// Spawned with `posix_spawn` and reaped with `waitpid` (Foundation's `Process.waitUntilExit` busy-spins on Linux when
/// called off the main thread).
public final class OwnRedisServer: @unchecked Sendable {
    /// The `redis-server` executable.
    public let binary: String
    /// The loopback port it listens on, the same for every start.
    public let port: Int
    private var pid: pid_t = 0

    /// Picks a free loopback port; nothing runs until ``start()``.
    public init(binary: String) throws {
        self.binary = binary
        self.port = try OwnRedisServer.freePort()
    }

    /// Starts the server without persistence (`--save ""`, no AOF: a restart comes back empty) and waits until it
    /// answers `PING`. Blocks: call it through ``onThread(_:)``.
    public func start() throws {
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

    /// Kills the server (SIGKILL) and reaps it. Blocks briefly.
    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// A loopback TCP port nothing uses right now, below the kernel's ephemeral range (`ip_local_port_range`):
    /// the server is stopped and started again on it, and an outgoing connection made while it is down takes its
    /// local port from the ephemeral range — a port from there could be taken when the server comes back.
    public static func freePort() throws -> Int {
        var low = 32_768
        if let range = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let first = range.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap({ Int($0) })
        {
            low = first
        }
        guard low > 11_000 else { throw TokenStoreError(.storageUnavailable, "no ports below the ephemeral range") }
        for _ in 0..<200 {
            let port = Int.random(in: 10_000..<low)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if bound == 0 { return port }
        }
        throw TokenStoreError(.storageUnavailable, "no free loopback port found below \(low)")
    }
}

/// Runs `body` on a new thread (not Swift's cooperative pool, which has as many threads as cores and must not be
/// blocked by `waitpid` or blocking sockets in tests).
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}
