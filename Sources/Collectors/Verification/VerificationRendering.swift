import CandleCore
import Foundation

// Human tables and JSON for `orca-run verify [--repair] [--json]`. Times are UTC. The JSON field names are stable
// (snake_case, like the file sink's JSON Lines); see Docs/verify.md.

extension VerificationReport {
    /// A table with one row per series, then the missing ranges per series (at most `maximumRanges` each, then
    /// "… and M more"), duplicates, forming-only and unexpected bars (at most `maximumRanges` each), and the series
    /// that could not be verified.
    public func renderTable(maximumRanges: Int = 10) -> String {
        var lines: [String] = []
        let state = hasFailures ? "NOT VERIFIED" : (isComplete ? "COMPLETE" : "INCOMPLETE")
        lines.append(
            "verify \(VerificationText.minute(from)) → \(VerificationText.minute(to)) UTC as of "
                + "\(VerificationText.minute(now)) UTC, \(store): \(state) (exit \(exitCode))")
        lines.append("")
        let header = ["series", "expected", "stored", "missing", "duplicates", "non-final", "unexpected", "empty"]
        var rows: [[String]] = []
        for result in series {
            if result.isVerified {
                rows.append(
                    [
                        result.series.description, String(result.expected), String(result.stored),
                        String(result.missing), String(result.duplicates.count), String(result.nonFinal.count),
                        String(result.unexpected.count), String(result.confirmedEmpty),
                    ])
            } else {
                rows.append([result.series.description] + Array(repeating: "-", count: header.count - 1))
            }
        }
        if series.count > 1 {
            let t = totals
            rows.append(
                [
                    "total", String(t.expected), String(t.stored), String(t.missing), String(t.duplicates),
                    String(t.nonFinal), String(t.unexpected), String(t.confirmedEmpty),
                ])
        }
        lines.append(contentsOf: TextTable.render(header: header, rows: rows))

        let limit = max(0, maximumRanges)
        func section(_ title: String, _ items: (SeriesVerification) -> [String]) {
            lines += TextTable.section(title, series.map { ($0.series, items($0)) }, limit: limit)
        }
        section("Missing ranges:") { $0.missingRanges.map(\.description) }
        section("Duplicates (more than one row at one bar start):") { $0.duplicates.map(\.description) }
        section("Non-final (stored only as forming):") { $0.nonFinal.map(VerificationText.minute) }
        section("Unexpected (stored where the calendar expects no bar):") { $0.unexpected.map(VerificationText.minute) }
        let failures = series.compactMap { result in result.failure.map { (result.series, $0) } }
        if !failures.isEmpty {
            lines.append("")
            lines.append("Could not verify:")
            for (series, failure) in failures { lines.append("  \(series): \(failure)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as JSON (pretty-printed, sorted keys, ISO 8601 UTC instants); field names in Docs/verify.md.
    public func renderJSON() -> String {
        VerificationJSON.encode(VerificationJSON.Report(self))
    }
}

extension RepairReport {
    /// A table with one row per series (missing before, fetched, written, still missing, failures), the ranges still
    /// missing (at most `maximumRanges` per series), the failures, then the re-verification's table.
    public func renderTable(maximumRanges: Int = 10) -> String {
        var lines: [String] = []
        let state = hasFailures ? "FAILURES" : (isComplete ? "COMPLETE" : "INCOMPLETE")
        lines.append(
            "repair \(VerificationText.minute(before.from)) → \(VerificationText.minute(before.to)) UTC: fetched "
                + "\(fetched), written \(written), still missing \(stillMissing): \(state) (exit \(exitCode))")
        lines.append("")
        let header = ["series", "missing", "requests", "fetched", "written", "still missing", "failures"]
        let rows = series.map { repair in
            [
                repair.series.description, String(repair.requested), String(repair.requests), String(repair.fetched),
                String(repair.written), String(repair.stillMissingBars), String(repair.failures.count),
            ]
        }
        lines.append(contentsOf: TextTable.render(header: header, rows: rows))
        let limit = max(0, maximumRanges)
        lines += TextTable.section(
            hasFailures
                ? "Still missing (the broker returned no bars, or a request below failed):"
                : "Still missing (the broker returned no bars):",
            series.map { ($0.series, $0.stillMissing.map { "\($0)" }) }, limit: limit)
        lines += TextTable.section("Failures:", series.map { ($0.series, $0.failures.map { "\($0)" }) }, limit: limit)
        lines.append("")
        lines.append("After repair:")
        return lines.joined(separator: "\n") + "\n" + after.renderTable(maximumRanges: maximumRanges)
    }

    /// The repair as JSON (pretty-printed, sorted keys, ISO 8601 UTC instants); field names in Docs/verify.md.
    public func renderJSON() -> String {
        VerificationJSON.encode(VerificationJSON.Repair(self))
    }
}

/// Left-aligned first column, right-aligned numbers, two spaces between columns.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let cell = row[column]
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }
            .joined(separator: "  ")
            .trimmingSuffixSpaces()
        }
    }

    /// A blank line and `title`, then each series that has items with its items indented below it (at most `limit`
    /// per series, then "… and M more"); nothing when no series has items.
    static func section(_ title: String, _ entries: [(series: Series, items: [String])], limit: Int) -> [String] {
        let entries = entries.filter { !$0.items.isEmpty }
        guard !entries.isEmpty else { return [] }
        var lines = ["", title]
        for (series, items) in entries {
            lines.append("  \(series):")
            lines += items.prefix(limit).map { "    \($0)" }
            if items.count > limit { lines.append("    … and \(items.count - limit) more") }
        }
        return lines
    }
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// The stable JSON shapes of the reports.
enum VerificationJSON {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase  // nonFinal → non_final, exitCode → exit_code, ...
        encoder.dateEncodingStrategy = .iso8601
        // Plain structs of strings, numbers, booleans and dates: encoding cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// An optional that is written as `null` when absent (synthesized `Encodable` leaves absent optionals out), so
    /// every field of the stable JSON shapes is always present.
    @propertyWrapper
    struct NullWhenAbsent<Value: Encodable>: Encodable {
        var wrappedValue: Value?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let wrappedValue {
                try container.encode(wrappedValue)
            } else {
                try container.encodeNil()
            }
        }
    }

    struct Range: Encodable {
        let first: Date
        let last: Date
        let end: Date
        let bars: Int

        init(_ range: BarRange) {
            first = range.first
            last = range.last
            end = range.end
            bars = range.bars
        }
    }

    struct Duplicate: Encodable {
        let start: Date
        let symbols: [String]
    }

    struct Failure: Encodable {
        let code: String
        let message: String

        init(_ error: VerificationError) {
            code = error.code.description
            message = error.message
        }
    }

    struct SeriesResult: Encodable {
        let series: String
        let root: String
        let timeframe: String
        let verified: Bool
        let complete: Bool
        let expected: Int
        let stored: Int
        let missing: Int
        let duplicates: Int
        let nonFinal: Int
        let unexpected: Int
        let confirmedEmpty: Int
        let notDue: Int
        let missingRanges: [Range]
        let duplicateBars: [Duplicate]
        let nonFinalStarts: [Date]
        let unexpectedStarts: [Date]
        @NullWhenAbsent var error: Failure?

        init(_ result: SeriesVerification) {
            series = result.series.description
            root = result.series.instrument.root
            timeframe = result.series.timeframe.label
            verified = result.isVerified
            complete = result.isComplete
            expected = result.expected
            stored = result.stored
            missing = result.missing
            duplicates = result.duplicates.count
            nonFinal = result.nonFinal.count
            unexpected = result.unexpected.count
            confirmedEmpty = result.confirmedEmpty
            notDue = result.notDue
            missingRanges = result.missingRanges.map(Range.init)
            duplicateBars = result.duplicates.map { Duplicate(start: $0.start, symbols: $0.symbols) }
            nonFinalStarts = result.nonFinal
            unexpectedStarts = result.unexpected
            error = result.failure.map(Failure.init)
        }
    }

    struct Report: Encodable {
        let from: Date
        let to: Date
        let now: Date
        let store: String
        let complete: Bool
        let exitCode: Int32
        let totals: VerificationReport.Totals
        let series: [SeriesResult]

        init(_ report: VerificationReport) {
            from = report.from
            to = report.to
            now = report.now
            store = report.store
            complete = report.isComplete
            exitCode = report.exitCode
            totals = report.totals
            series = report.series.map(SeriesResult.init)
        }
    }

    struct RepairFailureJSON: Encodable {
        @NullWhenAbsent var symbol: String?
        @NullWhenAbsent var from: Date?
        @NullWhenAbsent var to: Date?
        let attempts: Int
        let code: String
        let message: String

        init(_ failure: RepairFailure) {
            symbol = failure.symbol
            from = failure.interval?.lowerBound
            to = failure.interval?.upperBound
            attempts = failure.attempts
            code = failure.error.code.description
            message = failure.error.message
        }
    }

    struct SeriesRepairJSON: Encodable {
        let series: String
        let requested: Int
        let requests: Int
        let fetched: Int
        let written: Int
        let stillMissing: Int
        let stillMissingRanges: [Range]
        let failures: [RepairFailureJSON]

        init(_ repair: SeriesRepair) {
            series = repair.series.description
            requested = repair.requested
            requests = repair.requests
            fetched = repair.fetched
            written = repair.written
            stillMissing = repair.stillMissingBars
            stillMissingRanges = repair.stillMissing.map(Range.init)
            failures = repair.failures.map(RepairFailureJSON.init)
        }
    }

    struct Repair: Encodable {
        let complete: Bool
        let exitCode: Int32
        let fetched: Int
        let written: Int
        let stillMissing: Int
        let series: [SeriesRepairJSON]
        let before: Report
        let after: Report

        init(_ repair: RepairReport) {
            complete = repair.isComplete
            exitCode = repair.exitCode
            fetched = repair.fetched
            written = repair.written
            stillMissing = repair.stillMissing
            series = repair.series.map(SeriesRepairJSON.init)
            before = Report(repair.before)
            after = Report(repair.after)
        }
    }
}
