internal import Foundation

/// A local wall-clock minute. Fields may overflow (minute 60, hour 24, day 32) while searching; the search
/// normalises them by moving on to the next hour, day or month.
struct CronWallTime: Hashable, Comparable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// The wall time of `localSeconds` (seconds since 1970-01-01T00:00 on the local clock), floored to the minute.
    init(localSeconds: Int) {
        let days = CivilDate.floorDivide(localSeconds, 86_400)
        let secondOfDay = localSeconds - days * 86_400
        let date = CivilDate.date(days: days)
        self.init(
            year: date.year, month: date.month, day: date.day, hour: secondOfDay / 3600,
            minute: secondOfDay % 3600 / 60)
    }

    /// Seconds since 1970-01-01T00:00 on the local clock (only meaningful for normalised values).
    var localSeconds: Int {
        CivilDate.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60
    }

    /// `HH:MM`.
    var clockText: String { CronFormat.clock(hour: hour, minute: minute) }

    /// `YYYY-MM-DD`.
    var dateText: String {
        let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(pad(month))-\(pad(day))"
    }

    static func < (lhs: CronWallTime, rhs: CronWallTime) -> Bool {
        (lhs.year, lhs.month, lhs.day, lhs.hour, lhs.minute) < (rhs.year, rhs.month, rhs.day, rhs.hour, rhs.minute)
    }
}

/// How a local wall-clock time maps onto instants in a time zone.
enum CronLocalInstant: Equatable {
    /// The local time occurs exactly once.
    case unique(Int)
    /// The local time occurs twice (the clocks went back); the instants are in order.
    case repeated(Int, Int)
    /// The local time does not exist (the clocks jumped forward over it); `transition` is the instant of the jump,
    /// the first instant after the gap.
    case skipped(transition: Int)
}

/// A time zone seen as a function from instants (whole seconds since 1970) to UTC offsets.
struct CronZone {
    let timeZone: TimeZone

    func offset(at instant: Int) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The wall time of an instant, floored to the minute.
    func wallTime(at instant: Int) -> CronWallTime {
        CronWallTime(localSeconds: instant + offset(at: instant))
    }

    /// The instant or instants at which the local clock shows `local` (seconds since 1970-01-01 on that clock).
    func instants(atLocal local: Int) -> CronLocalInstant {
        let before = offset(at: local - 86_400)
        let after = offset(at: local + 86_400)
        if before == after, offset(at: local - before) == before { return .unique(local - before) }
        var candidates = [before, after]
        for extra in [offset(at: local - before), offset(at: local - after)] where !candidates.contains(extra) {
            candidates.append(extra)
        }
        var valid: [Int] = []
        for candidate in candidates where offset(at: local - candidate) == candidate {
            if !valid.contains(local - candidate) { valid.append(local - candidate) }
        }
        valid.sort()
        if let first = valid.first, let last = valid.last {
            return first == last ? .unique(first) : .repeated(first, last)
        }
        // A gap: the jump lies in (local - largest offset, local - smallest offset].
        var low = local - (candidates.max() ?? 0)
        var high = local - (candidates.min() ?? 0)
        let baseline = offset(at: low)
        guard offset(at: high) != baseline else { return .skipped(transition: high) }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(at: middle) == baseline { low = middle } else { high = middle }
        }
        return .skipped(transition: high)
    }
}

/// Small text helpers shared by the lint.
enum CronFormat {
    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func clock(hour: Int, minute: Int) -> String { "\(twoDigits(hour)):\(twoDigits(minute))" }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String], conjunction: String = "and") -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items[items.count - 1]
        }
    }

    /// "1st", "2nd", "3rd", "4th", "11th", "21st".
    static func ordinal(_ value: Int) -> String {
        let suffix: String
        switch (value % 10, value % 100) {
        case (1, let tens) where tens != 11: suffix = "st"
        case (2, let tens) where tens != 12: suffix = "nd"
        case (3, let tens) where tens != 13: suffix = "rd"
        default: suffix = "th"
        }
        return "\(value)\(suffix)"
    }

    /// Values as short text: runs of three or more become `a–b`, and a long arithmetic progression becomes
    /// `a, b, c, …, z`.
    static func values(_ values: [Int], render: (Int) -> String = { String($0) }) -> String {
        guard values.count > 1 else { return values.first.map(render) ?? "" }
        let step = values[1] - values[0]
        let isProgression = zip(values, values.dropFirst()).allSatisfy { $1 - $0 == step }
        if isProgression, step > 1, values.count >= 5 {
            return values.prefix(3).map(render).joined(separator: ", ") + ", …, " + render(values[values.count - 1])
        }
        var parts: [String] = []
        var index = 0
        while index < values.count {
            var end = index
            while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
            if end - index >= 2 {
                parts.append("\(render(values[index]))–\(render(values[end]))")
                index = end + 1
            } else {
                parts.append(render(values[index]))
                index += 1
            }
        }
        return list(parts)
    }

    /// A duration in compact units: "50 min", "7 h", "1 d", "1 h 30 min", "2 d 3 h".
    static func duration(minutes: Int) -> String {
        let days = minutes / 1440
        let hours = minutes % 1440 / 60
        let mins = minutes % 60
        var parts: [String] = []
        if days > 0 { parts.append("\(days) d") }
        if hours > 0 { parts.append("\(hours) h") }
        if mins > 0 || parts.isEmpty { parts.append("\(mins) min") }
        return parts.joined(separator: " ")
    }
}
