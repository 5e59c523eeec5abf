import CandleCore
import Foundation
import Testing

@Suite("CronSchedule parsing")
struct CronParseTests {
    // MARK: - Syntax elements

    @Test func starMatchesEveryValueOfEachField() throws {
        let schedule = try CronSchedule("* * * * *")
        #expect(schedule.minutes == Array(0...59))
        #expect(schedule.hours == Array(0...23))
        #expect(schedule.daysOfMonth == Array(1...31))
        #expect(schedule.months == Array(1...12))
        #expect(schedule.daysOfWeek == Array(0...6))
        #expect(schedule.description == "* * * * *")
    }

    @Test func singleValuesListsAndRanges() throws {
        let schedule = try CronSchedule("1,5,7 1-5 10 6 3")
        #expect(schedule.minutes == [1, 5, 7])
        #expect(schedule.hours == [1, 2, 3, 4, 5])
        #expect(schedule.daysOfMonth == [10])
        #expect(schedule.months == [6])
        #expect(schedule.daysOfWeek == [3])
    }

    @Test func stepsOverStarAndOverRanges() throws {
        #expect(try CronSchedule("*/15 * * * *").minutes == [0, 15, 30, 45])
        #expect(try CronSchedule("10-50/20 * * * *").minutes == [10, 30, 50])
        #expect(try CronSchedule("0 */7 * * *").hours == [0, 7, 14, 21])
        #expect(try CronSchedule("0 0 */10 * *").daysOfMonth == [1, 11, 21, 31])
        #expect(try CronSchedule("0 0 1 */5 *").months == [1, 6, 11])
        #expect(try CronSchedule("*/1 * * * *").minutes == Array(0...59))
        #expect(try CronSchedule("0-59/30,5 * * * *").minutes == [0, 5, 30])
    }

    @Test func monthNamesAreCaseInsensitive() throws {
        #expect(try CronSchedule("0 0 1 JAN,jul *").months == [1, 7])
        #expect(try CronSchedule("0 0 1 jan-Mar *").months == [1, 2, 3])
        #expect(try CronSchedule("0 0 1 Dec *").months == [12])
        #expect(try CronSchedule("0 0 1 feb-dec/2 *").months == [2, 4, 6, 8, 10, 12])
    }

    @Test func dayNamesAreCaseInsensitive() throws {
        #expect(try CronSchedule("0 9 * * mon-fri").daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronSchedule("0 9 * * Sun").daysOfWeek == [0])
        #expect(try CronSchedule("0 9 * * SAT,sun").daysOfWeek == [0, 6])
        #expect(try CronSchedule("0 9 * * tue,THU").daysOfWeek == [2, 4])
    }

    @Test func dayOfWeekSevenIsSunday() throws {
        #expect(try CronSchedule("0 0 * * 7").daysOfWeek == [0])
        #expect(try CronSchedule("0 0 * * 5-7").daysOfWeek == [0, 5, 6])
        #expect(try CronSchedule("0 0 * * 0-7").daysOfWeek == Array(0...6))
        // Vixie expands '*' in day-of-week to 0-7, so */2 is 0,2,4,6 and */7 is 0,7 (Sunday only).
        #expect(try CronSchedule("0 0 * * */2").daysOfWeek == [0, 2, 4, 6])
        #expect(try CronSchedule("0 0 * * */7").daysOfWeek == [0])
    }

    @Test(arguments: [
        ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"),
    ])
    func macrosExpandToTheirFiveFieldForm(macro: String, fields: String) throws {
        let schedule = try CronSchedule(macro)
        let expanded = try CronSchedule(fields)
        #expect(schedule.description == macro)
        #expect(CronField.allCases.map { schedule.text(of: $0) } == fields.split(separator: " ").map(String.init))
        #expect(schedule.minutes == expanded.minutes)
        #expect(schedule.hours == expanded.hours)
        #expect(schedule.daysOfMonth == expanded.daysOfMonth)
        #expect(schedule.months == expanded.months)
        #expect(schedule.daysOfWeek == expanded.daysOfWeek)
    }

    @Test func macrosAreCaseInsensitiveAndNormalisedToLowerCase() throws {
        #expect(try CronSchedule("  @HOURLY ").description == "@hourly")
    }

    @Test func descriptionIsTheNormalisedExpression() throws {
        #expect(try CronSchedule("  */5\t*  * *   * ").description == "*/5 * * * *")
        #expect(try CronSchedule("0 9 * jan mon-fri").description == "0 9 * JAN MON-FRI")
        #expect(try CronSchedule("0 9 * jan mon-fri").expression == "0 9 * JAN MON-FRI")
    }

    @Test func equalityFollowsTheNormalisedText() throws {
        #expect(try CronSchedule("0  9 * * mon") == CronSchedule("0 9 * * MON"))
        #expect(try CronSchedule("0 9 * * 1") != CronSchedule("0 9 * * MON"))
        #expect(Set([try CronSchedule("*/5 * * * *"), try CronSchedule("*/5  * * * *")]).count == 1)
    }

    @Test func codableRoundTripsAsASingleString() throws {
        struct Job: Codable, Equatable {
            var schedule: CronSchedule
        }
        let job = Job(schedule: try CronSchedule("*/50 * * * *"))
        let data = try JSONEncoder().encode(job)
        #expect(String(decoding: data, as: UTF8.self) == #"{"schedule":"*\/50 * * * *"}"#)
        #expect(try JSONDecoder().decode(Job.self, from: data) == job)
        let bad = Data(#"{"schedule":"75 * * * *"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Job.self, from: bad) }
    }

    @Test func dayFieldRuleFollowsVixieStarPrefixTest() throws {
        #expect(try CronSchedule("0 0 1 * MON").matchesEitherDayField)
        #expect(try !CronSchedule("0 0 * * MON").matchesEitherDayField)
        #expect(try !CronSchedule("0 0 1 * *").matchesEitherDayField)
        #expect(try !CronSchedule("0 0 */2 * MON").matchesEitherDayField)
        #expect(try CronSchedule("0 0 1-31/2 * MON").matchesEitherDayField)
    }

    @Test func matchesTestsTheWallClockMinute() throws {
        let schedule = try CronSchedule("30 14 * * MON-FRI")
        #expect(schedule.matches(cronUTC("2026-01-05T14:30:59Z")))
        #expect(!schedule.matches(cronUTC("2026-01-05T14:31:00Z")))
        #expect(!schedule.matches(cronUTC("2026-01-04T14:30:00Z")))  // a Sunday
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(schedule.matches(cronUTC("2026-01-05T19:30:00Z"), in: newYork))
    }

    @Test func cronFieldMetadata() {
        #expect(CronField.allCases.map(\.name) == ["minute", "hour", "day-of-month", "month", "day-of-week"])
        #expect(CronField.allCases.map(\.position) == [1, 2, 3, 4, 5])
        #expect(CronField.dayOfWeek.range == 0...7)
        #expect(CronField.dayOfMonth.description == "day-of-month")
    }

    // MARK: - Errors

    struct ErrorCase: Sendable, CustomStringConvertible {
        let expression: String
        let code: CronParseError.Code
        let field: CronField?
        let position: Int?
        let message: String
        var description: String { expression }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            expression: "75 * * * *", code: .outOfRange, field: .minute, position: 0,
            message: "minute field '75': value 75 is out of range 0–59"),
        ErrorCase(
            expression: "0,75 * * * *", code: .outOfRange, field: .minute, position: 2,
            message: "minute field '0,75': value 75 is out of range 0–59"),
        ErrorCase(
            expression: "0 24 * * *", code: .outOfRange, field: .hour, position: 2,
            message: "hour field '24': value 24 is out of range 0–23"),
        ErrorCase(
            expression: "0 0 0 * *", code: .outOfRange, field: .dayOfMonth, position: 4,
            message: "day-of-month field '0': value 0 is out of range 1–31"),
        ErrorCase(
            expression: "0 0 * 13 *", code: .outOfRange, field: .month, position: 6,
            message: "month field '13': value 13 is out of range 1–12"),
        ErrorCase(
            expression: "0 0 * * 8", code: .outOfRange, field: .dayOfWeek, position: 8,
            message: "day-of-week field '8': value 8 is out of range 0–7"),
        ErrorCase(
            expression: "99999999999999999999 * * * *", code: .outOfRange, field: .minute, position: 0,
            message: "minute field '99999999999999999999': value 99999999999999999999 is out of range 0–59"),
        ErrorCase(
            expression: "* * * *", code: .wrongFieldCount, field: nil, position: nil,
            message: "expected 5 fields (minute hour day-of-month month day-of-week) but found 4 in '* * * *'"),
        ErrorCase(
            expression: "   ", code: .wrongFieldCount, field: nil, position: nil,
            message: "the expression is empty; expected 5 fields (minute hour day-of-month month day-of-week)"),
        ErrorCase(
            expression: "0 0 12 * * MON", code: .wrongFieldCount, field: nil, position: nil,
            message: "expected 5 fields (minute hour day-of-month month day-of-week) but found 6 in '0 0 12 * * MON'; "
                + "6- and 7-field expressions with seconds or years (Quartz, Spring) are not cron syntax that pg_cron "
                + "or Vixie cron accept"),
        ErrorCase(
            expression: "30 seconds", code: .unsupportedSyntax, field: nil, position: nil,
            message: "'30 seconds' is pg_cron's interval syntax ('N seconds'), which only pg_cron understands; "
                + "CronSchedule supports standard 5-field cron expressions, whose finest step is one minute"),
        ErrorCase(
            expression: "5 minutes", code: .unsupportedSyntax, field: nil, position: nil,
            message: "'5 minutes' is an interval, not a cron expression; write it as a 5-field cron expression (for "
                + "example '*/5 * * * *' for every 5 minutes)"),
        ErrorCase(
            expression: "0 0 ? * MON", code: .unsupportedSyntax, field: .dayOfMonth, position: 4,
            message: "day-of-month field '?': '?' (no specific value) is Quartz/Spring syntax that Vixie cron and "
                + "pg_cron do not accept; use '*'"),
        ErrorCase(
            expression: "0 0 * * MON#2", code: .unsupportedSyntax, field: .dayOfWeek, position: 11,
            message: "day-of-week field 'MON#2': '#' (the nth weekday of the month, such as MON#2) is Quartz syntax "
                + "that Vixie cron and pg_cron do not accept"),
        ErrorCase(
            expression: "0 0 L * *", code: .unsupportedSyntax, field: .dayOfMonth, position: 4,
            message: "day-of-month field 'L': 'L' uses Quartz's 'L' (last) or 'W' (nearest weekday), which Vixie "
                + "cron and pg_cron do not accept"),
        ErrorCase(
            expression: "0 0 1,15w * *", code: .unsupportedSyntax, field: .dayOfMonth, position: 6,
            message: "day-of-month field '1,15w': '15w' uses Quartz's 'L' (last) or 'W' (nearest weekday), which "
                + "Vixie cron and pg_cron do not accept"),
        ErrorCase(
            expression: "0 0 $ * *", code: .unsupportedSyntax, field: .dayOfMonth, position: 4,
            message: "day-of-month field '$': '$' (last day of the month) is a pg_cron-only extension that "
                + "CronSchedule does not support"),
        ErrorCase(
            expression: "@reboot", code: .unsupportedSyntax, field: nil, position: 0,
            message: "'@reboot' runs a job once when cron starts; it is not a time schedule and has no firing times"),
        ErrorCase(
            expression: "@every 5m", code: .unknownMacro, field: nil, position: 0,
            message: "unknown macro '@every'; the supported macros are @hourly, @daily, @midnight, @weekly, "
                + "@monthly, @yearly and @annually"),
        ErrorCase(
            expression: "@daily 0", code: .wrongFieldCount, field: nil, position: 7,
            message: "the macro '@daily' stands alone and cannot be followed by fields"),
        ErrorCase(
            expression: "*/0 * * * *", code: .invalidStep, field: .minute, position: 0,
            message: "minute field '*/0': step 0 is not allowed; a step must be 1 or more"),
        ErrorCase(
            expression: "0 */x * * *", code: .invalidStep, field: .hour, position: 2,
            message: "hour field '*/x': step 'x' is not a whole number"),
        ErrorCase(
            expression: "*/ * * * *", code: .invalidStep, field: .minute, position: 0,
            message: "minute field '*/': the step after '/' in '*/' is missing"),
        ErrorCase(
            expression: "5/15 * * * *", code: .invalidStep, field: .minute, position: 0,
            message: "minute field '5/15': a step needs '*' or a range before it: '5/15' is not accepted by Vixie "
                + "cron or pg_cron; write '5-59/15' to step by 15 starting at 5"),
        ErrorCase(
            expression: "75/15 * * * *", code: .outOfRange, field: .minute, position: 0,
            message: "minute field '75/15': value 75 is out of range 0–59"),
        ErrorCase(
            expression: "/5 * * * *", code: .invalidStep, field: .minute, position: 0,
            message: "minute field '/5': a step needs '*' or a range before the '/', as in '*/5'"),
        ErrorCase(
            expression: "1-9/2/3 * * * *", code: .invalidStep, field: .minute, position: 0,
            message: "minute field '1-9/2/3': '1-9/2/3' has more than one '/'"),
        ErrorCase(
            expression: "0 17-9 * * *", code: .invalidRange, field: .hour, position: 2,
            message: "hour field '17-9': range 17-9 runs backwards (17 is after 9); ranges do not wrap around, so "
                + "write '17-23,0-9'"),
        ErrorCase(
            expression: "0 0 * nov-feb *", code: .invalidRange, field: .month, position: 6,
            message: "month field 'nov-feb': range NOV-FEB runs backwards (11 is after 2); ranges do not wrap "
                + "around, so write 'NOV-DEC,JAN-FEB'"),
        ErrorCase(
            expression: "0 0 * * FRI-SUN", code: .invalidRange, field: .dayOfWeek, position: 8,
            message: "day-of-week field 'FRI-SUN': range FRI-SUN runs backwards because SUN is day 0; write "
                + "'FRI-SAT,SUN' or '5-7'"),
        ErrorCase(
            expression: "5- * * * *", code: .invalidRange, field: .minute, position: 0,
            message: "minute field '5-': range '5-' is missing its end"),
        ErrorCase(
            expression: "-5 * * * *", code: .invalidRange, field: .minute, position: 0,
            message: "minute field '-5': range '-5' is missing its start (negative values do not exist)"),
        ErrorCase(
            expression: "1-2-3 * * * *", code: .invalidRange, field: .minute, position: 0,
            message: "minute field '1-2-3': '1-2-3' is not a range; a range is START-END, such as 1-5"),
        ErrorCase(
            expression: "*-5 * * * *", code: .invalidRange, field: .minute, position: 0,
            message: "minute field '*-5': '*' cannot be one end of a range in '*-5'"),
        ErrorCase(
            expression: "1,,2 * * * *", code: .invalidValue, field: .minute, position: 2,
            message: "minute field '1,,2': empty list item (two commas in a row, or a comma at either end)"),
        ErrorCase(
            expression: "abc * * * *", code: .invalidValue, field: .minute, position: 0,
            message: "minute field 'abc': 'abc' is not a number in 0–59"),
        ErrorCase(
            expression: "0 0 * January *", code: .invalidValue, field: .month, position: 6,
            message: "month field 'January': 'January' is not a number or a month name (JAN–DEC); use the "
                + "three-letter name 'JAN'"),
        ErrorCase(
            expression: "0 0 * * FOO", code: .invalidValue, field: .dayOfWeek, position: 8,
            message: "day-of-week field 'FOO': 'FOO' is not a number or a day name (SUN–SAT)"),
        ErrorCase(
            expression: "MON * * * *", code: .invalidValue, field: .minute, position: 0,
            message: "minute field 'MON': 'MON' is a name, and names are only allowed in the month and day-of-week "
                + "fields"),
    ]

    @Test(arguments: errorCases)
    func rejectsWithCodeFieldPositionAndMessage(_ expected: ErrorCase) {
        do {
            let schedule = try CronSchedule(expected.expression)
            Issue.record("'\(expected.expression)' parsed as '\(schedule)'")
        } catch {
            #expect(error.code == expected.code)
            #expect(error.field == expected.field)
            #expect(error.position == expected.position)
            #expect(error.description == expected.message)
            #expect(error.expression == expected.expression)
        }
    }

    @Test func errorExposesFieldTextAndReasonSeparately() {
        #expect(throws: CronParseError.self) { try CronSchedule("0 0 * * 9") }
        do {
            _ = try CronSchedule("0 0 * * 9")
        } catch {
            #expect(error.fieldText == "9")
            #expect(error.reason == "value 9 is out of range 0–7")
            #expect(error.code.description == "outOfRange")
        }
    }

    @Test func everyErrorCodeIsCovered() {
        let codes = Set(Self.errorCases.map(\.code))
        #expect(
            codes == [
                .wrongFieldCount, .invalidValue, .outOfRange, .invalidStep, .invalidRange, .unsupportedSyntax,
                .unknownMacro,
            ])
    }
}

/// Parses an ISO-8601 UTC instant for the cron tests; traps on malformed test input.
func cronUTC(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad test instant \(text)") }
    return date
}
