/// Parses the pg_cron / Vixie cron dialect into five ``CronFieldSet`` values.
enum CronParser {
    /// The supported macros and the five-field expressions they stand for (as in Vixie cron's `entry.c`).
    static let macros: [String: String] = [
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    ]

    /// The parsed expression: the normalised text and the five fields in order.
    struct Result {
        let normalised: String
        let fields: [CronFieldSet]
    }

    private struct Token {
        let text: String
        let offset: Int
    }

    static func parse(_ expression: String) throws(CronParseError) -> Result {
        let tokens = tokenize(expression)
        guard let first = tokens.first else {
            throw CronParseError(
                .wrongFieldCount,
                "the expression is empty; expected 5 fields (minute hour day-of-month month day-of-week)",
                expression: expression)
        }
        if let interval = intervalForm(tokens) {
            throw CronParseError(.unsupportedSyntax, interval, expression: expression)
        }
        if first.text.hasPrefix("@") {
            return try parseMacro(tokens, expression: expression)
        }
        guard tokens.count == 5 else {
            var reason =
                "expected 5 fields (minute hour day-of-month month day-of-week) but found \(tokens.count) in "
                + "'\(expression)'"
            if tokens.count == 6 || tokens.count == 7 {
                reason +=
                    "; 6- and 7-field expressions with seconds or years (Quartz, Spring) are not cron syntax"
                    + " that pg_cron or Vixie cron accept"
            }
            throw CronParseError(.wrongFieldCount, reason, expression: expression)
        }
        var fields: [CronFieldSet] = []
        for (token, field) in zip(tokens, CronField.allCases) {
            fields.append(try parseField(token, field, expression: expression))
        }
        return Result(normalised: fields.map(\.text).joined(separator: " "), fields: fields)
    }

    // MARK: - Whole-expression forms

    private static func tokenize(_ expression: String) -> [Token] {
        var tokens: [Token] = []
        var current = ""
        var start = 0
        for (offset, character) in expression.enumerated() {
            if character.isWhitespace {
                if !current.isEmpty { tokens.append(Token(text: current, offset: start)) }
                current = ""
            } else {
                if current.isEmpty { start = offset }
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(Token(text: current, offset: start)) }
        return tokens
    }

    /// A reason when the text is an interval such as pg_cron's `30 seconds` rather than a cron expression.
    private static func intervalForm(_ tokens: [Token]) -> String? {
        let joined = tokens.map(\.text).joined().lowercased()
        let digits = joined.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, tokens.count <= 2 else { return nil }
        let unit = joined.dropFirst(digits.count)
        let original = tokens.map(\.text).joined(separator: " ")
        if ["s", "sec", "secs", "second", "seconds"].contains(unit) {
            return "'\(original)' is pg_cron's interval syntax ('N seconds'), which only pg_cron understands; "
                + "CronSchedule supports standard 5-field cron expressions, whose finest step is one minute"
        }
        if ["m", "min", "mins", "minute", "minutes", "h", "hour", "hours"].contains(unit) {
            return "'\(original)' is an interval, not a cron expression; write it as a 5-field cron expression "
                + "(for example '*/5 * * * *' for every 5 minutes)"
        }
        return nil
    }

    private static func parseMacro(_ tokens: [Token], expression: String) throws(CronParseError) -> Result {
        let name = tokens[0].text.lowercased()
        if name == "@reboot" || name == "@restart" {
            throw CronParseError(
                .unsupportedSyntax,
                "'\(tokens[0].text)' runs a job once when cron starts; it is not a time schedule and has no firing "
                    + "times", expression: expression, position: tokens[0].offset)
        }
        guard let fields = macros[name] else {
            throw CronParseError(
                .unknownMacro,
                "unknown macro '\(tokens[0].text)'; the supported macros are @hourly, @daily, @midnight, @weekly, "
                    + "@monthly, @yearly and @annually", expression: expression, position: tokens[0].offset)
        }
        guard tokens.count == 1 else {
            throw CronParseError(
                .wrongFieldCount,
                "the macro '\(tokens[0].text)' stands alone and cannot be followed by fields",
                expression: expression, position: tokens[1].offset)
        }
        let expanded = try parse(fields)
        return Result(normalised: name, fields: expanded.fields)
    }

    // MARK: - Fields

    private static func parseField(
        _ token: Token, _ field: CronField, expression: String
    ) throws(CronParseError) -> CronFieldSet {
        func fail(_ code: CronParseError.Code, _ reason: String, at offset: Int) -> CronParseError {
            CronParseError(
                code, reason, expression: expression, field: field, fieldText: token.text,
                position: token.offset + offset)
        }
        let characters = Array(token.text)
        if let offset = characters.firstIndex(of: "?") {
            throw fail(
                .unsupportedSyntax,
                "'?' (no specific value) is Quartz/Spring syntax that Vixie cron and pg_cron do not accept; use '*'",
                at: offset)
        }
        if let offset = characters.firstIndex(of: "#") {
            throw fail(
                .unsupportedSyntax,
                "'#' (the nth weekday of the month, such as MON#2) is Quartz syntax that Vixie cron and pg_cron do "
                    + "not accept", at: offset)
        }
        if let offset = characters.firstIndex(of: "$") {
            throw fail(
                .unsupportedSyntax,
                field == .dayOfMonth
                    ? "'$' (last day of the month) is a pg_cron-only extension that CronSchedule does not support"
                    : "'$' is not cron syntax (pg_cron accepts it only as the whole day-of-month field)",
                at: offset)
        }
        var items: [CronItem] = []
        var itemOffset = 0
        for piece in token.text.split(separator: ",", omittingEmptySubsequences: false) {
            let text = String(piece)
            do throws(ItemFailure) {
                items.append(try parseItem(text, field))
            } catch let failure {
                throw fail(failure.code, failure.reason, at: itemOffset)
            }
            itemOffset += text.count + 1
        }
        return CronFieldSet(field: field, text: token.text.uppercased(), items: items)
    }

    /// A problem inside one item, before the field context is attached.
    private struct ItemFailure: Error {
        let code: CronParseError.Code
        let reason: String
        init(_ code: CronParseError.Code, _ reason: String) {
            self.code = code
            self.reason = reason
        }
    }

    private static func parseItem(_ text: String, _ field: CronField) throws(ItemFailure) -> CronItem {
        guard !text.isEmpty else {
            throw ItemFailure(.invalidValue, "empty list item (two commas in a row, or a comma at either end)")
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw ItemFailure(.invalidStep, "'\(text)' has more than one '/'")
        }
        var step: Int?
        if parts.count == 2 {
            let stepText = parts[1]
            guard !stepText.isEmpty else {
                throw ItemFailure(.invalidStep, "the step after '/' in '\(text)' is missing")
            }
            guard stepText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(stepText) else {
                throw ItemFailure(.invalidStep, "step '\(stepText)' is not a whole number")
            }
            guard value >= 1 else {
                throw ItemFailure(.invalidStep, "step 0 is not allowed; a step must be 1 or more")
            }
            step = value
        }
        let base = parts[0]
        if base == "*" {
            return CronItem(
                text: text.uppercased(), low: field.range.lowerBound, high: field.range.upperBound,
                step: step ?? 1, isStar: true, hasStep: step != nil)
        }
        if base.isEmpty {
            throw ItemFailure(.invalidStep, "a step needs '*' or a range before the '/', as in '*/\(parts[1])'")
        }
        if base.contains("-") {
            let ends = base.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard ends.count == 2 else {
                throw ItemFailure(.invalidRange, "'\(base)' is not a range; a range is START-END, such as 1-5")
            }
            guard !ends[0].isEmpty else {
                throw ItemFailure(.invalidRange, "range '\(base)' is missing its start (negative values do not exist)")
            }
            guard !ends[1].isEmpty else {
                throw ItemFailure(.invalidRange, "range '\(base)' is missing its end")
            }
            guard ends[0] != "*", ends[1] != "*" else {
                throw ItemFailure(.invalidRange, "'*' cannot be one end of a range in '\(base)'")
            }
            let low = try value(ends[0], field)
            let high = try value(ends[1], field)
            guard low <= high else {
                throw ItemFailure(
                    .invalidRange,
                    backwardsRangeReason(ends[0].uppercased(), ends[1].uppercased(), low, high, field))
            }
            return CronItem(
                text: text.uppercased(), low: low, high: high, step: step ?? 1, isStar: false, hasStep: step != nil)
        }
        let single = try value(base, field)
        if let step {
            let last = field.range.upperBound
            throw ItemFailure(
                .invalidStep,
                "a step needs '*' or a range before it: '\(text)' is not accepted by Vixie cron or pg_cron; write "
                    + "'\(base)-\(last)/\(step)' to step by \(step) starting at \(base)")
        }
        return CronItem(text: text.uppercased(), low: single, high: single, step: 1, isStar: false, hasStep: false)
    }

    private static func backwardsRangeReason(
        _ lowText: String, _ highText: String, _ low: Int, _ high: Int, _ field: CronField
    ) -> String {
        if field == .dayOfWeek, high == 0 {
            return "range \(lowText)-\(highText) runs backwards because \(highText) is day 0; write "
                + "'\(lowText)-SAT,SUN' or '\(low)-7'"
        }
        let usesNames = field.names != nil && !(lowText.first?.isNumber ?? true)
        let top = field == .dayOfWeek ? 6 : field.range.upperBound
        let bottom = field.range.lowerBound
        let topText = usesNames ? field.names![field == .month ? top - 1 : top] : String(top)
        let bottomText = usesNames ? field.names![field == .month ? bottom - 1 : bottom] : String(bottom)
        return "range \(lowText)-\(highText) runs backwards (\(low) is after \(high)); ranges do not wrap around, so "
            + "write '\(lowText)-\(topText),\(bottomText)-\(highText)'"
    }

    private static func value(_ text: String, _ field: CronField) throws(ItemFailure) -> Int {
        let range = field.range
        let rangeText = "\(range.lowerBound)–\(range.upperBound)"
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let number = Int(text), range.contains(number) else {
                throw ItemFailure(.outOfRange, "value \(text) is out of range \(rangeText)")
            }
            return number
        }
        let upper = text.uppercased()
        if let named = field.value(ofName: upper) { return named }
        if field == .dayOfMonth || field == .dayOfWeek, isQuartzLastOrWeekday(upper) {
            throw ItemFailure(
                .unsupportedSyntax,
                "'\(text)' uses Quartz's 'L' (last) or 'W' (nearest weekday), which Vixie cron and pg_cron do not "
                    + "accept")
        }
        let prefix = String(upper.prefix(3))
        if let names = field.names {
            let kind = field == .month ? "a month name (JAN–DEC)" : "a day name (SUN–SAT)"
            if text.count > 3, names.contains(prefix) {
                throw ItemFailure(
                    .invalidValue, "'\(text)' is not a number or \(kind); use the three-letter name '\(prefix)'")
            }
            throw ItemFailure(.invalidValue, "'\(text)' is not a number or \(kind)")
        }
        if CronNames.months.contains(prefix) || CronNames.weekdays.contains(prefix) {
            throw ItemFailure(
                .invalidValue,
                "'\(text)' is a name, and names are only allowed in the month and day-of-week fields")
        }
        throw ItemFailure(.invalidValue, "'\(text)' is not a number in \(rangeText)")
    }

    private static func isQuartzLastOrWeekday(_ text: String) -> Bool {
        if text == "L" || text == "LW" { return true }
        guard let last = text.last, last == "L" || last == "W" else { return false }
        let head = text.dropLast()
        return !head.isEmpty && head.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
