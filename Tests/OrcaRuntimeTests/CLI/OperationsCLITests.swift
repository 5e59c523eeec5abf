import Foundation
import OrcaTestSupport
import Testing

private let databaseURL = ProcessInfo.processInfo.environment["ORCA_TEST_DATABASE_URL"]
private let redisTLSURL = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_TLS_URL"]
private let redisCAFile = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_CA_FILE"]

/// `orca-run health`, `verify` (with `--repair`) and `backfill` (killed with SIGKILL, then resumed) as a user runs
/// them: the built binary, the embedded simulator pinned to a known market instant, a real PostgreSQL and Redis (TLS).
@Suite(
    "orca-run health, verify, backfill (binary, PostgreSQL, Redis TLS)", .serialized, .timeLimit(.minutes(10)),
    .enabled(
        if: databaseURL != nil && redisTLSURL != nil && redisCAFile != nil,
        "set ORCA_TEST_DATABASE_URL, ORCA_TEST_REDIS_TLS_URL and ORCA_TEST_REDIS_CA_FILE (scripts/test.sh does)"))
struct OperationsCLITests {
    /// The embedded simulator's clock pinned to Wednesday 2025-12-03 15:00Z (market open) from now on, a fresh
    /// schema, TLS Redis, and NQ + ES at 5 and 60 minutes.
    func environment(schema: String, startingAt start: String = "2025-12-03T15:00:00Z") -> [String: String] {
        let anchor = ISO8601DateFormatter().string(
            from: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        return [
            "DATABASE_URL": databaseURL!, "ORCA_DATABASE_SCHEMA": schema, "REDIS_URL": redisTLSURL!,
            "ORCA_REDIS_TLS_CA_FILE": redisCAFile!, "ORCA_SIMULATOR_START": start, "ORCA_SIMULATOR_ANCHOR": anchor,
            "ORCA_COLLECTOR_INSTRUMENTS": "NQ,ES", "ORCA_COLLECTOR_TIMEFRAMES": "5,60", "ORCA_LOG_LEVEL": "error",
            "ORCA_COLLECTOR_HEAL_LOOK_BACK": "2d",
        ]
    }

    func psql(_ sql: String, schema: String) async throws -> String {
        let result = try await runProcess(
            "/usr/bin/env", ["psql", databaseURL!, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql])
        #expect(result.status == 0, "psql failed: \(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "health 0 after a run, 1 with the latest bars deleted, 2 with PostgreSQL unreachable; verify finds and repairs a hole"
    )
    func healthAndVerify() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let schema = "ops_\(UUID().uuidString.prefix(8).lowercased())"
        let env = environment(schema: schema)

        // A short daemon run: logs in (token to Redis), heals two days of look-back, writes live bars.
        let run = try await harness.run(["run", "--duration", "6", "--status", "none", "--no-http"], environment: env)
        #expect(run.status == 0, "\(run.output)")

        let healthy = try await harness.run(["health"], environment: env)
        #expect(healthy.status == 0, "expected healthy:\n\(healthy.output)")
        #expect(healthy.output.contains("demo"))
        let json = try await harness.run(["health", "--json"], environment: env)
        #expect(json.status == 0)
        #expect(json.output.contains("\"status\""))

        // The latest 5-minute NQ bars disappear: the series lags → degraded.
        let deleted = try await psql(
            "DELETE FROM \(schema).nq_candles_5min WHERE candle_time >= '2025-12-03T14:40:00Z'", schema: schema)
        #expect(deleted.contains("DELETE") || deleted.isEmpty || Int(deleted) != nil)
        let degraded = try await harness.run(["health"], environment: env)
        #expect(degraded.status == 1, "expected degraded:\n\(degraded.output)")
        #expect(degraded.output.contains("NQ 5min"))

        // PostgreSQL unreachable → down.
        var unreachable = env
        unreachable["DATABASE_URL"] = "postgres://orca:secret-\(UUID().uuidString)@127.0.0.1:1/orca"
        let down = try await harness.run(["health"], environment: unreachable)
        #expect(down.status == 2, "expected down:\n\(down.output)")
        #expect(!down.output.contains(unreachable["DATABASE_URL"]!.dropFirst(17).prefix(20)))

        // A hole in the middle of the look-back: verify lists it (exit 1), --repair fills it (exit 0).
        _ = try await psql(
            "DELETE FROM \(schema).es_candles_5min WHERE candle_time >= '2025-12-02T16:00:00Z' "
                + "AND candle_time < '2025-12-02T16:30:00Z'", schema: schema)
        let range = ["--from", "2025-12-02T00:00:00Z", "--to", "2025-12-03T14:00:00Z"]
        let hole = try await harness.run(["verify"] + range, environment: env)
        #expect(hole.status == 1, "\(hole.output)")
        #expect(hole.output.contains("2025-12-02 16:00 → 16:25 (6 bars)"), "\(hole.output)")
        let repaired = try await harness.run(["verify", "--repair"] + range, environment: env)
        #expect(repaired.status == 0, "\(repaired.output)")
        let again = try await harness.run(["verify", "--json"] + range, environment: env)
        #expect(again.status == 0, "\(again.output)")
        let count = try await psql(
            "SELECT count(*) FROM \(schema).es_candles_5min WHERE candle_time >= '2025-12-02T16:00:00Z' "
                + "AND candle_time < '2025-12-02T16:30:00Z'", schema: schema)
        #expect(count == "6")
    }

    @Test("backfill killed with SIGKILL resumes from its checkpoint: no holes, no duplicates")
    func backfillKillResume() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let schema = "bf_\(UUID().uuidString.prefix(8).lowercased())"
        var env = environment(schema: schema)
        env["ORCA_COLLECTOR_INSTRUMENTS"] = "NQ,MNQ,ES,MES"
        env["ORCA_COLLECTOR_TIMEFRAMES"] = "1"
        let arguments = [
            "backfill", "--from", "2025-06-01", "--to", "2025-11-01", "--chunk-days", "3", "--concurrency", "2",
        ]

        let first = try harness.start(arguments, environment: env)
        _ = try await first.waitForOutput(seconds: 60) { $0.contains("backfilling") }
        // Let the first chunks land (the checkpoint records completed ranges), then kill without warning.
        let checkpoint = harness.directory.appendingPathComponent("orca-data/.state/backfill-checkpoint.json")
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let text = try? String(contentsOf: checkpoint, encoding: .utf8), text.contains("\"completed\":[[") {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let killed = await first.stop(SIGKILL)
        #expect(killed == 128 + SIGKILL, "the backfill should still be running when killed:\n\(first.output)")
        let stored = try await psql("SELECT count(*) FROM \(schema).nq_candles_1min", schema: schema)

        let second = try await harness.run(arguments, environment: env)
        #expect(second.status == 0, "\(second.output)")
        // The second run skips what the first recorded: the summary's total line has skipped chunks.
        let total = try #require(second.output.split(separator: "\n").first { $0.hasPrefix("total") })
        let columns = total.split(separator: " ")
        #expect(columns.count > 3 && columns[3] != "0", "resumed run skipped nothing: \(total)")
        let after = try await psql("SELECT count(*) FROM \(schema).nq_candles_1min", schema: schema)
        #expect((Int(after) ?? 0) >= (Int(stored) ?? 0))
        let duplicates = try await psql(
            "SELECT count(*) FROM (SELECT candle_time FROM \(schema).nq_candles_1min GROUP BY candle_time "
                + "HAVING count(*) > 1) d", schema: schema)
        #expect(duplicates == "0")

        let verify = try await harness.run(
            ["verify", "--from", "2025-06-01", "--to", "2025-11-01"], environment: env)
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("COMPLETE"))
    }
}
