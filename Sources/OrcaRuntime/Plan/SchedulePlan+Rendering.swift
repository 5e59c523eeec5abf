public import Foundation

extension SchedulePlan {
    /// The plan as JSON (`orca-run schedule --json`): ISO-8601 dates, sorted keys.
    public func json(prettyPrinted: Bool = true) -> String {
        ReportJSON.encode(self, prettyPrinted: prettyPrinted)
    }

    /// Decodes a plan written by ``json(prettyPrinted:)``.
    public init(json: Data) throws {
        self = try ReportJSON.decode(SchedulePlan.self, from: json)
    }

    /// The plan as text for a terminal (`orca-run schedule`); times are UTC unless marked New York.
    ///
    /// ```
    /// PLAN at 2026-11-27 17:50Z (Fri 12:50 New York)
    /// market open; closes or halts 2026-11-27 18:15Z (Fri 13:15 New York)
    /// collection: live chart subscriptions; each bar is written seconds after it closes
    ///
    /// SERIES    CONTRACT  NEXT ROLL                 NEXT BAR CLOSES
    /// NQ 5min   NQZ6      2026-12-09 23:00Z → NQH7  2026-11-27 17:55Z, 18:00Z, 18:05Z
    ///
    /// TOKENS in redis://127.0.0.1:6379/0; renewed 15m before expiry
    /// LOGIN  EXPIRES            RENEWAL
    /// demo   2026-11-27 19:20Z  2026-11-27 19:05Z (in 1h15m)
    /// ```
    public func table() -> String {
        var lines = ["PLAN at \(PlanText.instantWithNewYork(at))"]
        lines += notes.map { "note: \($0)" }
        if market.open {
            lines.append("market open; closes or halts " + (market.nextClose.map(PlanText.instantWithNewYork) ?? "-"))
        } else {
            lines.append("market closed; opens " + (market.nextOpen.map(PlanText.instantWithNewYork) ?? "-"))
        }
        if let cron = collection.cron {
            lines.append(
                "collection: cron '\(cron)' (UTC), next " + PlanText.instants(collection.nextFirings, empty: "never"))
        } else {
            lines.append("collection: live chart subscriptions; each bar is written seconds after it closes")
        }
        lines.append("")
        if series.isEmpty {
            lines.append("no series configured")
        } else {
            lines += HealthText.table(
                header: ["SERIES", "CONTRACT", "NEXT ROLL", "NEXT BAR CLOSES"],
                rows: series.map { entry in
                    [
                        entry.series, entry.frontContract,
                        "\(HealthText.instant(entry.nextRoll)) → \(entry.nextContract)",
                        PlanText.instants(entry.nextCloses, empty: "none within 70 days"),
                    ]
                })
        }
        lines.append("")
        lines += tokenLines()
        return lines.joined(separator: "\n")
    }

    private func tokenLines() -> [String] {
        let margin = HealthText.lag(tokens.renewalMarginSeconds)
        var lines: [String]
        if let store = tokens.store {
            lines = ["TOKENS in \(store); renewed \(margin) before expiry, once across processes"]
            if let error = tokens.storeError { lines.append("the token store could not be read: \(error)") }
        } else {
            lines = [
                "TOKENS: no shared token store: tokens live in the daemon's memory "
                    + "(set REDIS_URL to share them); renewed \(margin) before expiry"
            ]
        }
        if tokens.logins.isEmpty {
            lines.append("no Tradovate login configured")
            return lines
        }
        lines += HealthText.table(
            header: ["LOGIN", "EXPIRES", "RENEWAL"],
            rows: tokens.logins.map { entry in
                [entry.login, entry.expirationTime.map { HealthText.instant($0) } ?? "-", renewalText(entry)]
            })
        return lines
    }

    private func renewalText(_ entry: LoginPlan) -> String {
        switch entry.renewal {
        case .scheduled:
            guard let time = entry.renewalTime else { return "scheduled" }
            return "\(HealthText.instant(time)) (in \(HealthText.lag(time.timeIntervalSince(at))))"
        case .due:
            let left = entry.expirationTime.map { TerminalText.duration($0.timeIntervalSince(at)) } ?? "?"
            return "due now (expires in \(left), inside the \(HealthText.lag(tokens.renewalMarginSeconds)) margin)"
        case .expired: return "expired: new login at start"
        case .atStart: return "at start (no token yet)"
        case .unknown: return "unknown (token store unreadable)"
        }
    }
}

/// Text helpers for the plan.
enum PlanText {
    /// `2026-11-27 17:50Z, 17:55Z, 2026-11-29 23:05Z`: the day is written when it changes.
    static func instants(_ dates: [Date], empty: String) -> String {
        guard !dates.isEmpty else { return empty }
        var previousDay = ""
        return dates.map { date in
            let text = HealthText.instant(date)
            let day = String(text.prefix(10))
            defer { previousDay = day }
            return day == previousDay ? String(text.dropFirst(11)) : text
        }.joined(separator: ", ")
    }

    /// `2026-11-27 17:50Z (Fri 12:50 New York)`.
    static func instantWithNewYork(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = newYork
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let weekday = weekdays[((parts.weekday ?? 1) - 1) % 7]
        let time = two(parts.hour ?? 0) + ":" + two(parts.minute ?? 0)
        return "\(HealthText.instant(date)) (\(weekday) \(time) New York)"
    }

    private static let newYork = TimeZone(identifier: "America/New_York")!
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
