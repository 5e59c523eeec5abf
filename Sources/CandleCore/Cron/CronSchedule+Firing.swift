public import Foundation

extension CronSchedule {
    /// The first firing instant strictly after `date`, evaluated on the wall clock of `timeZone`.
    ///
    /// The default time zone is UTC, which is how pg_cron evaluates schedules unless `cron.timezone` is set. In a
    /// zone with daylight saving time the Vixie cron rules apply, keyed on whether the minute or hour field starts
    /// with `*` (a "wildcard" job, such as `*/15 * * * *` or `0 * * * *`) or not (a "fixed-time" job, such as
    /// `30 2 * * *`):
    ///
    /// - **Spring forward** (local times that do not exist, e.g. 02:00–02:59 in New York on 2026-03-08): a
    ///   fixed-time job due in the gap fires once, at the jump (03:00 local); a wildcard job's runs in the gap are
    ///   skipped.
    /// - **Fall back** (local times that happen twice, e.g. 01:00–01:59 in New York on 2026-11-01): a fixed-time job
    ///   fires once, at the first occurrence; a wildcard job fires at both, because real time keeps passing.
    ///
    /// The search skips whole months, days and hours that cannot match, so even rare schedules cost a few hundred
    /// steps. It returns `nil` only when no firing can ever occur (such as `0 0 30 2 *`), which is recognised before
    /// searching; otherwise it looks at most ``searchHorizonInYears`` years ahead, one full Gregorian cycle.
    ///
    /// - Parameters:
    ///   - date: the instant to search after; a firing exactly at `date` is not returned.
    ///   - timeZone: the zone whose wall clock the fields are read in.
    /// - Returns: the next firing instant, or `nil` if the schedule never fires.
    public func next(after date: Date, in timeZone: TimeZone = .gmt) -> Date? {
        nextInstant(after: date.timeIntervalSince1970, inclusive: false, in: CronZone(timeZone: timeZone))
            .map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// All firing instants in the half-open interval `[start, end)`, in order.
    ///
    /// A firing exactly at `start` is included; one exactly at `end` is not. The result holds every firing, so
    /// keep the interval proportionate to the schedule (a year of `* * * * *` is 525,600 dates); use
    /// ``firings(after:in:)`` to walk lazily instead.
    ///
    /// - Parameters:
    ///   - start: the first instant considered.
    ///   - end: the instant the interval stops before.
    ///   - timeZone: the zone whose wall clock the fields are read in (UTC by default, as pg_cron does).
    public func fireTimes(from start: Date, to end: Date, in timeZone: TimeZone = .gmt) -> [Date] {
        let zone = CronZone(timeZone: timeZone)
        let limit = end.timeIntervalSince1970
        var result: [Date] = []
        var cursor = start.timeIntervalSince1970
        var inclusive = true
        while let instant = nextInstant(after: cursor, inclusive: inclusive, in: zone), TimeInterval(instant) < limit {
            result.append(Date(timeIntervalSince1970: TimeInterval(instant)))
            cursor = TimeInterval(instant)
            inclusive = false
        }
        return result
    }

    /// A lazy, unbounded sequence of the firing instants strictly after `date`, each one the ``next(after:in:)`` of
    /// the one before.
    ///
    /// - Parameters:
    ///   - date: the instant to start after.
    ///   - timeZone: the zone whose wall clock the fields are read in (UTC by default, as pg_cron does).
    public func firings(after date: Date, in timeZone: TimeZone = .gmt) -> Firings {
        Firings(schedule: self, start: date, timeZone: timeZone)
    }

    /// The shortest and longest time between consecutive firings inside `interval` (both ends included).
    ///
    /// For `*/50 * * * *` over any whole day this is 10 minutes and 50 minutes: cron fires at minute 0 and 50 of
    /// every hour. Gaps are measured in real time, so daylight-saving changes in `timeZone` show up.
    ///
    /// - Parameters:
    ///   - interval: the instants to look at; the cost grows with the number of firings inside it.
    ///   - timeZone: the zone whose wall clock the fields are read in (UTC by default, as pg_cron does).
    /// - Returns: the minimum and maximum gap in seconds, or `nil` when fewer than two firings fall in `interval`.
    public func gaps(over interval: DateInterval, in timeZone: TimeZone = .gmt) -> (
        min: TimeInterval, max: TimeInterval
    )? {
        let zone = CronZone(timeZone: timeZone)
        let limit = interval.end.timeIntervalSince1970
        var shortest = TimeInterval.infinity
        var longest = -TimeInterval.infinity
        var previous: Int?
        var cursor = interval.start.timeIntervalSince1970
        var inclusive = true
        while let instant = nextInstant(after: cursor, inclusive: inclusive, in: zone), TimeInterval(instant) <= limit {
            if let previous {
                shortest = Swift.min(shortest, TimeInterval(instant - previous))
                longest = Swift.max(longest, TimeInterval(instant - previous))
            }
            previous = instant
            cursor = TimeInterval(instant)
            inclusive = false
        }
        return shortest.isFinite ? (shortest, longest) : nil
    }

    /// The firing instants of a schedule after a start instant, computed lazily; see ``firings(after:in:)``.
    public struct Firings: Sequence, Sendable {
        /// The schedule being walked.
        public let schedule: CronSchedule
        /// The instant the sequence starts after.
        public let start: Date
        /// The zone whose wall clock the fields are read in.
        public let timeZone: TimeZone

        /// Creates an iterator positioned at ``start``.
        public func makeIterator() -> Iterator {
            Iterator(schedule: schedule, cursor: start, timeZone: timeZone)
        }

        /// Produces the next firing after the previous one; `nil` only when the schedule can never fire.
        public struct Iterator: IteratorProtocol, Sendable {
            let schedule: CronSchedule
            var cursor: Date
            let timeZone: TimeZone

            /// The next firing instant, or `nil` when there is none.
            public mutating func next() -> Date? {
                guard let date = schedule.next(after: cursor, in: timeZone) else { return nil }
                cursor = date
                return date
            }
        }
    }

    // MARK: - Search

    /// The first firing instant (whole seconds since 1970) after `seconds`, or at it when `inclusive`.
    func nextInstant(after seconds: TimeInterval, inclusive: Bool, in zone: CronZone) -> Int? {
        guard canEverFire, seconds.isFinite, abs(seconds) < 1e14 else { return nil }
        let base = Int(seconds.rounded(.down))
        // Start from the smallest wall time any later instant can show: near a fall-back change the wall clock
        // repeats an hour, so instants after `seconds` may read earlier than `seconds` itself.
        let smallestOffset = Swift.min(zone.offset(at: base), zone.offset(at: base + 172_800))
        var wall = CronWallTime(localSeconds: base + smallestOffset)
        let lastYear = wall.year + Self.searchHorizonInYears
        var best: Int?
        while let match = nextMatchingWallTime(atOrAfter: wall, throughYear: lastYear) {
            let instants = firingInstants(of: match, in: zone)
            // The earliest instant of a wall time never decreases as the wall time grows, so once a wall time's
            // earliest instant is no better than the best found, nothing later can be.
            if let best, let first = instants.first, first >= best { break }
            for instant in instants where inclusive ? TimeInterval(instant) >= seconds : TimeInterval(instant) > seconds
            {
                best = Swift.min(best ?? instant, instant)
            }
            wall = match
            wall.minute += 1
        }
        return best
    }

    /// The instants at which a matching wall time fires, applying Vixie cron's daylight-saving rules.
    func firingInstants(of wall: CronWallTime, in zone: CronZone) -> [Int] {
        switch zone.instants(atLocal: wall.localSeconds) {
        case .unique(let instant): [instant]
        case .repeated(let first, let second): isWildcardJob ? [first, second] : [first]
        case .skipped(let transition): isWildcardJob ? [] : [transition]
        }
    }

    /// The first wall time at or after `start` (which may hold overflowing fields) that matches every field.
    func nextMatchingWallTime(atOrAfter start: CronWallTime, throughYear lastYear: Int) -> CronWallTime? {
        var (year, month, day, hour, minute) = (start.year, start.month, start.day, start.hour, start.minute)
        while year <= lastYear {
            guard let nextMonth = monthSet.next(atOrAfter: month) else {
                (year, month, day, hour, minute) = (year + 1, 1, 1, 0, 0)
                continue
            }
            if nextMonth != month { (month, day, hour, minute) = (nextMonth, 1, 0, 0) }
            guard let nextDay = nextMatchingDay(year: year, month: month, from: day) else {
                (month, day, hour, minute) = (month + 1, 1, 0, 0)
                if month > 12 { (year, month) = (year + 1, 1) }
                continue
            }
            if nextDay != day { (day, hour, minute) = (nextDay, 0, 0) }
            guard let nextHour = hourSet.next(atOrAfter: hour) else {
                (day, hour, minute) = (day + 1, 0, 0)
                continue
            }
            if nextHour != hour { (hour, minute) = (nextHour, 0) }
            guard let nextMinute = minuteSet.next(atOrAfter: minute) else {
                (hour, minute) = (hour + 1, 0)
                continue
            }
            return CronWallTime(year: year, month: month, day: day, hour: hour, minute: nextMinute)
        }
        return nil
    }

    /// The first day from `day` to the end of the month that passes the day rule.
    func nextMatchingDay(year: Int, month: Int, from day: Int) -> Int? {
        let length = CivilDate.daysInMonth(year: year, month: month)
        guard day <= length else { return nil }
        if !matchesEitherDayField, dayOfWeekSet.isEverything {
            return dayOfMonthSet.next(atOrAfter: day).flatMap { $0 <= length ? $0 : nil }
        }
        var weekday = CivilDate.weekday(days: CivilDate.days(year: year, month: month, day: day))
        for candidate in day...length {
            if dayMatches(day: candidate, weekday: weekday) { return candidate }
            weekday = (weekday + 1) % 7
        }
        return nil
    }
}
