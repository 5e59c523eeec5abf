/// A cron expression that ``CronSchedule`` cannot accept, with the field, position and a plain-words reason.
///
/// `description` reads like `minute field '75': value 75 is out of range 0–59`. Errors about the expression as a
/// whole (a wrong number of fields, an unknown macro, pg_cron's `N seconds` form) have no ``field``.
public struct CronParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<CronParseError>

    /// The error's code.
    public let code: Code
    /// The expression as it was given to ``CronSchedule/init(_:)``.
    public let expression: String
    /// The field the problem is in, or `nil` when the problem concerns the whole expression.
    public let field: CronField?
    /// The offending field's text as written, or `nil` when the problem concerns the whole expression.
    public let fieldText: String?
    /// The zero-based character offset in ``expression`` where the offending text starts, or `nil` when the problem
    /// concerns the whole expression.
    public let position: Int?
    /// The reason in plain words, without the field prefix, for example `value 75 is out of range 0–59`.
    public let reason: String

    init(
        _ code: Code, _ reason: String, expression: String, field: CronField? = nil, fieldText: String? = nil,
        position: Int? = nil
    ) {
        self.code = code
        self.reason = reason
        self.expression = expression
        self.field = field
        self.fieldText = fieldText
        self.position = position
    }

    /// The field and the reason, for example `minute field '75': value 75 is out of range 0–59`; just the reason
    /// when no single field is at fault.
    public var description: String {
        guard let field, let fieldText else { return reason }
        return "\(field.name) field '\(fieldText)': \(reason)"
    }
}

extension CronParseError.Code {
    /// The expression does not have exactly five whitespace-separated fields (it may be empty).
    public static var wrongFieldCount: Self { Self("wrongFieldCount") }
    /// A value is neither a number nor a name the field accepts, or a list item is empty.
    public static var invalidValue: Self { Self("invalidValue") }
    /// A number lies outside the field's range (for example minute 75).
    public static var outOfRange: Self { Self("outOfRange") }
    /// A step after `/` is missing, not a whole number, zero, or follows a single value (`5/15`).
    public static var invalidStep: Self { Self("invalidStep") }
    /// A range is incomplete (`5-`), has more than two ends, uses `*` as an end, or runs backwards (`17-9`).
    public static var invalidRange: Self { Self("invalidRange") }
    /// Syntax from another cron dialect: pg_cron's `N seconds` and `$`, Quartz's `?`, `L`, `W` and `#`,
    /// or `@reboot`.
    public static var unsupportedSyntax: Self { Self("unsupportedSyntax") }
    /// An `@` macro other than `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`.
    public static var unknownMacro: Self { Self("unknownMacro") }
}
