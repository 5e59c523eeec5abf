/// One comma-separated item of a field: `*`, `5`, `1-5`, `*/15` or `10-50/20`, with its bounds resolved.
struct CronItem: Sendable, Hashable {
    /// The item's text, upper-cased.
    let text: String
    /// The first value of the item.
    let low: Int
    /// The last value the item may reach (the range end, before stepping).
    let high: Int
    /// The step, 1 when none was written.
    let step: Int
    /// Whether the item is `*` or `*/n`.
    let isStar: Bool
    /// Whether a `/step` was written.
    let hasStep: Bool

    /// The values the item selects, before day-of-week 7 is folded onto 0.
    var values: [Int] { Array(stride(from: low, through: high, by: step)) }
}

/// A parsed field: its text, items and the set of values it allows, as a bit set.
struct CronFieldSet: Sendable, Hashable {
    let field: CronField
    /// The field's text, upper-cased.
    let text: String
    let items: [CronItem]
    /// Bit `v` is set when value `v` matches. Day-of-week 7 is folded onto 0 (Sunday).
    let bits: UInt64
    /// Values selected by more than one item (for example 15 in `0-30,15`), ascending.
    let repeatedValues: [Int]

    init(field: CronField, text: String, items: [CronItem]) {
        self.field = field
        self.text = text
        self.items = items
        var bits: UInt64 = 0
        var repeated: UInt64 = 0
        for item in items {
            var itemBits: UInt64 = 0
            for value in item.values {
                let folded = field == .dayOfWeek ? value % 7 : value
                itemBits |= 1 << UInt64(folded)
            }
            repeated |= bits & itemBits
            bits |= itemBits
        }
        self.bits = bits
        self.repeatedValues = CronFieldSet.members(of: repeated)
    }

    /// Whether the field's text starts with `*` (`*` or `*/n`). Vixie cron and pg_cron use exactly this test to
    /// decide whether a day field counts as unrestricted in the day-of-month / day-of-week rule.
    var isStarPrefixed: Bool { text.hasPrefix("*") }

    /// Whether the field allows every value (every minute, hour, day of the month, month or weekday).
    var isEverything: Bool {
        let range = field == .dayOfWeek ? 0...6 : field.range
        let all = (UInt64.max >> UInt64(63 - range.upperBound)) & (UInt64.max << UInt64(range.lowerBound))
        return bits == all
    }

    /// The number of distinct values allowed.
    var count: Int { bits.nonzeroBitCount }

    /// The allowed values, ascending (day-of-week as 0–6).
    var values: [Int] { CronFieldSet.members(of: bits) }

    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest allowed value that is at least `value`, or `nil` if there is none.
    func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let masked = bits & (UInt64.max << UInt64(max(value, 0)))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    static func members(of bits: UInt64) -> [Int] {
        (0..<64).filter { bits & (1 << UInt64($0)) != 0 }
    }
}
