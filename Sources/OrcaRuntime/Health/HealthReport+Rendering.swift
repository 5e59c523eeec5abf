public import Foundation

extension HealthReport {
    /// The report as JSON (`orca-run health --json`, `GET /health`): ISO-8601 dates, sorted keys.
    public func json(prettyPrinted: Bool = true) -> String {
        ReportJSON.encode(self, prettyPrinted: prettyPrinted)
    }

    /// Decodes a report written by ``json(prettyPrinted:)``.
    public init(json: Data) throws {
        self = try ReportJSON.decode(HealthReport.self, from: json)
    }

    /// The report as fixed-width tables for a terminal (`orca-run health`).
    ///
    /// ```
    /// STATUS degraded (exit 1) at 2026-11-18 15:02:00Z
    /// - NQ 5min: 3 expected bars missing after 2026-11-18 14:40Z
    ///
    /// LOGIN        STATUS   EXPIRES IN  SOURCE   LAST ERROR
    /// demo         healthy  1h15m       renewal  -
    /// …
    /// ```
    public func table() -> String {
        var lines = ["STATUS \(status) (exit \(exitCode)) at \(HealthText.instant(checkedAt, seconds: true))"]
        lines += reasons.map { "- \($0)" }
        if !tokens.isEmpty {
            lines.append("")
            lines += HealthText.table(
                header: ["LOGIN", "STATUS", "EXPIRES IN", "SOURCE", "LAST ERROR"],
                rows: tokens.map { token in
                    [
                        token.login, token.status.rawValue, token.secondsToExpiry.map(TerminalText.duration) ?? "none",
                        token.source ?? "-", token.lastError ?? "-",
                    ]
                })
        }
        if !components.isEmpty {
            lines.append("")
            lines += HealthText.table(
                header: ["COMPONENT", "STATUS", "REACHABLE", "LATENCY", "DETAIL", "LAST ERROR"],
                rows: components.map { component in
                    [
                        component.name, component.status.rawValue, component.reachable.map { $0 ? "yes" : "NO" } ?? "-",
                        component.latencySeconds.map(HealthChecker.milliseconds) ?? "-", component.detail ?? "-",
                        component.lastError ?? "-",
                    ]
                })
        }
        if !series.isEmpty {
            lines.append("")
            lines += HealthText.table(
                header: ["SERIES", "STATUS", "MARKET", "LAST BAR", "EXPECTED LAST", "MISSING", "LAG"],
                rows: series.map { entry in
                    [
                        entry.series.description, entry.status.rawValue, entry.marketOpen ? "open" : "closed",
                        entry.lastBarStart.map { HealthText.instant($0) } ?? "none",
                        entry.expectedLastBarStart.map { HealthText.instant($0) } ?? "-",
                        entry.lastError == nil ? "\(entry.missingBars)" : "?",
                        entry.lastError.map { "error: \($0)" } ?? entry.lagSeconds.map(HealthText.lag) ?? "-",
                    ]
                })
        }
        return lines.joined(separator: "\n")
    }
}

/// Text helpers for the health table.
enum HealthText {
    /// `2026-11-18 14:55Z` (UTC), with seconds when asked.
    static func instant(_ date: Date, seconds: Bool = false) -> String {
        let iso = LogTimestamp.iso8601(date)  // 2026-11-18T14:55:00.000Z
        let day = iso.prefix(10)
        let time = iso.dropFirst(11).prefix(seconds ? 8 : 5)
        return "\(day) \(time)Z"
    }

    /// `0s`, `15m`, `2h30m`, `3d4h`.
    static func lag(_ seconds: TimeInterval) -> String {
        let whole = Int(max(0, seconds))
        if whole >= 86_400 { return "\(whole / 86_400)d\(whole % 86_400 / 3600)h" }
        if whole >= 3600 { return "\(whole / 3600)h" + two(whole % 3600 / 60) + "m" }
        if whole >= 60 { return "\(whole / 60)m" }
        return "\(whole)s"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Left-aligned columns, two spaces apart; the last column is not padded.
    static func table(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }
    }
}
