// Token refresh benchmark: 4 logins whose tokens are written under 24 account keys (each login plus 5 aliases),
// against the in-process Tradovate simulator (real loopback HTTP through libcurl) and a real Redis.
//
//   cd Benchmarks && swift run -c release TokenBench
//
// Uses ORCA_BENCH_REDIS_URL when set; otherwise starts a throwaway `redis-server` on a free loopback port.
// The old system needed about 0.6 s to renew and write 24 keys for 4 logins.
import CandleCore
import Foundation
import TokenStore
import TradovateSimulator

@main
struct TokenBench {
    static func main() async throws {
        var ownRedis: pid_t = 0
        let redisURL: String
        if let url = ProcessInfo.processInfo.environment["ORCA_BENCH_REDIS_URL"] {
            redisURL = url
        } else {
            let port = Int.random(in: 30_000...60_000)
            ownRedis = try spawn([
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--logfile", "/dev/null",
            ])
            redisURL = "redis://127.0.0.1:\(port)/0"
            try await Task.sleep(for: .milliseconds(300))
        }
        defer { if ownRedis > 0 { kill(ownRedis, SIGTERM); var s: Int32 = 0; waitpid(ownRedis, &s, 0) } }

        let users = (0..<4).map {
            SimulatorLogin(name: "BENCH_\($0)", password: "pw-\(UUID())", cid: $0 + 1, sec: "s-\(UUID())")
        }
        var configuration = SimulatorConfiguration()
        configuration.logins = users
        configuration.auth.maxRenewalsPerHour = nil
        let sim = try await SimulatorServer.start(configuration)
        let credentials = users.map { user in
            TradovateCredentials(
                name: user.name, password: user.password, cid: user.cid, secret: user.sec,
                aliases: (1...5).map { "PA\(user.name)\($0)" })
        }
        let keys = credentials.reduce(0) { $0 + $1.accounts.count }
        let redis = RedisTokenProvider(configuration: .init(url: try RedisURL(redisURL)))
        let refresher = TokenRefresher(
            logins: credentials,
            auth: TradovateAuthClient(configuration: .init(baseURL: sim.restBaseURL.absoluteString, deviceID: "bench")),
            store: redis, locks: redis, configuration: .init(maximumRenewalsPerHour: 1_000))

        func round() async throws -> Double {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for login in credentials { group.addTask { _ = try await refresher.refreshNow(login.name) } }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        let first = try await round()  // logins (and the connection set-up)
        var renewals: [Double] = []
        for _ in 0..<20 { renewals.append(try await round()) }
        renewals.sort()
        let median = renewals[renewals.count / 2]
        let stats = sim.stats.snapshot()
        print(
            "Token refresh: \(credentials.count) logins, \(keys) account keys, Redis \(redisURL.hasPrefix("rediss") ? "TLS" : "plain")"
        )
        print(String(format: "  first round (4 logins + all keys):      %.1f ms", first * 1000))
        print(
            String(
                format: "  renew + write all keys, median of 20:   %.1f ms  (min %.1f, max %.1f)", median * 1000,
                renewals[0] * 1000, renewals[renewals.count - 1] * 1000))
        print(String(format: "  old system: ~600 ms  → ratio old/new = %.0f×", 0.6 / median))
        print("  simulator: \(stats.loginsSucceeded) logins, \(stats.renewalsSucceeded) renewals")
        await redis.close()
        await sim.shutdown()
    }

    static func spawn(_ arguments: [String]) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], nil, nil, argv, environ) == 0 else {
            throw BenchError(message: "cannot start redis-server; set ORCA_BENCH_REDIS_URL")
        }
        return pid
    }
}

struct BenchError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
