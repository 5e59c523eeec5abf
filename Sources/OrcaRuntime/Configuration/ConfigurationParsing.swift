internal import Foundation

/// Value parsers for configuration text. Each throws a ``ConfigurationError`` naming the key, the value (never a
/// secret one), where it was set and how to fix it.
struct ConfigurationParser {
    let key: OrcaConfiguration.Key
    let raw: RawValue<String>

    init(_ key: OrcaConfiguration.Key, _ raw: RawValue<String>) {
        self.key = key
        self.raw = raw
    }

    var text: String { raw.value }

    /// `'value'`, or `the value` for secrets.
    var shown: String { key.isSecret ? "the value" : "'\(raw.value)'" }

    func error(_ code: ConfigurationError.Code, _ message: String) -> ConfigurationError {
        ConfigurationError(code, key: key.name, "\(message) (\(raw.source.phrase))")
    }

    func bool() throws(ConfigurationError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(.invalidValue, "\(shown) is not a boolean; use true or false")
        }
    }

    func integer(in range: ClosedRange<Int>, what: String = "a whole number") throws(ConfigurationError) -> Int {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error(.invalidValue, "\(shown) is not \(what); use a whole number like \(range.lowerBound)")
        }
        guard range.contains(value) else {
            throw error(.outOfRange, "\(value) is out of range; use \(describe(range))")
        }
        return value
    }

    func port() throws(ConfigurationError) -> Int {
        guard let value = Int(text) else {
            throw error(.invalidValue, "\(shown) is not a port number; use 1...65535, or 0 for an ephemeral port")
        }
        guard (0...65_535).contains(value) else {
            throw error(.outOfRange, "port \(value) is out of range; use 1...65535, or 0 for an ephemeral port")
        }
        return value
    }

    func double(positive: Bool) throws(ConfigurationError) -> Double {
        guard let value = Double(text), value.isFinite else {
            throw error(.invalidValue, "\(shown) is not a number; use a decimal number like 1 or 60")
        }
        guard !positive || value > 0 else {
            throw error(.outOfRange, "\(shown) must be greater than zero")
        }
        return value
    }

    func unsigned64() throws(ConfigurationError) -> UInt64 {
        guard let value = UInt64(text) else {
            throw error(.invalidValue, "\(shown) is not a non-negative whole number; use a seed like 42")
        }
        return value
    }

    /// One of `choices` (case-insensitive; `-` and `_` ignored).
    func choice<Choice>(_ choices: [(String, Choice)]) throws(ConfigurationError) -> Choice {
        func normalized(_ text: String) -> String {
            text.lowercased().filter { $0 != "-" && $0 != "_" }
        }
        let wanted = normalized(text)
        guard let match = choices.first(where: { normalized($0.0) == wanted }) else {
            throw error(
                .invalidValue, "\(shown) is not valid; use one of \(choices.map(\.0).joined(separator: ", "))")
        }
        return match.1
    }

    /// A duration: `90s`, `5m`, `3d`, `1h30m`, `250ms` or plain seconds (`90`, `1.5`).
    func duration(allowZero: Bool = false) throws(ConfigurationError) -> Duration {
        guard let value = DurationText.parse(text) else {
            throw error(
                .invalidValue,
                "\(shown) is not a duration; write it like 90s, 5m, 1h30m, 3d or a number of seconds")
        }
        guard value > .zero || (allowZero && value == .zero) else {
            throw error(
                .outOfRange, "\(shown) must be \(allowZero ? "zero or more" : "greater than zero"); use e.g. 90s or 5m")
        }
        return value
    }

    /// A byte count: `1073741824`, `512MiB`, `1GiB`, `100MB`, `64KiB`.
    func bytes() throws(ConfigurationError) -> Int {
        guard let value = ByteCountText.parse(text) else {
            throw error(.invalidValue, "\(shown) is not a size; write bytes like 1073741824, or 512MiB, 1GiB, 100MB")
        }
        guard value > 0 else {
            throw error(.outOfRange, "\(shown) must be greater than zero")
        }
        return value
    }

    /// An ISO-8601 instant such as `2025-01-06T14:30:00Z`.
    func instant() throws(ConfigurationError) -> Date {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        throw error(.invalidValue, "\(shown) is not an ISO-8601 instant; write it like 2025-01-06T14:30:00Z")
    }

    /// A file system path; a leading `~/` is replaced by `home`.
    func path(home: String?) -> String {
        expandingHome(text, home: home)
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "\(range.lowerBound) or more" : "\(range.lowerBound)...\(range.upperBound)"
    }
}

/// `~/x` → `<home>/x`; other paths unchanged.
func expandingHome(_ path: String, home: String?) -> String {
    guard path == "~" || path.hasPrefix("~/"), let home, !home.isEmpty else { return path }
    return home + path.dropFirst()
}

extension DurationText {
    /// Parses `90s`, `5m`, `3d`, `1h30m`, `250ms`, `2 hours`, or plain seconds (`90`, `1.5`); `nil` when malformed.
    /// A leading `-` gives a negative duration (rejected later with a clearer message).
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        var negative = false
        if rest.hasPrefix("-") {
            negative = true
            rest = rest.dropFirst()
        }
        if let seconds = Double(rest), seconds.isFinite {
            let value = Duration.milliseconds(Int64((seconds * 1000).rounded()))
            return negative ? .zero - value : value
        }
        var total = Duration.zero
        var sawPart = false
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count).drop { $0 == " " }
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count).drop { $0 == " " }
            let seconds: Double
            switch unit {
            case "ms", "msec", "millisecond", "milliseconds": seconds = 0.001
            case "s", "sec", "secs", "second", "seconds": seconds = 1
            case "m", "min", "mins", "minute", "minutes": seconds = 60
            case "h", "hr", "hrs", "hour", "hours": seconds = 3_600
            case "d", "day", "days": seconds = 86_400
            default: return nil
            }
            total += .milliseconds(Int64((amount * seconds * 1000).rounded()))
            sawPart = true
        }
        guard sawPart else { return nil }
        return negative ? .zero - total : total
    }
}

/// Reads byte counts with decimal (`KB`, `MB`, `GB`) and binary (`KiB`, `MiB`, `GiB`) suffixes.
enum ByteCountText {
    static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber || $0 == "_" }
        guard !digits.isEmpty, let number = Int(digits.replacingOccurrences(of: "_", with: "")) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multiplier: Int
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb": multiplier = 1_000
        case "kib": multiplier = 1 << 10
        case "m", "mb": multiplier = 1_000_000
        case "mib": multiplier = 1 << 20
        case "g", "gb": multiplier = 1_000_000_000
        case "gib": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
