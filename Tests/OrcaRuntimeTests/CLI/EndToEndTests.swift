import Foundation
import OrcaTestSupport
import Testing

private let databaseURL = ProcessInfo.processInfo.environment["ORCA_TEST_DATABASE_URL"]
private let redisTLSURL = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_TLS_URL"]
private let redisCAFile = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_CA_FILE"]

/// Acceptance: `orca-run run` against a simulator *process* (with sockets dropped every 8 s), a real Redis over TLS
/// and a real PostgreSQL, at 60× speed across the NQZ5 → NQH6 roll; then `orca-run verify` finds nothing missing and
/// nothing duplicated in all 16 series, and `orca-run health` reads the token from Redis.
@Suite(
    "End to end: orca-run run + simulate process + Redis TLS + PostgreSQL", .serialized, .timeLimit(.minutes(10)),
    .enabled(
        if: databaseURL != nil && redisTLSURL != nil && redisCAFile != nil,
        "set ORCA_TEST_DATABASE_URL, ORCA_TEST_REDIS_TLS_URL and ORCA_TEST_REDIS_CA_FILE (scripts/test.sh does)"))
struct EndToEndTests {
    @Test("a live run across a roll with dropped sockets → verify: 0 missing, 0 duplicates in 16 series")
    func liveRunThenVerify() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let speed = 60.0
        // Simulated 2025-12-10 22:50Z: ten minutes before the session that rolls NQZ5 → NQH6 opens (23:00Z).
        let simulatedStart = "2025-12-10T22:50:00Z"
        let startInstant = ISO8601DateFormatter().date(from: simulatedStart)!
        let anchor = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2).rounded(.down))
        let anchorText = ISO8601DateFormatter().string(from: anchor)

        let simulator = try harness.start([
            "simulate", "--port", "0", "--seed", "7", "--start", simulatedStart, "--speed", String(speed),
            "--anchor", anchorText, "--drop-every", "8",
        ])
        defer { simulator.child.kill(SIGKILL) }
        let banner = try await simulator.waitForOutput(seconds: 60) { $0.contains("ws://") }
        let rest = try #require(url(in: banner, scheme: "http://"))
        let socket = try #require(url(in: banner, scheme: "ws://"))

        let schema = "e2e_\(UUID().uuidString.prefix(8).lowercased())"
        let environment = [
            "ORCA_TRADOVATE_ENVIRONMENT": "custom", "ORCA_TRADOVATE_REST_URL": rest,
            "ORCA_TRADOVATE_MARKET_DATA_URL": socket, "ORCA_TRADOVATE_USERNAME": "demo",
            "ORCA_TRADOVATE_PASSWORD": "demo", "ORCA_TRADOVATE_CID": "1", "ORCA_TRADOVATE_SEC": "demo",
            "ORCA_SIMULATOR_START": simulatedStart, "ORCA_SIMULATOR_SPEED": String(speed),
            "ORCA_SIMULATOR_ANCHOR": anchorText, "DATABASE_URL": databaseURL!, "ORCA_DATABASE_SCHEMA": schema,
            "REDIS_URL": redisTLSURL!, "ORCA_REDIS_TLS_CA_FILE": redisCAFile!, "ORCA_LOG_LEVEL": "warning",
        ]
        let orca = try harness.start(["run", "--status", "lines", "--http-port", "0"], environment: environment)
        // Run until simulated 23:40Z (50 simulated minutes ≈ 50 s): live bars of the new contract after the roll.
        let stopAt = startInstant.addingTimeInterval(50 * 60)
        while simulated(now: Date(), start: startInstant, anchor: anchor, speed: speed) < stopAt {
            try await Task.sleep(for: .milliseconds(250))
            if orca.output.contains("configuration error") { break }
        }
        let status = await orca.stop(SIGTERM)
        let output = orca.output
        #expect(status == 0, "orca-run run must exit 0 on SIGTERM:\n\(output.suffix(3_000))")
        #expect(output.contains("NQH6"), "live bars after the roll carry the new contract")
        #expect(output.contains("market data resumed"), "the dropped sockets were noticed and recovered")

        // Everything up to 23:30Z is closed and must be stored exactly once (3 days of look-back included).
        let from = "2025-12-07T23:00:00Z"
        let to = "2025-12-10T23:30:00Z"
        let verify = try await harness.run(["verify", "--from", from, "--to", to], environment: environment)
        #expect(verify.status == 0, "verify must report complete:\n\(verify.output)")
        #expect(verify.output.contains("COMPLETE"))
        let total = try #require(verify.output.split(separator: "\n").first { $0.hasPrefix("total") })
        let columns = total.split(separator: " ")
        // total  expected  stored  missing  duplicates  non-final  unexpected  empty
        #expect(columns.count >= 6)
        #expect(columns[1] == columns[2], "stored == expected: \(total)")
        #expect(columns[3] == "0" && columns[4] == "0" && columns[5] == "0", "\(total)")
        let rows = verify.output.split(separator: "\n").filter { line in
            ["NQ ", "MNQ ", "ES ", "MES "].contains { line.hasPrefix($0) }
        }
        #expect(rows.count == 16)

        let health = try await harness.run(["health", "--json"], environment: environment)
        #expect(health.output.contains("\"login\" : \"demo\"") || health.output.contains("\"login\":\"demo\""))
        #expect(!health.output.contains("\"redis\"") || !health.output.contains("unreachable"))
    }
}

/// The first URL in `text` starting with `scheme`.
private func url(in text: String, scheme: String) -> String? {
    guard let range = text.range(of: scheme) else { return nil }
    return String(text[range.lowerBound...].prefix { !$0.isWhitespace })
}

private func simulated(now: Date, start: Date, anchor: Date, speed: Double) -> Date {
    start.addingTimeInterval(now.timeIntervalSince(anchor) * speed)
}
