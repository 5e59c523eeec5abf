import CandleCore
import Foundation
import OrcaRuntime
import OrcaTestSupport
import Testing
import TokenStore

private let env = ProcessInfo.processInfo.environment

/// The built `orca-run schedule`: the plan from the shared configuration, `--json`, `--pg-cron`, exit codes.
@Suite("orca-run schedule (binary)", .timeLimit(.minutes(10)))
struct ScheduleCLITests {
    @Test("the default plan: 16 series, in-memory tokens, the demo login at start; nothing written")
    func defaultPlan() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let result = try await harness.run(["schedule", "--at", "2026-11-27T17:50:00Z", "--count", "3"])
        #expect(result.status == 0, "output:\n\(result.output)")
        let output = result.output
        #expect(output.hasPrefix("PLAN at 2026-11-27 17:50Z (Fri 12:50 New York)\n"))
        #expect(output.contains("note: no Tradovate credentials are configured"))
        #expect(output.contains("market open; closes or halts 2026-11-27 18:15Z (Fri 13:15 New York)"))
        for root in ["NQ", "MNQ", "ES", "MES"] {
            for label in ["5min", "15min", "30min", "1hour"] {
                #expect(output.contains("\(root) \(label) "), "missing series \(root) \(label)")
            }
        }
        let nq30 = try #require(output.split(separator: "\n").first { $0.hasPrefix("NQ 30min") })
        #expect(nq30.hasSuffix("2026-11-27 18:00Z, 18:15Z, 2026-11-29 23:30Z"))
        #expect(nq30.contains("NQZ6"))
        #expect(nq30.contains("2026-12-09 23:00Z → NQH7"))
        #expect(output.contains("TOKENS: no shared token store: tokens live in the daemon's memory"))
        #expect(output.contains("demo   -        at start (no token yet)"))
        // Planning starts nothing and writes nothing (no ./orca-data, no device id).
        let written = try FileManager.default.contentsOfDirectory(atPath: harness.directory.path)
        #expect(written.isEmpty, "schedule wrote \(written)")
    }

    @Test("--json with the shared configuration flags (and the earlier --timeframe option) decodes as a plan")
    func json() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let result = try await harness.run([
            "schedule", "--json", "--at", "2026-12-24T17:00:00Z", "--count", "2", "--instruments", "ES,NQ",
            "--timeframes", "30",
        ])
        #expect(result.status == 0, "output:\n\(result.output)")
        let plan = try SchedulePlan(json: Data(result.output.utf8))
        #expect(plan.at == instant("2026-12-24T17:00:00Z"))
        #expect(plan.series.map(\.series) == ["ES 30min", "NQ 30min"])
        // Christmas Eve closes at 13:15 New York; the 25th is closed; Sunday the 27th reopens at 18:00.
        #expect(plan.series[0].nextCloses == ["2026-12-24T17:30:00Z", "2026-12-24T18:00:00Z"].map(instant))
        #expect(plan.tokens.store == nil)
        #expect(plan.tokens.logins.map(\.login) == ["demo"])
        #expect(plan.tokens.logins.map(\.renewal) == [.atStart])

        let legacy = try await harness.run([
            "schedule", "--json", "--at", "2026-12-24T17:00:00Z", "--count", "3", "--timeframe", "1h",
            "--instruments", "MES",
        ])
        #expect(legacy.status == 0, "output:\n\(legacy.output)")
        let legacyPlan = try SchedulePlan(json: Data(legacy.output.utf8))
        #expect(legacyPlan.series.map(\.series) == ["MES 1hour"])
        #expect(
            legacyPlan.series[0].nextCloses
                == ["2026-12-24T18:00:00Z", "2026-12-24T18:15:00Z", "2026-12-28T00:00:00Z"].map(instant))
    }

    @Test("--pg-cron explains each expression; exit 1 when one is invalid; --json prints an array")
    func pgCron() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let good = try await harness.run([
            "schedule", "--at", "2026-11-29T09:00:00Z", "--pg-cron", "*/50 * * * *", "--pg-cron", "*/15 * * * *",
        ])
        #expect(good.status == 0, "output:\n\(good.output)")
        let lines = good.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "*/50 * * * *")
        #expect(
            lines.contains(
                "  next (UTC): 2026-11-29T09:50:00Z, 2026-11-29T10:00:00Z, 2026-11-29T10:50:00Z, 2026-11-29T11:00:00Z"))
        #expect(lines.contains { $0.hasPrefix("  warning: minute field '*/50' fires at minute 0 and 50") })
        #expect(lines.contains("*/15 * * * *"))
        #expect(lines.contains { $0.hasPrefix("  info: fires 4 times per hour; every 15 min") })
        #expect(!good.output.contains("PLAN at"))

        let bad = try await harness.run(["schedule", "--pg-cron", "*/50 * * * *", "--pg-cron", "0 0 12 * * MON"])
        #expect(bad.status == 1)
        #expect(bad.output.contains("0 0 12 * * MON\n  error: expected 5 fields"))

        let json = try await harness.run([
            "schedule", "--json", "--count", "2", "--at", "2026-11-29T09:00:00Z", "--pg-cron", "*/15 * * * *",
        ])
        #expect(json.status == 0, "output:\n\(json.output)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let explanations = try decoder.decode([CronExplanation].self, from: Data(json.output.utf8))
        #expect(explanations.count == 1)
        #expect(explanations[0].nextFirings == ["2026-11-29T09:15:00Z", "2026-11-29T09:30:00Z"].map(instant))
        #expect(explanations[0].failed == false)
    }

    @Test("argument and configuration errors: exit 64 and 78, naming the problem")
    func errors() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let count = try await harness.run(["schedule", "--count", "0"])
        #expect(count.status == 64)
        #expect(count.output.contains("--count must be between 1 and 100"))
        let at = try await harness.run(["schedule", "--at", "yesterday-ish"])
        #expect(at.status == 64)
        #expect(at.output.contains("yesterday-ish"))
        let instrument = try await harness.run(["schedule", "--instruments", "NQ,XQ"])
        #expect(instrument.status == 78)
        #expect(instrument.output.contains("collector.instruments"))
        #expect(instrument.output.contains("XQ"))
    }

    @Test("--help reads like a man page: purpose, exit status, options with defaults, examples")
    func help() async throws {
        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let help = try await harness.run(["schedule", "--help"])
        #expect(help.status == 0)
        for text in [
            "OVERVIEW:", "EXIT STATUS", "EXAMPLES", "--pg-cron <expr>", "(default: 4)", "--at <instant>",
            "--json", "--redis-url", "--timeframes",
        ] {
            #expect(help.output.contains(text), "help lacks \(text)")
        }
        #expect(!help.output.contains("--timeframe <"))
    }

    @Test(
        "with Redis: each login's stored expiry and its renewal 15 minutes before; a missing token logs in at start",
        .enabled(
            if: env["ORCA_TEST_REDIS_URL"] != nil,
            "set ORCA_TEST_REDIS_URL (scripts/test.sh does) to run against a real Redis"))
    func redisTokens() async throws {
        let redisURL = try #require(env["ORCA_TEST_REDIS_URL"])
        let login = "plan-\(UUID().uuidString.prefix(8))"
        let provider = RedisTokenProvider(configuration: .init(url: try RedisURL(redisURL)))
        let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 5400).rounded(.down))
        let token = Token(
            accessToken: "fake-\(UUID().uuidString)", marketDataToken: "fake-md-\(UUID().uuidString)",
            expirationTime: expiry, userID: 9, login: login, issuedAt: Date())
        try await provider.store(token, aliases: [])

        let harness = try OrcaRunHarness()
        defer { harness.remove() }
        let credentials = [
            "REDIS_URL": redisURL, "ORCA_TRADOVATE_USERNAME": login, "ORCA_TRADOVATE_PASSWORD": "pw-\(UUID())",
            "ORCA_TRADOVATE_CID": "7", "ORCA_TRADOVATE_SEC": "sec-\(UUID())",
        ]
        let result = try await harness.run(
            ["schedule", "--json", "--instruments", "NQ", "--timeframes", "5"], environment: credentials)
        #expect(result.status == 0, "output:\n\(result.output)")
        let plan = try SchedulePlan(json: Data(result.output.utf8))
        #expect(plan.tokens.store == (try RedisURL(redisURL)).description)
        #expect(plan.tokens.storeError == nil)
        let entry = try #require(plan.tokens.logins.first)
        #expect(entry.login == login)
        #expect(entry.renewal == .scheduled)
        #expect(entry.expirationTime == expiry)
        #expect(entry.renewalTime == expiry.addingTimeInterval(-900))
        #expect(!result.output.contains(token.accessToken))
        #expect(plan.notes.isEmpty)

        let table = try await harness.run(["schedule", "--count", "1"], environment: credentials)
        #expect(table.status == 0)
        #expect(table.output.contains("TOKENS in \(try RedisURL(redisURL).description); renewed 15m before expiry"))
        let row = try #require(table.output.split(separator: "\n").first { $0.hasPrefix(login) })
        #expect(row.contains("(in 1h"))

        // Another login with nothing stored logs in at start.
        let other = try await harness.run(
            ["schedule", "--json", "--count", "1"],
            environment: credentials.merging(["ORCA_TRADOVATE_USERNAME": "\(login)-none"]) { _, new in new })
        #expect(other.status == 0, "output:\n\(other.output)")
        let otherPlan = try SchedulePlan(json: Data(other.output.utf8))
        #expect(otherPlan.tokens.logins.map(\.renewal) == [.atStart])
        try await provider.remove(account: login)
        await provider.close()
    }
}
