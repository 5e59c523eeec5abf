import CandleCore
import Testing

@Suite("Holiday rules")
struct HolidayRulesTests {
    /// CME Globex's published equity-index holiday schedule for 2024–2027, as the table listed it before the rules
    /// generated it.
    static let published = """
        2024-01-01 New Year's Day: closed
        2024-01-15 Martin Luther King Jr. Day: early close 13:00 ET
        2024-02-19 Presidents Day: early close 13:00 ET
        2024-03-29 Good Friday: closed
        2024-05-27 Memorial Day: early close 13:00 ET
        2024-06-19 Juneteenth: early close 13:00 ET
        2024-07-03 Independence Day eve: early close 13:15 ET
        2024-07-04 Independence Day: early close 13:00 ET
        2024-09-02 Labor Day: early close 13:00 ET
        2024-11-28 Thanksgiving: early close 13:00 ET
        2024-11-29 Day after Thanksgiving: early close 13:15 ET
        2024-12-24 Christmas Eve: early close 13:15 ET
        2024-12-25 Christmas Day: closed
        2025-01-01 New Year's Day: closed
        2025-01-09 National Day of Mourning: early close 9:30 ET
        2025-01-20 Martin Luther King Jr. Day: early close 13:00 ET
        2025-02-17 Presidents Day: early close 13:00 ET
        2025-04-18 Good Friday: closed
        2025-05-26 Memorial Day: early close 13:00 ET
        2025-06-19 Juneteenth: early close 13:00 ET
        2025-07-03 Independence Day eve: early close 13:15 ET
        2025-07-04 Independence Day: early close 13:00 ET
        2025-09-01 Labor Day: early close 13:00 ET
        2025-11-27 Thanksgiving: early close 13:00 ET
        2025-11-28 Day after Thanksgiving: early close 13:15 ET
        2025-12-24 Christmas Eve: early close 13:15 ET
        2025-12-25 Christmas Day: closed
        2026-01-01 New Year's Day: closed
        2026-01-19 Martin Luther King Jr. Day: early close 13:00 ET
        2026-02-16 Presidents Day: early close 13:00 ET
        2026-04-03 Good Friday: closed
        2026-05-25 Memorial Day: early close 13:00 ET
        2026-06-19 Juneteenth: early close 13:00 ET
        2026-07-03 Independence Day (observed): early close 13:00 ET
        2026-09-07 Labor Day: early close 13:00 ET
        2026-11-26 Thanksgiving: early close 13:00 ET
        2026-11-27 Day after Thanksgiving: early close 13:15 ET
        2026-12-24 Christmas Eve: early close 13:15 ET
        2026-12-25 Christmas Day: closed
        2027-01-01 New Year's Day: closed
        2027-01-18 Martin Luther King Jr. Day: early close 13:00 ET
        2027-02-15 Presidents Day: early close 13:00 ET
        2027-03-26 Good Friday: closed
        2027-05-31 Memorial Day: early close 13:00 ET
        2027-06-18 Juneteenth (observed): early close 13:00 ET
        2027-07-05 Independence Day (observed): early close 13:00 ET
        2027-09-06 Labor Day: early close 13:00 ET
        2027-11-25 Thanksgiving: early close 13:00 ET
        2027-11-26 Day after Thanksgiving: early close 13:15 ET
        2027-12-24 Christmas Day (observed): closed
        """

    @Test("the rules reproduce CME's published 2024–2027 schedule, day by day")
    func rulesMatchPublishedSchedule() {
        let generated = [MarketHoliday].cmeEquityIndex.map(\.description)
        #expect(generated == Self.published.split(separator: "\n").map(String.init))
    }
}
