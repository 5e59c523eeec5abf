import CandleCore
import Foundation
import Testing

@Suite("Contracts")
struct ContractTests {
    let calendar = ContractCalendar.standard

    @Test("month codes map both ways")
    func monthCodes() {
        #expect(String(ContractMonth.allCases.map(\.code)) == "FGHJKMNQUVXZ")
        #expect(ContractMonth(code: "z") == .december)
        #expect(ContractMonth(code: "A") == nil)
        #expect(ContractMonth.march.number == 3)
        #expect(Contract(root: "nq", month: .december, year: 2025).symbol == "NQZ5")
        #expect(Contract(root: "MES", month: .march, year: 2030).symbol == "MESH0")
    }

    @Test(
        "one-digit years resolve relative to the reference date",
        arguments: [
            ("NQZ5", "2025-06-01T00:00:00Z", 2025, ContractMonth.december),
            ("NQH6", "2025-12-15T00:00:00Z", 2026, .march),
            ("NQZ4", "2025-06-01T00:00:00Z", 2024, .december),
            ("NQH0", "2025-06-01T00:00:00Z", 2030, .march),
            ("MESH6", "2026-01-01T00:00:00Z", 2026, .march),
            ("esm7", "2026-01-01T00:00:00Z", 2027, .june),
            ("NQZ25", "2025-01-01T00:00:00Z", 2025, .december),
            ("NQZ2031", "2025-01-01T00:00:00Z", 2031, .december),
        ])
    func parse(symbol: String, reference: String, year: Int, month: ContractMonth) throws {
        let contract = try Contract(parsing: symbol, reference: iso(reference))
        #expect(contract.year == year)
        #expect(contract.month == month)
    }

    @Test("bad symbols are rejected", arguments: ["", "NQ", "NQZ", "Z5", "NQA5", "NQZ555", "1QZ5", "NQ-Z5"])
    func invalid(symbol: String) {
        let error = #expect(throws: ContractError.self) {
            try Contract(parsing: symbol, reference: iso("2025-01-01T00:00:00Z"))
        }
        #expect(error?.code == .invalidSymbol)
        #expect(error?.description.contains("'\(symbol)'") == true)
    }

    @Test("known expiry and roll dates")
    func knownDates() {
        let z5 = Contract(root: "NQ", month: .december, year: 2025)
        #expect(calendar.expiryDay(of: z5) == DateComponents(year: 2025, month: 12, day: 19))
        #expect(calendar.rollDay(of: z5) == DateComponents(year: 2025, month: 12, day: 11))
        #expect(calendar.lastTrade(of: z5) == iso("2025-12-19T14:30:00Z"))  // 09:30 EST
        #expect(calendar.rollInstant(of: z5) == iso("2025-12-10T23:00:00Z"))  // 18:00 EST the evening before

        let h6 = Contract(root: "NQ", month: .march, year: 2026)
        #expect(calendar.expiryDay(of: h6) == DateComponents(year: 2026, month: 3, day: 20))
        #expect(calendar.rollDay(of: h6) == DateComponents(year: 2026, month: 3, day: 12))
        #expect(calendar.lastTrade(of: h6) == iso("2026-03-20T13:30:00Z"))  // 09:30 EDT (DST began 03-08)
        #expect(calendar.rollInstant(of: h6) == iso("2026-03-11T22:00:00Z"))  // 18:00 EDT
    }

    @Test("front month honours the roll")
    func frontMonth() {
        #expect(calendar.frontMonth(.nq, at: iso("2025-12-10T22:59:59Z")).symbol == "NQZ5")
        #expect(calendar.frontMonth(.nq, at: iso("2025-12-10T23:00:00Z")).symbol == "NQH6")
        #expect(calendar.frontMonth(.es, at: iso("2026-03-11T21:59:00Z")).symbol == "ESH6")
        #expect(calendar.frontMonth(.es, at: iso("2026-03-11T22:00:00Z")).symbol == "ESM6")
        #expect(calendar.frontMonth(.mnq, at: iso("2026-11-29T12:00:00Z")).symbol == "MNQZ6")
        #expect(calendar.frontMonth(.mes, at: iso("2026-12-31T12:00:00Z")).symbol == "MESH7")
    }

    @Test("a configurable roll offset moves the roll")
    func rollOffset() throws {
        let early = try ContractCalendar(rollDaysBeforeExpiry: 15)
        let z5 = Contract(root: "NQ", month: .december, year: 2025)
        #expect(early.rollDay(of: z5) == DateComponents(year: 2025, month: 12, day: 4))
        #expect(early.frontMonth(.nq, at: iso("2025-12-05T12:00:00Z")).symbol == "NQH6")
        #expect(calendar.frontMonth(.nq, at: iso("2025-12-05T12:00:00Z")).symbol == "NQZ5")
        let error = #expect(throws: ContractError.self) { try ContractCalendar(rollDaysBeforeExpiry: -1) }
        #expect(error?.code == .invalidRollOffset)
    }

    @Test("front-month periods tile an interval without a gap")
    func periods() {
        let periods = calendar.frontMonths(.nq, from: iso("2025-11-01T00:00:00Z"), to: iso("2026-07-01T00:00:00Z"))
        #expect(periods.map(\.contract.symbol) == ["NQZ5", "NQH6", "NQM6", "NQU6"])
        for (a, b) in zip(periods, periods.dropFirst()) { #expect(a.interval.end == b.interval.start) }
        #expect(periods.first?.interval.start == iso("2025-11-01T00:00:00Z"))
        #expect(periods.last?.interval.end == iso("2026-07-01T00:00:00Z"))
    }
}
