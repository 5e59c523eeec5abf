public import Foundation

extension CronSchedule {
    /// The year whose calendar (and daylight-saving changes) the lint uses for examples; the firing-pattern summary
    /// samples eight years from its start, so leap days are included. Fixed so that lint output is deterministic.
    public static let lintReferenceYear = 2026

    /// Explains the schedule's pitfalls and its real firing pattern in plain English.
    ///
    /// Findings come errors first, then warnings, then notes; the last is always the `firingPattern`
    /// summary (for example `fires 2 times per hour; gaps 50 min, 10 min (…)`), unless the schedule never fires.
    /// The checks:
    ///
    /// - a step that does not divide its field (`*/50` minutes: gaps 50 and 10 minutes; `*/7` hours: 7, 7, 7 and 3)
    ///   or is larger than its range (`*/90`);
    /// - both day fields restricted, so a day matches if EITHER matches; or a `*/n` day field that makes it BOTH;
    /// - evaluation in UTC (when `timeZone` is UTC, as in pg_cron) against New York time, or the daylight-saving
    ///   changes of `timeZone` in ``lintReferenceYear`` that skip or repeat a run;
    /// - day-of-month 29–31 that some months lack, and a schedule that never fires (an error);
    /// - 7 for Sunday, values listed twice, and minute `*` with a restricted hour.
    ///
    /// - Parameter timeZone: the zone the schedule will run in; UTC by default, as pg_cron does.
    /// - Returns: the findings, most serious first.
    public func lint(in timeZone: TimeZone = .gmt) -> [CronLintFinding] {
        var findings: [CronLintFinding] = []
        for field in CronField.allCases {
            findings += stepFindings(field)
        }
        findings += repeatedValueFindings()
        if dayOfWeekSet.items.contains(where: { !$0.isStar && $0.high == 7 }) {
            findings.append(
                CronLintFinding(
                    severity: .info, code: .sundayAsSeven, field: .dayOfWeek,
                    message: "day-of-week 7 means Sunday, the same as 0; Vixie cron and pg_cron accept it, but some "
                        + "other cron implementations accept only 0–6"))
        }
        guard canEverFire else {
            findings.append(neverFiresFinding())
            return Self.mostSeriousFirst(findings)
        }
        if let finding = everyMinuteFinding() { findings.append(finding) }
        findings += dayFieldFindings()
        if let finding = missingDaysFinding() { findings.append(finding) }
        let zone = CronZone(timeZone: timeZone)
        let isUTC = Self.isUTC(zone)
        if isUTC {
            if let finding = utcFinding() { findings.append(finding) }
        } else {
            findings += daylightSavingFindings(zone)
        }
        return Self.mostSeriousFirst(findings) + [patternFinding(zoneLabel: isUTC ? "UTC" : timeZone.identifier)]
    }

    /// Sorts by severity, most serious first, keeping the order of discovery within a severity.
    private static func mostSeriousFirst(_ findings: [CronLintFinding]) -> [CronLintFinding] {
        findings.enumerated().sorted { ($0.element.severity, $1.offset) > ($1.element.severity, $0.offset) }
            .map(\.element)
    }

    // MARK: - Steps

    private func stepFindings(_ field: CronField) -> [CronLintFinding] {
        let set = set(for: field)
        var findings: [CronLintFinding] = []
        for item in set.items where item.hasStep && item.step > 1 {
            let subject =
                set.items.count == 1
                ? "\(field.name) field '\(item.text)'" : "'\(item.text)' in \(field.name) field '\(set.text)'"
            let coversField =
                item.low == field.range.lowerBound
                && (item.high == field.range.upperBound || (field == .dayOfWeek && item.high >= 6))
            if item.step > item.high - item.low {
                let span =
                    coversField
                    ? "the field's range \(field.range.lowerBound)–\(field.range.upperBound)"
                    : "the range \(item.low)-\(item.high)"
                var message =
                    "\(subject): the step \(item.step) is larger than \(span), so it only matches "
                    + Self.valueName(item.low, field)
                if coversField {
                    message += " — once per \(Self.cycleName(field)), not every \(item.step) \(field.unit)s"
                }
                findings.append(
                    CronLintFinding(severity: .warning, code: .stepLargerThanRange, field: field, message: message))
                continue
            }
            guard coversField else { continue }
            if field == .dayOfMonth {
                if let finding = dayOfMonthStepFinding(item, subject: subject) { findings.append(finding) }
                continue
            }
            let cycle = field == .minute ? 60 : field == .hour ? 24 : field == .month ? 12 : 7
            let values = Array(Set(item.values.map { field == .dayOfWeek ? $0 % 7 : $0 })).sorted()
            var gaps = zip(values, values.dropFirst()).map { $1 - $0 }
            gaps.append(cycle - values[values.count - 1] + values[0])
            guard Set(gaps).count > 1 else { continue }
            let listed = CronFormat.list(values.map { Self.listName($0, field) })
            let place: String
            switch field {
            case .minute: place = "fires at minute \(listed) of every hour"
            case .hour: place = "fires at hour \(listed) of every day"
            case .month: place = "fires in \(listed) of every year"
            default: place = "fires on \(listed) of every week"
            }
            var message =
                "\(subject) \(place), so the gaps are \(Self.gapSequence(gaps, unit: field.unit)) — not every "
                + "\(item.step) \(field.unit)s"
            if field == .month { message += " (the year restarts in January)" }
            if field == .dayOfWeek { message += " (the week restarts on Sunday)" }
            findings.append(CronLintFinding(severity: .warning, code: .unevenStep, field: field, message: message))
        }
        return findings
    }

    private func dayOfMonthStepFinding(_ item: CronItem, subject: String) -> CronLintFinding? {
        let lengths = Set(monthSet.values.flatMap { $0 == 2 ? [28, 29] : [CivilDate.maximumDays(month: $0)] })
        var lastDays = Set<Int>()
        var wraps = Set<Int>()
        for length in lengths {
            guard let last = item.values.last(where: { $0 <= length }) else { continue }
            lastDays.insert(last)
            wraps.insert(length - last + item.low)
        }
        guard wraps != [item.step] else { return nil }
        let lastText = CronFormat.list(lastDays.sorted().map(String.init), conjunction: "or")
        let wrapText = CronFormat.list(wraps.sorted().map(String.init), conjunction: "or")
        return CronLintFinding(
            severity: .warning, code: .unevenStep, field: .dayOfMonth,
            message: "\(subject) restarts on the \(CronFormat.ordinal(item.low)) of every month: the last run in a "
                + "month is on day \(lastText) depending on the month's length, so the gap into the next month is "
                + "\(wrapText) days — not always every \(item.step) days")
    }

    /// "50 and 10 minutes", "7, 7, 7 and 3 hours", "7 minutes (8 times) and then 4 minutes".
    static func gapSequence(_ gaps: [Int], unit: String) -> String {
        let plural = "\(unit)s"
        if gaps.count > 4, Set(gaps.dropLast()).count == 1 {
            let first = gaps[0]
            let last = gaps[gaps.count - 1]
            return "\(first) \(plural) (\(gaps.count - 1) times) and then \(last) \(last == 1 ? unit : plural)"
        }
        return "\(CronFormat.list(gaps.map(String.init))) \(plural)"
    }

    private static func listName(_ value: Int, _ field: CronField) -> String {
        switch field {
        case .month: CronNames.monthName(value)
        case .dayOfWeek: CronNames.weekdayName(value)
        default: String(value)
        }
    }

    private static func valueName(_ value: Int, _ field: CronField) -> String {
        switch field {
        case .minute: "minute \(value)"
        case .hour: "hour \(value)"
        case .dayOfMonth: "day \(value)"
        case .month: CronNames.monthName(value)
        case .dayOfWeek: CronNames.weekdayName(value)
        }
    }

    private static func cycleName(_ field: CronField) -> String {
        switch field {
        case .minute: "hour"
        case .hour: "day"
        case .dayOfMonth: "month"
        case .month: "year"
        case .dayOfWeek: "week"
        }
    }

    // MARK: - Repetition, Sunday, every minute

    private func repeatedValueFindings() -> [CronLintFinding] {
        CronField.allCases.compactMap { field in
            let set = set(for: field)
            guard !set.repeatedValues.isEmpty else { return nil }
            let names = CronFormat.list(set.repeatedValues.map { Self.valueName($0, field) })
            var message = "\(field.name) field '\(set.text)' lists \(names) more than once"
            let writesZeroAndSeven =
                field == .dayOfWeek && set.repeatedValues.contains(0)
                && set.items.contains { !$0.isStar && $0.high == 7 }
                && set.items.contains { !$0.isStar && $0.low == 0 }
            message += writesZeroAndSeven ? " (0 and 7 are both Sunday)" : " (its items overlap)"
            message += "; harmless, but check the field says what you meant"
            return CronLintFinding(severity: .info, code: .repeatedValues, field: field, message: message)
        }
    }

    private func everyMinuteFinding() -> CronLintFinding? {
        guard minuteSet.text == "*", !hourSet.isEverything else { return nil }
        let hours = hourSet.values
        let first = hours[0]
        let span = "from \(CronFormat.clock(hour: first, minute: 0)) to \(CronFormat.clock(hour: first, minute: 59))"
        let which =
            hours.count == 1
            ? "that hour — 60 runs \(span)" : "each of hours \(CronFormat.values(hours)) — 60 runs an hour"
        return CronLintFinding(
            severity: .warning, code: .everyMinuteOfHour, field: .minute,
            message: "minute field '*' with hour field '\(hourSet.text)' runs every minute of \(which), not once at "
                + "\(CronFormat.clock(hour: first, minute: 0)); write '0 \(hourSet.text) …' for one run an hour")
    }

    // MARK: - Day fields

    private func dayFieldFindings() -> [CronLintFinding] {
        let dom = dayOfMonthSet
        let dow = dayOfWeekSet
        if matchesEitherDayField {
            var message =
                "day-of-month '\(dom.text)' and day-of-week '\(dow.text)' are both restricted, so cron runs "
                + "when EITHER matches: on \(domPhrase()) AND on every \(dowPhrase(conjunction: "and"))"
            if dom.count == 1, dow.count == 1 {
                message +=
                    " — not only on \(CronNames.weekdayName(dow.values[0]))s that fall on the "
                    + CronFormat.ordinal(dom.values[0])
            } else {
                message += " — not only on days that match both fields"
            }
            return [CronLintFinding(severity: .warning, code: .eitherDayField, field: .dayOfWeek, message: message)]
        }
        let stepped: (CronFieldSet, CronFieldSet)? =
            dom.isStarPrefixed && dom.text != "*" && !dow.isStarPrefixed
            ? (dom, dow) : dow.isStarPrefixed && dow.text != "*" && !dom.isStarPrefixed ? (dow, dom) : nil
        guard let (starred, other) = stepped else { return [] }
        let spelledOut = starred.text.replacingOccurrences(
            of: "*", with: "\(starred.field.range.lowerBound)-\(starred.field.range.upperBound)")
        return [
            CronLintFinding(
                severity: .warning, code: .bothDayFields, field: starred.field,
                message: "\(starred.field.name) field '\(starred.text)' starts with '*', so cron treats it as "
                    + "unrestricted for the day rule and runs only on days that match BOTH day fields: \(domPhrase()) "
                    + "when it is a \(dowPhrase(conjunction: "or")); writing '\(spelledOut)' instead would run when "
                    + "EITHER '\(spelledOut)' or \(other.field.name) '\(other.text)' matches")
        ]
    }

    /// "the 1st of the month", "the 1st and 15th of the month", "days 1–7 of the month".
    func domPhrase() -> String {
        let days = dayOfMonthSet.values
        if days.count <= 3 {
            return "the \(CronFormat.list(days.map(CronFormat.ordinal))) of the month"
        }
        return "days \(CronFormat.values(days)) of the month"
    }

    /// "Monday", "Monday–Friday", "Monday and Friday" (or "Monday or Friday").
    func dowPhrase(conjunction: String) -> String {
        let text = CronFormat.values(dayOfWeekSet.values, render: CronNames.weekdayName)
        return conjunction == "and" ? text : text.replacingOccurrences(of: " and ", with: " or ")
    }

    private func missingDaysFinding() -> CronLintFinding? {
        guard !dayOfMonthSet.isStarPrefixed else { return nil }
        let days = Set(dayOfMonthSet.values)
        var parts: [String] = []
        for day in [31, 30] where days.contains(day) {
            let lacking = monthSet.values.filter { CivilDate.maximumDays(month: $0) < day }
            guard !lacking.isEmpty else { continue }
            let names = CronFormat.list(lacking.map(CronNames.monthName))
            parts.append("\(names) \(lacking.count == 1 ? "has" : "have") no \(CronFormat.ordinal(day))")
        }
        if days.contains(29), monthSet.contains(2) { parts.append("February has a 29th only in leap years") }
        guard !parts.isEmpty else { return nil }
        var message =
            "day-of-month '\(dayOfMonthSet.text)' includes days that some months lack: "
            + parts.joined(separator: "; ") + ". Cron skips a day that does not exist; it does not move the run to the "
            + "month's last day"
        if matchesEitherDayField { message += " (days matched by the day-of-week field still run)" }
        return CronLintFinding(severity: .warning, code: .missingDays, field: .dayOfMonth, message: message)
    }

    private func neverFiresFinding() -> CronLintFinding {
        let months = monthSet.values
        let monthList = CronFormat.list(months.map(CronNames.monthName), conjunction: "or")
        let limits = Dictionary(grouping: months) { CivilDate.maximumDays(month: $0) }
        func phrase(_ limit: Int, _ group: [Int]) -> String {
            let names = CronFormat.list(group.map(CronNames.monthName))
            let verb = group.count == 1 ? "has" : "have"
            return limit == 29 ? "\(names) \(verb) at most 29 days" : "\(names) \(verb) \(limit) days"
        }
        let explanation: String
        if limits.count == 1, let (limit, _) = limits.first {
            explanation =
                ", which \(months.count == 1 ? "has" : "have") \(limit == 29 ? "at most 29" : "\(limit)") days"
        } else {
            explanation = " (" + limits.keys.sorted().map { phrase($0, limits[$0] ?? []) }.joined(separator: "; ") + ")"
        }
        return CronLintFinding(
            severity: .error, code: .neverFires, field: .dayOfMonth,
            message: "never fires: day-of-month '\(dayOfMonthSet.text)' never occurs in \(monthList)\(explanation)")
    }

    // MARK: - Time zones

    private static func isUTC(_ zone: CronZone) -> Bool {
        let start = CivilDate.days(year: lintReferenceYear, month: 1, day: 1) * 86_400
        let end = CivilDate.days(year: lintReferenceYear + 1, month: 1, day: 1) * 86_400
        let transition = zone.timeZone.nextDaylightSavingTimeTransition(
            after: Date(timeIntervalSince1970: TimeInterval(start)))
        return zone.offset(at: start) == 0 && zone.offset(at: start + 182 * 86_400) == 0
            && (transition.map { $0.timeIntervalSince1970 >= TimeInterval(end) } ?? true)
    }

    private func utcFinding() -> CronLintFinding? {
        // New York is UTC−4 in daylight time (EDT, second Sunday of March to first Sunday of November) and UTC−5
        // otherwise (EST); CME's equity-index session is quoted in New York time in the seed system.
        let intro = "pg_cron evaluates schedules in UTC (unless cron.timezone is set), not exchange time"
        if !hourSet.isEverything {
            let hour = hourSet.values[0]
            let minute = minuteSet.count == 1 ? minuteSet.values[0] : 0
            func newYork(_ offset: Int) -> String {
                let local = hour - offset
                let clock = CronFormat.clock(hour: (local + 24) % 24, minute: minute)
                return local < 0 ? "\(clock) the previous day" : clock
            }
            let utc = CronFormat.clock(hour: hour, minute: minute)
            return CronLintFinding(
                severity: .info, code: .evaluatedInUTC, field: .hour,
                message: "\(intro): \(utc) in this schedule is \(utc) UTC, which is \(newYork(4)) in New York during "
                    + "daylight saving time (EDT, UTC−4, March to November) and \(newYork(5)) in winter (EST, UTC−5); "
                    + "the New York time of each run shifts by an hour at every DST change while the UTC time stays "
                    + "fixed")
        }
        guard !(dayRuleAlwaysMatches && monthSet.isEverything) else { return nil }
        return CronLintFinding(
            severity: .info, code: .evaluatedInUTC,
            message: "\(intro): each day of this schedule starts at 00:00 UTC, which is 20:00 (EDT) or 19:00 (EST) the "
                + "previous evening in New York, so its days do not line up with New York's days")
    }

    private func daylightSavingFindings(_ zone: CronZone) -> [CronLintFinding] {
        let end = TimeInterval(CivilDate.days(year: Self.lintReferenceYear + 1, month: 1, day: 1) * 86_400)
        var cursor = Date(
            timeIntervalSince1970: TimeInterval(CivilDate.days(year: Self.lintReferenceYear, month: 1, day: 1) * 86_400)
        )
        var findings: [CronLintFinding] = []
        while let change = zone.timeZone.nextDaylightSavingTimeTransition(after: cursor),
            change.timeIntervalSince1970 < end
        {
            cursor = change
            let instant = Int(change.timeIntervalSince1970)
            let before = zone.offset(at: instant - 1)
            let after = zone.offset(at: instant)
            guard before != after else { continue }
            let fromWall = CronWallTime(localSeconds: instant + before)
            let toWall = CronWallTime(localSeconds: instant + after)
            let lowLocal = instant + Swift.min(before, after)
            let highLocal = instant + Swift.max(before, after)
            var matched: [CronWallTime] = []
            var wall = CronWallTime(localSeconds: lowLocal)
            while let match = nextMatchingWallTime(atOrAfter: wall, throughYear: wall.year),
                match.localSeconds < highLocal
            {
                matched.append(match)
                wall = match
                wall.minute += 1
            }
            guard !matched.isEmpty else { continue }
            let times = CronFormat.values(matched.map { $0.hour * 60 + $0.minute }) {
                CronFormat.clock(hour: $0 / 60, minute: $0 % 60)
            }
            let plural = matched.count > 1
            let name = zone.timeZone.identifier
            if after > before {
                let intro =
                    "in \(name) the clocks jump from \(fromWall.clockText) to \(toWall.clockText) on "
                    + "\(toWall.dateText), so"
                let message =
                    isWildcardJob
                    ? "\(intro) the \(plural ? "runs" : "run") at \(times) \(plural ? "are" : "is") skipped that day "
                        + "(Vixie cron does not catch up a job whose minute or hour field starts with '*')"
                    : "\(intro) \(times) \(plural ? "do" : "does") not exist that day; following Vixie cron, the job "
                        + "fires once at \(toWall.clockText) instead"
                findings.append(CronLintFinding(severity: .warning, code: .daylightSaving, message: message))
            } else {
                let intro =
                    "in \(name) the clocks go back from \(fromWall.clockText) to \(toWall.clockText) on "
                    + "\(toWall.dateText), so \(times) \(plural ? "happen" : "happens") twice"
                let message =
                    isWildcardJob
                    ? "\(intro); because the minute or hour field starts with '*', the job fires at both, as real "
                        + "time keeps passing"
                    : "\(intro); following Vixie cron, the job fires only at the first \(matched[0].clockText)"
                findings.append(CronLintFinding(severity: .info, code: .daylightSaving, message: message))
            }
        }
        return findings
    }

    // MARK: - Summary

    /// Whether every calendar day passes the day rule (months aside).
    var dayRuleAlwaysMatches: Bool {
        matchesEitherDayField
            ? dayOfMonthSet.isEverything || dayOfWeekSet.isEverything
            : dayOfMonthSet.isEverything && dayOfWeekSet.isEverything
    }

    private func patternFinding(zoneLabel: String) -> CronLintFinding {
        let minutesOfDay = hourSet.values.flatMap { hour in minuteSet.values.map { hour * 60 + $0 } }
        let perDay = minutesOfDay.count
        let sampleYears = 8
        var matchingDays: [Int] = []
        var perYear: [Int] = []
        for year in Self.lintReferenceYear..<(Self.lintReferenceYear + sampleYears) {
            var count = 0
            for month in 1...12 where monthSet.contains(month) {
                for day in 1...CivilDate.daysInMonth(year: year, month: month) {
                    let number = CivilDate.days(year: year, month: month, day: day)
                    if dayMatches(day: day, weekday: CivilDate.weekday(days: number)) {
                        matchingDays.append(number)
                        count += perDay
                    }
                }
            }
            perYear.append(count)
        }
        var gaps: [Int] = []
        func note(_ gap: Int) { if !gaps.contains(gap) { gaps.append(gap) } }
        if !matchingDays.isEmpty { zip(minutesOfDay, minutesOfDay.dropFirst()).forEach { note($1 - $0) } }
        for (previous, day) in zip(matchingDays, matchingDays.dropFirst()) {
            note((day - previous) * 1440 - minutesOfDay[minutesOfDay.count - 1] + minutesOfDay[0])
        }

        func times(_ count: Int) -> String { count == 1 ? "once" : "\(count) times" }
        let frequency: String
        if dayRuleAlwaysMatches, monthSet.isEverything {
            frequency = hourSet.isEverything ? "\(times(minuteSet.count)) per hour" : "\(times(perDay)) per day"
        } else if !matchesEitherDayField, dayOfMonthSet.isEverything, monthSet.isEverything {
            frequency = "\(times(perDay * dayOfWeekSet.count)) per week"
        } else if let least = perYear.min(), let most = perYear.max(), least > 0 {
            frequency = least == most ? "\(times(least)) per year" : "\(least)–\(most) times per year"
        } else {
            let first = Self.lintReferenceYear
            frequency = "\(times(perYear.reduce(0, +))) in \(sampleYears) years (\(first)–\(first + sampleYears - 1))"
        }
        let spacing: String
        switch gaps.count {
        case 0: spacing = "no gaps to measure"
        case 1: spacing = "every \(CronFormat.duration(minutes: gaps[0]))"
        case 2...6: spacing = "gaps " + gaps.map { CronFormat.duration(minutes: $0) }.joined(separator: ", ")
        default:
            let sorted = gaps.sorted()
            spacing =
                "gaps from \(CronFormat.duration(minutes: sorted[0])) to "
                + CronFormat.duration(minutes: sorted[sorted.count - 1])
        }
        return CronLintFinding(
            severity: .info, code: .firingPattern,
            message: "fires \(frequency); \(spacing) (\(timesPhrase()), \(daysPhrase()), \(zoneLabel))")
    }

    /// "at minute 0 and 50 of every hour", "every minute", "at 09:30 and 16:00", "at minute 0 of hour 9–17".
    private func timesPhrase() -> String {
        let minutes = minuteSet.isEverything ? "every minute" : "at minute \(CronFormat.values(minuteSet.values))"
        if hourSet.isEverything {
            return minuteSet.isEverything ? minutes : "\(minutes) of every hour"
        }
        if !minuteSet.isEverything, minuteSet.count * hourSet.count <= 4 {
            let clocks = hourSet.values.flatMap { hour in
                minuteSet.values.map { CronFormat.clock(hour: hour, minute: $0) }
            }
            return "at \(CronFormat.list(clocks))"
        }
        return "\(minutes) of hour \(CronFormat.values(hourSet.values))"
    }

    /// "every day", "on the 1st of the month and on every Monday", "on every Monday–Friday in January".
    private func daysPhrase() -> String {
        var phrase: String
        if dayRuleAlwaysMatches {
            phrase = "every day"
        } else if matchesEitherDayField {
            phrase = "on \(domPhrase()) and on every \(dowPhrase(conjunction: "and"))"
        } else if dayOfWeekSet.isEverything {
            phrase = "on \(domPhrase())"
        } else if dayOfMonthSet.isEverything {
            phrase = "on every \(dowPhrase(conjunction: "and"))"
        } else {
            phrase = "on \(domPhrase()) when it is a \(dowPhrase(conjunction: "or"))"
        }
        if !monthSet.isEverything {
            phrase += " in \(CronFormat.values(monthSet.values, render: CronNames.monthName))"
        }
        return phrase
    }
}
