import CandleCore
import Foundation
import Testing

@Suite("TradingCalendar")
struct TradingCalendarTests {
    let calendar = TradingCalendar.cmeEquityIndex

    @Test("a regular week: Sunday 18:00 open, daily halt, Friday 17:00 close (EST = UTC-5)")
    func regularWeek() {
        #expect(!calendar.isOpen(at: iso("2026-11-22T22:59:59Z")))  // Sunday 17:59:59 EST
        #expect(calendar.isOpen(at: iso("2026-11-22T23:00:00Z")))  // Sunday 18:00 EST
        #expect(calendar.isOpen(at: iso("2026-11-23T05:00:00Z")))  // Monday 00:00 EST (across midnight)
        #expect(calendar.isOpen(at: iso("2026-11-17T21:59:59Z")))  // Tuesday 16:59:59 EST
        #expect(!calendar.isOpen(at: iso("2026-11-17T22:00:00Z")))  // Tuesday 17:00 EST: halt
        #expect(!calendar.isOpen(at: iso("2026-11-17T22:59:59Z")))
        #expect(calendar.isOpen(at: iso("2026-11-17T23:00:00Z")))  // reopen 18:00 EST
        #expect(calendar.isOpen(at: iso("2026-11-20T21:59:59Z")))  // Friday 16:59:59
        #expect(!calendar.isOpen(at: iso("2026-11-20T22:00:00Z")))  // Friday 17:00 close
        #expect(!calendar.isOpen(at: iso("2026-11-21T12:00:00Z")))  // Saturday
        #expect(calendar.nextOpen(after: iso("2026-11-20T22:00:00Z")) == iso("2026-11-22T23:00:00Z"))
        #expect(calendar.nextOpen(after: iso("2026-11-17T22:30:00Z")) == iso("2026-11-17T23:00:00Z"))
        // While open, the next open is after the next halt.
        #expect(calendar.nextOpen(after: iso("2026-11-17T12:00:00Z")) == iso("2026-11-17T23:00:00Z"))
        #expect(calendar.nextClose(after: iso("2026-11-17T12:00:00Z")) == iso("2026-11-17T22:00:00Z"))
    }

    @Test("the halt is at 17:00 New York in summer too (EDT = UTC-4)")
    func summerHalt() {
        #expect(calendar.isOpen(at: iso("2026-06-16T20:59:59Z")))
        #expect(!calendar.isOpen(at: iso("2026-06-16T21:00:00Z")))
        #expect(calendar.isOpen(at: iso("2026-06-16T22:00:00Z")))
    }

    @Test("spring forward 2026-03-08: the Sunday open moves from 23:00 to 22:00 UTC")
    func springForward() {
        #expect(calendar.nextOpen(after: iso("2026-02-28T12:00:00Z")) == iso("2026-03-01T23:00:00Z"))
        #expect(calendar.nextOpen(after: iso("2026-03-07T12:00:00Z")) == iso("2026-03-08T22:00:00Z"))
        #expect(!calendar.isOpen(at: iso("2026-03-08T21:59:59Z")))
        #expect(calendar.isOpen(at: iso("2026-03-08T22:00:00Z")))
        // The session spanning the change is 23 hours long in New York terms: Sun 18:00 EDT → Mon 17:00 EDT.
        let session = calendar.session(containing: iso("2026-03-09T12:00:00Z"))
        #expect(session?.open == iso("2026-03-08T22:00:00Z"))
        #expect(session?.close == iso("2026-03-09T21:00:00Z"))
        #expect(session?.tradeDate == CalendarDay(year: 2026, month: 3, day: 9))
    }

    @Test("fall back 2026-11-01: the Sunday open moves from 22:00 to 23:00 UTC")
    func fallBack() {
        #expect(calendar.nextOpen(after: iso("2026-10-24T12:00:00Z")) == iso("2026-10-25T22:00:00Z"))
        #expect(calendar.nextOpen(after: iso("2026-10-31T12:00:00Z")) == iso("2026-11-01T23:00:00Z"))
        #expect(!calendar.isOpen(at: iso("2026-11-01T22:30:00Z")))
        #expect(calendar.isOpen(at: iso("2026-11-01T23:00:00Z")))
        // Friday before the change closes at 17:00 EDT = 21:00 UTC.
        #expect(!calendar.isOpen(at: iso("2026-10-30T21:00:00Z")))
        #expect(calendar.isOpen(at: iso("2026-10-30T20:59:00Z")))
    }

    @Test("Christmas 2025: 13:15 early close on the 24th, closed on the 25th until 18:00")
    func christmas() {
        #expect(calendar.isOpen(at: iso("2025-12-24T18:14:00Z")))  // 13:14 EST
        #expect(!calendar.isOpen(at: iso("2025-12-24T18:15:00Z")))  // 13:15 EST early close
        #expect(!calendar.isOpen(at: iso("2025-12-24T23:30:00Z")))  // no evening session
        #expect(!calendar.isOpen(at: iso("2025-12-25T15:00:00Z")))
        #expect(calendar.nextOpen(after: iso("2025-12-24T18:15:00Z")) == iso("2025-12-25T23:00:00Z"))
        #expect(calendar.isOpen(at: iso("2025-12-25T23:00:00Z")))
    }

    @Test("Good Friday 2026: Thursday closes at 17:00 and the market stays shut until Sunday")
    func goodFriday() {
        #expect(calendar.nextClose(after: iso("2026-04-02T12:00:00Z")) == iso("2026-04-02T21:00:00Z"))
        #expect(!calendar.isOpen(at: iso("2026-04-02T22:30:00Z")))
        #expect(!calendar.isOpen(at: iso("2026-04-03T14:00:00Z")))
        #expect(calendar.nextOpen(after: iso("2026-04-02T21:00:00Z")) == iso("2026-04-05T22:00:00Z"))
    }

    @Test("Thanksgiving 2026: early close 13:00 ET, regular reopen 18:00; Friday 13:15 close")
    func thanksgiving() {
        #expect(calendar.isOpen(at: iso("2026-11-26T17:59:00Z")))
        #expect(!calendar.isOpen(at: iso("2026-11-26T18:00:00Z")))
        #expect(calendar.nextOpen(after: iso("2026-11-26T18:00:00Z")) == iso("2026-11-26T23:00:00Z"))
        #expect(calendar.nextClose(after: iso("2026-11-27T12:00:00Z")) == iso("2026-11-27T18:15:00Z"))
    }

    @Test("New Year's Day 2027 on a Friday: nothing from Thursday's close to Sunday")
    func newYear2027() {
        #expect(calendar.nextClose(after: iso("2026-12-31T12:00:00Z")) == iso("2026-12-31T22:00:00Z"))
        #expect(calendar.nextOpen(after: iso("2026-12-31T22:00:00Z")) == iso("2027-01-03T23:00:00Z"))
    }

    @Test("the holiday table covers 2024–2027 and can be overridden")
    func holidayTable() throws {
        let years = Set(calendar.holidays.keys.map(\.year))
        #expect(years == [2024, 2025, 2026, 2027])
        #expect(calendar.holidays[CalendarDay(year: 2026, month: 12, day: 25)]?.kind == .closed)
        // An override without Christmas 2025 keeps the market open as a regular Thursday.
        let custom = try TradingCalendar(holidays: [])
        #expect(custom.isOpen(at: iso("2025-12-25T15:00:00Z")))
        // A made-up closure on a regular Wednesday.
        let closed = try TradingCalendar(holidays: [.init(CalendarDay(year: 2026, month: 11, day: 18), .closed, "Test")]
        )
        #expect(!closed.isOpen(at: iso("2026-11-18T15:00:00Z")))
        #expect(!closed.isOpen(at: iso("2026-11-17T23:30:00Z")))  // the evening before belongs to the closed day
        #expect(closed.isOpen(at: iso("2026-11-18T23:00:00Z")))
    }

    @Test("bad holiday tables and day text are rejected")
    func invalidTables() {
        let day = CalendarDay(year: 2026, month: 1, day: 2)
        let duplicate = #expect(throws: TradingCalendarError.self) {
            try TradingCalendar(holidays: [.init(day, .closed, "a"), .init(day, .closed, "b")])
        }
        #expect(duplicate?.code == .duplicateHoliday)
        let late = #expect(throws: TradingCalendarError.self) {
            try TradingCalendar(holidays: [.init(day, .earlyClose(hour: 17, minute: 30), "late")])
        }
        #expect(late?.code == .invalidHoliday)
        for text in ["2026-02-30", "2026-13-01", "26-01-01", "2026/01/01", ""] {
            let error = #expect(throws: TradingCalendarError.self) { try CalendarDay(parsing: text) }
            #expect(error?.code == .invalidDay)
        }
        #expect(try! CalendarDay(parsing: "2024-02-29") == CalendarDay(year: 2024, month: 2, day: 29))
    }

    @Test("day arithmetic and weekdays")
    func calendarDays() {
        let day = CalendarDay(year: 2026, month: 3, day: 8)
        #expect(day.weekday == 1)  // Sunday
        #expect(day.adding(days: 5).weekday == 6)
        #expect(
            CalendarDay(year: 2024, month: 2, day: 28).adding(days: 1) == CalendarDay(year: 2024, month: 2, day: 29))
        #expect(
            CalendarDay(year: 2025, month: 12, day: 31).adding(days: 1) == CalendarDay(year: 2026, month: 1, day: 1))
        #expect(day.yyyymmdd == 20_260_308)
        #expect(day.description == "2026-03-08")
    }

    @Test("trade date: an 18:00 open belongs to the next day")
    func tradeDate() {
        #expect(calendar.tradeDate(of: iso("2026-11-17T23:30:00Z")) == CalendarDay(year: 2026, month: 11, day: 18))
        #expect(calendar.tradeDate(of: iso("2026-11-17T15:00:00Z")) == CalendarDay(year: 2026, month: 11, day: 17))
    }

    @Test("expected bars over a regular week: 5 sessions × 23 h")
    func expectedWeek() {
        let from = iso("2026-11-15T00:00:00Z")
        let to = iso("2026-11-21T00:00:00Z")
        #expect(calendar.expectedBars(.nq, .fiveMinutes, from: from, to: to).count == 5 * 23 * 12)
        #expect(calendar.expectedBars(.nq, .fifteenMinutes, from: from, to: to).count == 5 * 23 * 4)
        #expect(calendar.expectedBars(.nq, .thirtyMinutes, from: from, to: to).count == 5 * 23 * 2)
        let hours = calendar.expectedBars(.es, .oneHour, from: from, to: to)
        #expect(hours.count == 5 * 23)
        #expect(hours.first == iso("2026-11-15T23:00:00Z"))
        #expect(hours.last == iso("2026-11-20T21:00:00Z"))
        #expect(!hours.contains(iso("2026-11-17T22:00:00Z")))  // the halt hour
        #expect(hours == hours.sorted())
        #expect(Set(hours).count == hours.count)
    }

    @Test("expected bars respect the range edges")
    func expectedEdges() {
        let bars = calendar.expectedBars(
            .nq, .fiveMinutes, from: iso("2026-11-17T21:50:00Z"), to: iso("2026-11-17T23:10:00Z"))
        #expect(
            bars == [
                iso("2026-11-17T21:50:00Z"), iso("2026-11-17T21:55:00Z"), iso("2026-11-17T23:00:00Z"),
                iso("2026-11-17T23:05:00Z"),
            ])
        #expect(
            calendar.expectedBars(.nq, .fiveMinutes, from: iso("2026-11-21T00:00:00Z"), to: iso("2026-11-22T00:00:00Z"))
                .isEmpty)
    }

    @Test("a bar that straddles an early close is expected once, keyed by its grid start")
    func straddlingBar() {
        // 2025-12-24 closes at 13:15 EST = 18:15 UTC; the 30-minute bar 18:00–18:30 holds 15 open minutes.
        let bars = calendar.expectedBars(
            .nq, .thirtyMinutes, from: iso("2025-12-24T17:00:00Z"), to: iso("2025-12-24T20:00:00Z"))
        #expect(bars == [iso("2025-12-24T17:00:00Z"), iso("2025-12-24T17:30:00Z"), iso("2025-12-24T18:00:00Z")])
        #expect(calendar.isExpectedBar(.nq, .thirtyMinutes, start: iso("2025-12-24T18:00:00Z")))
        #expect(!calendar.isExpectedBar(.nq, .thirtyMinutes, start: iso("2025-12-24T18:30:00Z")))
        let fives = calendar.expectedBars(
            .nq, .fiveMinutes, from: iso("2025-12-24T18:00:00Z"), to: iso("2025-12-24T19:00:00Z"))
        #expect(fives.count == 3)
    }

    @Test("expected bars across the spring-forward weekend")
    func expectedAcrossDST() {
        let bars = calendar.expectedBars(
            .nq, .oneHour, from: iso("2026-03-06T00:00:00Z"), to: iso("2026-03-09T00:00:00Z"))
        // Friday 03-06: 00:00–22:00 UTC (close 17:00 EST); Sunday 03-08: 22:00–24:00 UTC (open 18:00 EDT).
        #expect(bars.count == 22 + 2)
        #expect(bars[22] == iso("2026-03-08T22:00:00Z"))
    }
}
