import Foundation
import OrcaTestSupport
import ServerTestSupport
import Testing
import TokenStore

private let redisServer = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_SERVER"]

/// The built `orca-run` binary: the embedded default, `/health` and `/metrics` during a run, graceful SIGTERM.
@Suite("orca-run run (binary, embedded default)", .serialized, .timeLimit(.minutes(10)))
struct DaemonCLITests {
    @Test("with no configuration: bars within a minute in ./orca-data, /health and /metrics answer, SIGTERM exits 0")
    func embeddedDefault() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let started = Date()
        let orca = try harness.start(["--speed", "60", "--status", "lines", "--http-port", "0"])
        let port = try await orca.httpPort()

        // A live bar (not only the look-back heal) within a minute of real time.
        let output = try await orca.waitForOutput(seconds: 60) { $0.contains("s after close") }
        #expect(Date().timeIntervalSince(started) < 60)

        let health = try await httpGet("http://127.0.0.1:\(port)/health")
        #expect(health.status == 200 || health.status == 503)
        #expect(health.body.contains("\"status\""))
        let metrics = try await httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("orca_"))
        let missing = try await httpGet("http://127.0.0.1:\(port)/nothing")
        #expect(missing.status == 404)

        let status = await orca.stop(SIGTERM)
        #expect(status == 0, "orca-run must exit 0 on SIGTERM; output:\n\(orca.output.suffix(2_000))")
        #expect(orca.output.contains("stopped;"))

        // Every live bar the process reported is in the files.
        let csv = try String(
            contentsOf: harness.directory.appendingPathComponent("orca-data/NQ/5min.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count > 100)
        let reported = output.split(separator: "\n").filter { $0.contains("NQ 5min") && $0.contains("after close") }
        #expect(!reported.isEmpty)
        for line in reported {
            // "HH:MM:SS NQ 5min    NQZ6   bar 2026-11-26 23:00Z written …"
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "bar"), index + 2 < words.count else { continue }
            let stamp = "\(words[index + 1])T\(words[index + 2].dropLast()):00Z"
            #expect(csv.contains(stamp), "bar \(stamp) reported written but not in NQ/5min.csv")
        }
    }

    @Test(
        "Redis loses the token keys (FLUSHALL, restart without persistence): the daemon writes them again, health says so",
        .enabled(if: redisServer != nil, "set ORCA_TEST_REDIS_SERVER to a redis-server binary (scripts/test.sh does)"))
    func lostTokenKeysAreRestored() async throws {
        let server = try OwnRedisServer(binary: redisServer!)
        defer { server.stop() }
        try await onThread { try server.start() }
        let url = "redis://127.0.0.1:\(server.port)/0"
        let harness = try OrcaRunHarness(extra: ["REDIS_URL": url])
        defer { harness.remove() }
        // The default check interval (10 s): the promise is "keys back within 15 s".
        let orca = try harness.start(["--speed", "60", "--status", "lines", "--http-port", "0"])
        let port = try await orca.httpPort()
        let redis = RedisClient(url: RedisURL(host: "127.0.0.1", port: server.port))
        let keys = ["token:demo", "orca:account:demo", "orca:token:demo"]

        /// Seconds until every key is back (polled every 100 ms, at most 90 s: a bound for a loaded machine).
        func secondsUntilKeysPresent() async throws -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < 90 {
                var present = 0
                for key in keys where (try? await redis.command("EXISTS", key).integerValue) == 1 { present += 1 }
                if present == keys.count { return Date().timeIntervalSince(start) }
                try await Task.sleep(for: .milliseconds(100))
            }
            return nil
        }
        let written = try await secondsUntilKeysPresent()
        #expect(written != nil, "the daemon never stored its token:\n\(orca.output.suffix(2_000))")
        let token = try #require(try await redis.command("GET", "token:demo").stringValue)
        try await Task.sleep(for: .seconds(1))  // past the check that follows the first store

        _ = try await redis.command("FLUSHALL")
        let afterFlush = try await secondsUntilKeysPresent()
        #expect(afterFlush != nil, "keys not restored after FLUSHALL:\n\(orca.output.suffix(2_000))")
        // The same token (no login, no renewal), with a TTL to its expiry.
        #expect(try await redis.command("GET", "token:demo").stringValue == token)
        #expect((try await redis.command("PTTL", "token:demo").integerValue ?? 0) > 60_000)

        try await onThread {
            server.stop()  // SIGKILL; --save "": it comes back empty
            try server.start()
        }
        let afterRestart = try await secondsUntilKeysPresent()
        #expect(afterRestart != nil, "keys not restored after a restart:\n\(orca.output.suffix(2_000))")
        #expect(try await redis.command("GET", "token:demo").stringValue == token)
        print("token keys back \(afterFlush ?? -1) s after FLUSHALL, \(afterRestart ?? -1) s after an empty restart")

        let output = orca.output
        #expect(output.contains("written again from the token held in memory"))
        #expect(!output.contains(token), "the token must never be logged")
        let health = try await httpGet("http://127.0.0.1:\(port)/health")
        #expect(health.body.contains("keysRestoredAt"), "health: \(health.body.prefix(2_000))")
        #expect(health.body.contains("the token store lost"))
        // The counter appears within a poll (every 5 s); a loaded machine gets a minute.
        var metrics = ""
        for _ in 0..<120 {
            metrics = try await httpGet("http://127.0.0.1:\(port)/metrics").body
            if metrics.split(separator: "\n").contains(where: {
                $0.hasPrefix("orca_token_keys_restored_total ") && !$0.hasSuffix(" 0")
            }) {
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(
            metrics.split(separator: "\n").contains {
                $0.hasPrefix("orca_token_keys_restored_total ") && !$0.hasSuffix(" 0")
            }, "metrics: \(metrics.prefix(3_000))")

        #expect(await orca.stop(SIGTERM) == 0, "output:\n\(orca.output.suffix(2_000))")
    }

    @Test("argument errors name the problem and exit non-zero")
    func argumentErrors() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let status = try await harness.run(["run", "--status", "fancy"])
        #expect(status.status != 0)
        #expect(status.output.contains("--status must be auto, lines, table or none"))
        let duration = try await harness.run(["run", "--duration", "0"])
        #expect(duration.status != 0)
        #expect(duration.output.contains("--duration must be a positive number"))
        let unknown = try await harness.run(["run", "--frobnicate"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("frobnicate"))
    }

    @Test("configuration errors name the key, the problem and the fix; exit 78")
    func configurationErrors() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let instrument = try await harness.run(["run", "--instruments", "NQ,XQ"])
        #expect(instrument.status == 78)
        #expect(instrument.output.contains("collector.instruments"))
        #expect(instrument.output.contains("XQ"))

        let timeframe = try await harness.run(["run", "--timeframes", "5,7x"])
        #expect(timeframe.status == 78)
        #expect(timeframe.output.contains("collector.timeframes"))

        let url = try await harness.run(["run"], environment: ["DATABASE_URL": "mysql://nope"])
        #expect(url.status == 78)
        #expect(url.output.contains("database.url"))

        let redis = try await harness.run(["run", "--redis-url", "http://example.com"])
        #expect(redis.status == 78)
        #expect(redis.output.contains("redis.url"))

        let missingFile = try await harness.run(["run", "--config", "/nonexistent/orca.yaml"])
        #expect(missingFile.status == 78)
        #expect(missingFile.output.contains("/nonexistent/orca.yaml"))

        let yaml = harness.directory.appendingPathComponent("typo.yaml")
        try "collector:\n  lookbak: 2d\n".write(to: yaml, atomically: true, encoding: .utf8)
        let typo = try await harness.run(["run", "--config", yaml.path])
        #expect(typo.status == 78)
        #expect(typo.output.contains("lookbak"))

        let credentials = harness.directory.appendingPathComponent("credentials.yaml")
        let secret = "sec-\(UUID().uuidString)"
        try "- name: alice\n  password: pw-\(UUID().uuidString)\n  cid: 7\n  sec: \(secret)\n".write(
            to: credentials, atomically: true, encoding: .utf8)
        chmod(credentials.path, 0o644)
        let open = try await harness.run(
            ["run"], environment: ["ORCA_TRADOVATE_CREDENTIALS_FILE": credentials.path])
        #expect(open.status == 78)
        #expect(open.output.contains("600") || open.output.contains("chmod"))
        #expect(!open.output.contains(secret))

        let missingCredentials = try await harness.run(
            ["run"], environment: ["ORCA_TRADOVATE_ENVIRONMENT": "live"])
        #expect(missingCredentials.status == 78)
        #expect(missingCredentials.output.lowercased().contains("credentials"))
    }
}
