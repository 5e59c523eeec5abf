import CandleCore
import Foundation
import Testing

@testable import Collectors
@testable import PostgresSink

@Suite("Verifier: renderers", .timeLimit(.minutes(10)))
struct VerificationRenderingTests {
    /// NQ 5min with 12 single-bar holes, a duplicate, a forming-only bar and an unexpected bar; ES 15min complete;
    /// MES 5min unreadable.
    static func report() -> VerificationReport {
        let nqRanges = (0..<12).map { index in
            let start = Week.utc("2025-12-03T14:05:00Z").addingTimeInterval(Double(index) * 600)
            return BarRange(first: start, last: start, bars: 1, timeframe: .fiveMinutes)
        }
        let nq = SeriesVerification(
            series: Week.nq5, expected: 1380, stored: 1368,
            missingRanges: [
                BarRange(
                    first: Week.utc("2025-12-02T09:00:00Z"), last: Week.utc("2025-12-02T09:20:00Z"), bars: 5,
                    timeframe: .fiveMinutes)
            ] + nqRanges.dropLast(),
            duplicates: [DuplicateBar(start: Week.utc("2025-12-02T15:00:00Z"), symbols: ["NQH6", "NQZ5"])],
            nonFinal: [Week.utc("2025-12-03T14:05:00Z")], unexpected: [Week.utc("2025-12-03T22:30:00Z")],
            confirmedEmpty: 0, notDue: 0)
        let es = SeriesVerification(series: Week.es15, expected: 460, stored: 458, confirmedEmpty: 2)
        let mes = SeriesVerification.failed(
            Series(.mes, .fiveMinutes), VerificationError(.storeUnavailable, "cannot read MES 5min: refused"))
        return VerificationReport(
            from: Week.from, to: Week.to, now: Week.after, store: "PostgresCandleSink", series: [nq, es, mes])
    }

    @Test("the human table: counts per series, totals, truncated missing ranges, other findings, failures")
    func table() {
        let text = Self.report().renderTable(maximumRanges: 10)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines[0]
                == "verify 2025-11-30 00:00 → 2025-12-06 00:00 UTC as of 2025-12-07 12:00 UTC, PostgresCandleSink:"
                + " NOT VERIFIED (exit 2)")
        #expect(lines[2] == "series    expected  stored  missing  duplicates  non-final  unexpected  empty")
        #expect(lines[3] == "NQ 5min       1380    1368       16           1          1           1      0")
        #expect(lines[4] == "ES 15min       460     458        0           0          0           0      2")
        #expect(lines[5] == "MES 5min         -       -        -           -          -           -      -")
        #expect(lines[6] == "total         1840    1826       16           1          1           1      2")
        #expect(text.contains("Missing ranges:\n  NQ 5min:\n    2025-12-02 09:00 → 09:20 (5 bars)\n"))
        #expect(text.contains("    2025-12-03 14:05 (1 bar)\n"))
        #expect(text.contains("    … and 2 more\n"))
        #expect(
            text.contains(
                "Duplicates (more than one row at one bar start):\n  NQ 5min:\n    2025-12-02 15:00 (NQH6, NQZ5)"))
        #expect(text.contains("Non-final (stored only as forming):\n  NQ 5min:\n    2025-12-03 14:05\n"))
        #expect(
            text.contains("Unexpected (stored where the calendar expects no bar):\n  NQ 5min:\n    2025-12-03 22:30\n"))
        #expect(text.contains("Could not verify:\n  MES 5min: cannot read MES 5min: refused [storeUnavailable]\n"))
        // 11 ranges, 10 shown.
        let shown = lines.filter { $0.hasPrefix("    2025-12-0") && $0.contains("bar") }
        #expect(shown.count == 10)
    }

    @Test("a complete report says so and lists nothing else")
    func completeTable() {
        let report = VerificationReport(
            from: Week.from, to: Week.to, now: Week.after, store: "memory",
            series: [SeriesVerification(series: Week.es15, expected: 460, stored: 460)])
        let text = report.renderTable()
        #expect(
            text.hasSuffix(
                "COMPLETE (exit 0)\n\n"
                    + "series    expected  stored  missing  duplicates  non-final  unexpected  empty\n"
                    + "ES 15min       460     460        0           0          0           0      0\n"
            ))
    }

    @Test("JSON: stable field names, ISO 8601 instants, every field present")
    func json() throws {
        let text = Self.report().renderJSON()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["from", "to", "now", "store", "complete", "exit_code", "totals", "series"])
        #expect(object["from"] as? String == "2025-11-30T00:00:00Z")
        #expect(object["exit_code"] as? Int == 2)
        #expect(object["complete"] as? Bool == false)
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(
            Set(totals.keys)
                == ["expected", "stored", "missing", "duplicates", "non_final", "unexpected", "confirmed_empty"])
        #expect(totals["missing"] as? Int == 16)
        let series = try #require(object["series"] as? [[String: Any]])
        #expect(series.count == 3)
        let nq = series[0]
        #expect(
            Set(nq.keys) == [
                "series", "root", "timeframe", "verified", "complete", "expected", "stored", "missing", "duplicates",
                "non_final", "unexpected", "confirmed_empty", "not_due", "missing_ranges", "duplicate_bars",
                "non_final_starts", "unexpected_starts", "error",
            ])
        #expect(nq["series"] as? String == "NQ 5min")
        #expect(nq["root"] as? String == "NQ")
        #expect(nq["timeframe"] as? String == "5min")
        #expect(nq["error"] is NSNull)
        let first = try #require((nq["missing_ranges"] as? [[String: Any]])?.first)
        #expect(first["first"] as? String == "2025-12-02T09:00:00Z")
        #expect(first["last"] as? String == "2025-12-02T09:20:00Z")
        #expect(first["end"] as? String == "2025-12-02T09:25:00Z")
        #expect(first["bars"] as? Int == 5)
        #expect((nq["missing_ranges"] as? [Any])?.count == 12)  // JSON is never truncated
        let duplicate = try #require((nq["duplicate_bars"] as? [[String: Any]])?.first)
        #expect(duplicate["symbols"] as? [String] == ["NQH6", "NQZ5"])
        let mes = series[2]
        let error = try #require(mes["error"] as? [String: Any])
        #expect(error["code"] as? String == "storeUnavailable")
        #expect(mes["verified"] as? Bool == false)
    }

    @Test("repair: table and JSON")
    func repair() throws {
        let before = Self.report()
        var after = before
        after.series[0] = SeriesVerification(
            series: Week.nq5, expected: 1380, stored: 1379,
            missingRanges: [
                BarRange(
                    first: Week.utc("2025-12-03T14:05:00Z"), last: Week.utc("2025-12-03T14:05:00Z"), bars: 1,
                    timeframe: .fiveMinutes)
            ])
        let repair = RepairReport(
            before: before, after: after,
            series: [
                SeriesRepair(
                    series: Week.nq5, requested: 16, requests: 13, fetched: 15, written: 15,
                    stillMissing: after.series[0].missingRanges),
                SeriesRepair(series: Week.es15),
                SeriesRepair(
                    series: Series(.mes, .fiveMinutes),
                    failures: [
                        RepairFailure(
                            symbol: "MESZ5",
                            interval: Week.utc("2025-12-03T14:05:00Z")..<Week.utc("2025-12-03T14:10:00Z"),
                            attempts: 4, error: VerificationError(.sourceFailed, "timeout"))
                    ]),
            ])
        let text = repair.renderTable()
        #expect(
            text.hasPrefix(
                "repair 2025-11-30 00:00 → 2025-12-06 00:00 UTC: fetched 15, written 15, still missing 1:"
                    + " FAILURES (exit 2)\n"
            ))
        #expect(text.contains("series    missing  requests  fetched  written  still missing  failures\n"))
        #expect(text.contains("NQ 5min        16        13       15       15              1         0\n"))
        #expect(
            text.contains(
                "Still missing (the broker returned no bars, or a request below failed):\n"
                    + "  NQ 5min:\n    2025-12-03 14:05 (1 bar)\n"))
        #expect(text.contains("MESZ5 2025-12-03 14:05 → 2025-12-03 14:10 after 4 attempts: timeout [sourceFailed]"))
        #expect(text.contains("After repair:\nverify "))

        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(repair.renderJSON().utf8)) as? [String: Any])
        #expect(
            Set(object.keys)
                == ["complete", "exit_code", "fetched", "written", "still_missing", "series", "before", "after"])
        let series = try #require(object["series"] as? [[String: Any]])
        #expect(
            Set(series[0].keys)
                == [
                    "series", "requested", "requests", "fetched", "written", "still_missing", "still_missing_ranges",
                    "failures",
                ])
        let failure = try #require((series[2]["failures"] as? [[String: Any]])?.first)
        #expect(Set(failure.keys) == ["symbol", "from", "to", "attempts", "code", "message"])
        #expect(failure["to"] as? String == "2025-12-03T14:10:00Z")
    }
}
