/// One observation from ``CronSchedule/lint(in:)``: how serious it is, a stable code and a plain-English message.
public struct CronLintFinding: Sendable, Hashable, CustomStringConvertible {
    /// How much a finding matters. Ordered: ``info`` < ``warning`` < ``error``.
    public struct Severity: Sendable, Hashable, Comparable, CustomStringConvertible {
        private enum Value: Int, Sendable, Hashable { case info, warning, error }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Worth knowing; the schedule does what it says.
        public static let info = Severity(.info)
        /// The schedule probably does not do what its author meant.
        public static let warning = Severity(.warning)
        /// The schedule is broken: it never fires.
        public static let error = Severity(.error)

        /// Orders by seriousness.
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.value.rawValue < rhs.value.rawValue }

        /// `info`, `warning` or `error`.
        public var description: String {
            switch value {
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }
    }

    /// What a finding is about, as a stable code.
    public typealias Code = StableCode<CronLintFinding>

    /// How serious the finding is.
    public let severity: Severity
    /// What the finding is about.
    public let code: Code
    /// The field the finding is about, or `nil` when it concerns the whole schedule.
    public let field: CronField?
    /// The explanation in plain English.
    public let message: String

    /// Creates a finding.
    public init(severity: Severity, code: Code, field: CronField? = nil, message: String) {
        self.severity = severity
        self.code = code
        self.field = field
        self.message = message
    }

    /// `severity: message`, for example `warning: minute field '*/50' fires at minute 0 and 50 …`.
    public var description: String { "\(severity): \(message)" }
}

extension CronLintFinding.Code {
    /// A `*/n` step that does not divide its field's cycle, so the gap at the wrap-around is shorter
    /// (`*/50` minutes fires at 0 and 50: gaps 50 and 10 minutes).
    public static var unevenStep: Self { Self("unevenStep") }
    /// A step larger than the range it steps through, so only the first value matches (`*/90` minutes).
    public static var stepLargerThanRange: Self { Self("stepLargerThanRange") }
    /// Both day fields are restricted, so a day matches if EITHER matches (`0 0 1 * MON`: the 1st and Mondays).
    public static var eitherDayField: Self { Self("eitherDayField") }
    /// A day field such as `*/2` starts with `*`, so a day must match BOTH fields, unlike `1-31/2`.
    public static var bothDayFields: Self { Self("bothDayFields") }
    /// pg_cron reads the hours and days in UTC, not exchange (New York) time.
    public static var evaluatedInUTC: Self { Self("evaluatedInUTC") }
    /// A daylight-saving change in the chosen time zone skips or repeats a run.
    public static var daylightSaving: Self { Self("daylightSaving") }
    /// Day-of-month 29–31 that some of the schedule's months do not have; those months get no run from it.
    public static var missingDays: Self { Self("missingDays") }
    /// The schedule can never fire (`0 0 30 2 *`).
    public static var neverFires: Self { Self("neverFires") }
    /// Day-of-week 7 used for Sunday: fine in Vixie cron and pg_cron, not everywhere.
    public static var sundayAsSeven: Self { Self("sundayAsSeven") }
    /// A value listed more than once (overlapping ranges, duplicates, or 0 and 7 for Sunday).
    public static var repeatedValues: Self { Self("repeatedValues") }
    /// Minute `*` with a restricted hour: every minute of the hour, not once.
    public static var everyMinuteOfHour: Self { Self("everyMinuteOfHour") }
    /// The summary of the real firing pattern: runs per hour, day, week or year, and the gaps between runs.
    public static var firingPattern: Self { Self("firingPattern") }
}
