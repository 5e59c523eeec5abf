import CandleCore
public import Foundation

/// What a cron expression from the old pg_cron setup really does (`orca-run schedule --pg-cron`): its next firings
/// in UTC, as pg_cron evaluates them, and the lint findings that explain its pitfalls, or why it is rejected.
public struct CronExplanation: Sendable, Hashable, Codable {
    /// One lint finding.
    public struct Finding: Sendable, Hashable, Codable {
        /// `info`, `warning` or `error`.
        public var severity: String
        /// The finding's stable code (`unevenStep`, `firingPattern`, …).
        public var code: String
        /// The explanation in plain English.
        public var message: String

        /// Creates a finding.
        public init(severity: String, code: String, message: String) {
            self.severity = severity
            self.code = code
            self.message = message
        }
    }

    /// The expression as given.
    public var expression: String
    /// Why it was rejected (a `CronParseError` description), or `nil` when it parsed.
    public var error: String?
    /// The next firings strictly after the instant asked about (UTC); empty when it never fires or was rejected.
    public var nextFirings: [Date]
    /// What the lint found, the firing-pattern summary last.
    public var findings: [Finding]
    /// Whether the expression is rejected or never fires (`orca-run schedule --pg-cron` then exits 1).
    public var failed: Bool

    /// Creates an explanation from its parts.
    public init(expression: String, error: String?, nextFirings: [Date], findings: [Finding], failed: Bool) {
        self.expression = expression
        self.error = error
        self.nextFirings = nextFirings
        self.findings = findings
        self.failed = failed
    }

    /// Parses `expression` the way pg_cron does (5 fields, UTC), lists its first `count` firings after `now` and lints it.
    public static func explain(_ expression: String, after now: Date, count: Int) -> CronExplanation {
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(expression)
        } catch {
            return CronExplanation(
                expression: expression, error: "\(error)", nextFirings: [], findings: [], failed: true)
        }
        let next = Array(schedule.firings(after: now, in: .gmt).prefix(max(1, count)))
        let findings = schedule.lint().map {
            Finding(severity: $0.severity.description, code: $0.code.description, message: $0.message)
        }
        return CronExplanation(
            expression: expression, error: nil, nextFirings: next, findings: findings, failed: next.isEmpty)
    }

    /// The explanation as indented text lines:
    ///
    /// ```
    /// */50 * * * *
    ///   next (UTC): 2026-11-29T09:50:00Z, 2026-11-29T10:00:00Z
    ///   warning: minute field '*/50' fires at minute 0 and 50 of every hour, …
    /// ```
    public var text: String {
        var lines = [expression]
        if let error { lines.append("  error: \(error)") }
        if !nextFirings.isEmpty {
            lines.append("  next (UTC): " + nextFirings.map { $0.formatted(.iso8601) }.joined(separator: ", "))
        }
        lines += findings.map { "  \($0.severity): \($0.message)" }
        return lines.joined(separator: "\n")
    }

    /// Several explanations as a JSON array (`orca-run schedule --pg-cron … --json`): ISO-8601 dates, sorted keys.
    public static func json(_ explanations: [CronExplanation], prettyPrinted: Bool = true) -> String {
        ReportJSON.encode(explanations, prettyPrinted: prettyPrinted)
    }
}
