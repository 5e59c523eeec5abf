public import Foundation

/// Expiry and roll rules for CME equity-index futures, and the front-month contract at any instant.
///
/// - Expiry (last trade): 09:30 America/New_York on the third Friday of the contract month.
/// - Roll date: ``rollDaysBeforeExpiry`` calendar days before the expiry date (default 8, the Thursday of the week
///   before expiry — CME's customary roll date).
/// - Roll instant: the start of the roll date's trading day, i.e. 18:00 New York on the evening before the roll date.
///   Every bar of one Globex session therefore belongs to one contract, and the switch happens while the market is
///   closed for the daily halt, so a roll never leaves a gap.
public struct ContractCalendar: Sendable, Hashable {
    /// Calendar days between the roll date and the expiry date.
    public let rollDaysBeforeExpiry: Int
    /// The exchange time zone (America/New_York).
    public let timeZone: TimeZone

    /// Creates a contract calendar.
    ///
    /// - Throws: ``ContractError`` when the offset is outside 0…60 days.
    public init(rollDaysBeforeExpiry: Int = 8) throws(ContractError) {
        guard (0...60).contains(rollDaysBeforeExpiry) else {
            throw ContractError(
                .invalidRollOffset, "roll offset of \(rollDaysBeforeExpiry) days must be within 0…60")
        }
        self.rollDaysBeforeExpiry = rollDaysBeforeExpiry
        self.timeZone = TimeZone(identifier: "America/New_York")!
    }

    /// The default calendar: roll 8 days before expiry.
    public static let standard = try! ContractCalendar()

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The expiry date (third Friday of the contract month) as a New York calendar day.
    public func expiryDay(of contract: Contract) -> DateComponents {
        // Day of week of the 1st: weekday 1 = Sunday … 6 = Friday.
        let first = calendar.date(
            from: DateComponents(year: contract.year, month: contract.month.number, day: 1, hour: 12))!
        let weekday = calendar.component(.weekday, from: first)
        let firstFriday = 1 + (6 - weekday + 7) % 7
        return DateComponents(year: contract.year, month: contract.month.number, day: firstFriday + 14)
    }

    /// The last-trade instant: 09:30 New York on the expiry day.
    public func lastTrade(of contract: Contract) -> Date {
        var day = expiryDay(of: contract)
        day.hour = 9
        day.minute = 30
        return calendar.date(from: day)!
    }

    /// The roll date as a New York calendar day (``rollDaysBeforeExpiry`` days before expiry).
    public func rollDay(of contract: Contract) -> DateComponents {
        var noon = expiryDay(of: contract)
        noon.hour = 12
        let expiryNoon = calendar.date(from: noon)!
        let roll = calendar.date(byAdding: .day, value: -rollDaysBeforeExpiry, to: expiryNoon)!
        return calendar.dateComponents([.year, .month, .day], from: roll)
    }

    /// The instant from which the *next* contract is the front month: 18:00 New York on the day before the roll date.
    public func rollInstant(of contract: Contract) -> Date {
        var day = rollDay(of: contract)
        day.hour = 12
        let rollNoon = calendar.date(from: day)!
        let eve = calendar.date(byAdding: .day, value: -1, to: rollNoon)!
        var components = calendar.dateComponents([.year, .month, .day], from: eve)
        components.hour = 18
        return calendar.date(from: components)!
    }

    /// The contract that is front month for `instrument` at `instant`: the first listed contract whose roll instant is
    /// still ahead.
    public func frontMonth(_ instrument: Instrument, at instant: Date) -> Contract {
        let year = calendar.component(.year, from: instant)
        for candidateYear in (year - 1)...(year + 2) {
            for month in instrument.contractMonths {
                let contract = Contract(root: instrument.root, month: month, year: candidateYear)
                if rollInstant(of: contract) > instant { return contract }
            }
        }
        // Unreachable for any listed month set: one contract a year at least rolls after `instant`.
        preconditionFailure("no front month found for \(instrument.root) at \(instant)")
    }

    /// The contract listed after `contract` for `instrument` (the next month in its cycle).
    public func nextContract(after contract: Contract, for instrument: Instrument) -> Contract {
        if let month = instrument.contractMonths.first(where: { $0 > contract.month }) {
            return Contract(root: contract.root, month: month, year: contract.year)
        }
        return Contract(root: contract.root, month: instrument.contractMonths[0], year: contract.year + 1)
    }

    /// The front-month periods covering `[from, to)`: each contract with the part of the interval where it is front.
    public func frontMonths(_ instrument: Instrument, from: Date, to: Date) -> [(
        contract: Contract, interval: DateInterval
    )] {
        guard from < to else { return [] }
        var result: [(Contract, DateInterval)] = []
        var start = from
        var contract = frontMonth(instrument, at: from)
        while start < to {
            let end = min(rollInstant(of: contract), to)
            result.append((contract, DateInterval(start: start, end: end)))
            start = end
            contract = nextContract(after: contract, for: instrument)
        }
        return result
    }
}
