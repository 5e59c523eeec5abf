/// One of the five fields of a cron expression, in the order they are written:
/// `minute hour day-of-month month day-of-week`.
public enum CronField: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Minute of the hour, 0–59 (field 1).
    case minute = 1
    /// Hour of the day, 0–23 (field 2).
    case hour
    /// Day of the month, 1–31 (field 3).
    case dayOfMonth
    /// Month of the year, 1–12 or `JAN`–`DEC` (field 4).
    case month
    /// Day of the week, 0–7 or `SUN`–`SAT`; both 0 and 7 mean Sunday, as in Vixie cron (field 5).
    case dayOfWeek

    /// The field's 1-based position in the expression (minute is 1, day-of-week is 5).
    public var position: Int { rawValue }

    /// The field's name as used in messages: `minute`, `hour`, `day-of-month`, `month` or `day-of-week`.
    public var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    /// The numbers the field accepts. Day-of-week accepts 0–7, where 7 is a second spelling of Sunday.
    public var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// The field's name; see ``name``.
    public var description: String { name }

    /// The three-letter names the field accepts, upper-cased: `JAN`…`DEC` (values 1–12) or `SUN`…`SAT` (values 0–6).
    var names: [String]? {
        switch self {
        case .month: CronNames.months
        case .dayOfWeek: CronNames.weekdays
        default: nil
        }
    }

    /// The value a name stands for in this field, if the field accepts names.
    func value(ofName name: String) -> Int? {
        guard let names, let index = names.firstIndex(of: name) else { return nil }
        return self == .month ? index + 1 : index
    }

    /// The unit one step of the field moves, singular ("minute", "hour", "day", "month").
    var unit: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth, .dayOfWeek: "day"
        case .month: "month"
        }
    }
}

/// Month and weekday spellings shared by the parser and the lint.
enum CronNames {
    static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdays = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    static let weekdayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// The full English name of month `month` (1–12).
    static func monthName(_ month: Int) -> String { monthNames[month - 1] }

    /// The full English name of weekday `weekday` (0–6, Sunday is 0; 7 is also Sunday).
    static func weekdayName(_ weekday: Int) -> String { weekdayNames[weekday % 7] }
}
