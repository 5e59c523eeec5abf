import CandleCore
import Foundation
import OrcaRuntime
import Testing

/// The plan's table and JSON, and the `--pg-cron` explanations.
@Suite("Schedule plan rendering and cron explanations", .timeLimit(.minutes(10)))
struct SchedulePlanRenderingTests {
    static let redisPlan = SchedulePlan.make(
        at: instant("2026-11-27T17:50:00Z"), series: [Series(.nq, .thirtyMinutes), Series(.es, .fiveMinutes)],
        tokens: TokenStoreObservation(
            store: "redis://127.0.0.1:6379/0", logins: ["demo", "APEX_1", "APEX_2", "APEX_3"],
            tokens: [
                TokenObservation(login: "demo", expirationTime: instant("2026-11-27T19:20:00Z")),
                TokenObservation(login: "APEX_1", expirationTime: instant("2026-11-27T17:55:00Z")),
                TokenObservation(login: "APEX_2", expirationTime: instant("2026-11-27T17:00:00Z")),
            ]),
        count: 3)

    @Test("the table: header, market, collection, one row per series, one row per login")
    func table() {
        let expected = """
            PLAN at 2026-11-27 17:50Z (Fri 12:50 New York)
            market open; closes or halts 2026-11-27 18:15Z (Fri 13:15 New York)
            collection: live chart subscriptions; each bar is written seconds after it closes

            SERIES    CONTRACT  NEXT ROLL                 NEXT BAR CLOSES
            NQ 30min  NQZ6      2026-12-09 23:00Z → NQH7  2026-11-27 18:00Z, 18:15Z, 2026-11-29 23:30Z
            ES 5min   ESZ6      2026-12-09 23:00Z → ESH7  2026-11-27 17:55Z, 18:00Z, 18:05Z

            TOKENS in redis://127.0.0.1:6379/0; renewed 15m before expiry, once across processes
            LOGIN   EXPIRES            RENEWAL
            demo    2026-11-27 19:20Z  2026-11-27 19:05Z (in 1h15m)
            APEX_1  2026-11-27 17:55Z  due now (expires in 5m00s, inside the 15m margin)
            APEX_2  2026-11-27 17:00Z  expired: new login at start
            APEX_3  -                  at start (no token yet)
            """
        #expect(Self.redisPlan.table() == expected)
    }

    @Test("the table without a shared store, with a cron collection, notes and an unreadable store")
    func tableVariants() throws {
        let memory = SchedulePlan.make(
            at: instant("2026-11-28T12:00:00Z"), series: [Series(.mes, .oneHour)], tokens: .memory(logins: ["demo"]),
            collectionCron: try CronSchedule("*/5 * * * *"), count: 2, notes: ["the embedded simulator"])
        let text = memory.table()
        #expect(text.hasPrefix("PLAN at 2026-11-28 12:00Z (Sat 07:00 New York)\nnote: the embedded simulator\n"))
        #expect(text.contains("market closed; opens 2026-11-29 23:00Z (Sun 18:00 New York)"))
        #expect(text.contains("collection: cron '*/5 * * * *' (UTC), next 2026-11-28 12:05Z, 12:10Z"))
        #expect(text.contains("MES 1hour  MESZ6     2026-12-09 23:00Z → MESH7  2026-11-30 00:00Z, 01:00Z"))
        #expect(text.contains("TOKENS: no shared token store: tokens live in the daemon's memory"))
        #expect(text.hasSuffix("demo   -        at start (no token yet)"))

        let broken = SchedulePlan.make(
            at: instant("2026-11-28T12:00:00Z"), series: [],
            tokens: TokenStoreObservation(store: "rediss://:***@r:6380/0", logins: ["demo"], error: "refused"))
        let brokenText = broken.table()
        #expect(brokenText.contains("no series configured"))
        #expect(brokenText.contains("TOKENS in rediss://:***@r:6380/0"))
        #expect(brokenText.contains("the token store could not be read: refused"))
        #expect(brokenText.contains("demo   -        unknown (token store unreadable)"))
        let noLogins = SchedulePlan.make(at: instant("2026-11-28T12:00:00Z"), series: [], tokens: .memory(logins: []))
        #expect(noLogins.table().hasSuffix("no Tradovate login configured"))
    }

    @Test("JSON: ISO-8601 dates, renewal kinds as strings, decodes back to the same plan")
    func json() throws {
        let text = Self.redisPlan.json()
        #expect(text.contains("\"at\" : \"2026-11-27T17:50:00Z\""))
        #expect(text.contains("\"renewal\" : \"scheduled\""))
        #expect(text.contains("\"renewalTime\" : \"2026-11-27T19:05:00Z\""))
        #expect(text.contains("\"renewal\" : \"atStart\""))
        #expect(text.contains("\"frontContract\" : \"NQZ6\""))
        let decoded = try SchedulePlan(json: Data(text.utf8))
        #expect(decoded == Self.redisPlan)
        let compact = Self.redisPlan.json(prettyPrinted: false)
        #expect(!compact.contains("\n"))
        #expect(try SchedulePlan(json: Data(compact.utf8)) == Self.redisPlan)
        #expect(throws: (any Error).self) { try SchedulePlan(json: Data("{\"at\":1}".utf8)) }
    }

    // MARK: --pg-cron

    @Test("an uneven step: next firings in UTC, the warning, and the firing pattern last")
    func unevenStep() {
        let explanation = CronExplanation.explain("*/50 * * * *", after: instant("2026-11-29T09:00:00Z"), count: 4)
        #expect(!explanation.failed)
        #expect(explanation.error == nil)
        #expect(
            explanation.nextFirings
                == ["2026-11-29T09:50:00Z", "2026-11-29T10:00:00Z", "2026-11-29T10:50:00Z", "2026-11-29T11:00:00Z"]
                .map(instant))
        #expect(explanation.findings.first?.code == "unevenStep")
        #expect(explanation.findings.first?.severity == "warning")
        #expect(explanation.findings.last?.code == "firingPattern")
        let lines = explanation.text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "*/50 * * * *")
        #expect(
            lines[1]
                == "  next (UTC): 2026-11-29T09:50:00Z, 2026-11-29T10:00:00Z, 2026-11-29T10:50:00Z, 2026-11-29T11:00:00Z"
        )
        #expect(lines[2].hasPrefix("  warning: minute field '*/50' fires at minute 0 and 50 of every hour"))
        #expect(lines.last?.hasPrefix("  info: fires 2 times per hour; gaps 50 min, 10 min") == true)
    }

    @Test("rejected expressions fail with the parse error; --count limits the firings")
    func rejected() {
        let bad = CronExplanation.explain("bad", after: instant("2026-11-29T09:00:00Z"), count: 4)
        #expect(bad.failed)
        #expect(bad.nextFirings.isEmpty)
        #expect(bad.findings.isEmpty)
        #expect(
            bad.text
                == "bad\n  error: expected 5 fields (minute hour day-of-month month day-of-week) but found 1 in 'bad'")
        let never = CronExplanation.explain("0 0 30 2 *", after: instant("2026-11-29T09:00:00Z"), count: 4)
        #expect(never.failed)
        // It parses, but the lint says it never fires: no firings, an error finding, and a failure.
        #expect(never.error == nil)
        #expect(never.nextFirings.isEmpty)
        #expect(never.findings.map(\.code) == ["neverFires"])
        #expect(never.text.hasPrefix("0 0 30 2 *\n  error: never fires: day-of-month '30' never occurs in February"))

        let two = CronExplanation.explain("*/15 * * * *", after: instant("2026-11-29T09:00:00Z"), count: 2)
        #expect(two.nextFirings == ["2026-11-29T09:15:00Z", "2026-11-29T09:30:00Z"].map(instant))
        let json = CronExplanation.json([two, bad])
        #expect(json.hasPrefix("["))
        #expect(json.contains("\"failed\" : true"))
        #expect(json.contains("\"failed\" : false"))
        #expect(json.contains("\"2026-11-29T09:15:00Z\""))
    }
}
