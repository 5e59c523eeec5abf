import CandleCore
import Foundation
import Testing

@Suite("CronSchedule lint")
struct CronLintTests {
    private func lint(_ expression: String, in zone: TimeZone = .gmt) throws -> [CronLintFinding] {
        try CronSchedule(expression).lint(in: zone)
    }

    private func finding(_ code: CronLintFinding.Code, in findings: [CronLintFinding]) throws -> CronLintFinding {
        try #require(findings.first { $0.code == code }, "no \(code) finding in \(findings)")
    }

    // MARK: - Steps

    @Test func fiftyMinuteStepStatesTheRealGaps() throws {
        let findings = try lint("*/50 * * * *")
        let uneven = try finding(.unevenStep, in: findings)
        #expect(uneven.severity == .warning)
        #expect(uneven.field == .minute)
        #expect(
            uneven.message
                == "minute field '*/50' fires at minute 0 and 50 of every hour, so the gaps are 50 and 10 minutes — "
                + "not every 50 minutes")
        #expect(findings.map(\.code) == [.unevenStep, .firingPattern])
        #expect(
            findings.last?.message
                == "fires 2 times per hour; gaps 50 min, 10 min (at minute 0 and 50 of every hour, every day, UTC)")
    }

    @Test func sevenHourStepStatesTheRealGaps() throws {
        let uneven = try finding(.unevenStep, in: try lint("0 */7 * * *"))
        #expect(uneven.field == .hour)
        #expect(
            uneven.message
                == "hour field '*/7' fires at hour 0, 7, 14 and 21 of every day, so the gaps are 7, 7, 7 and 3 hours "
                + "— not every 7 hours")
    }

    @Test func otherUnevenSteps() throws {
        #expect(
            try finding(.unevenStep, in: try lint("*/45 * * * *")).message
                == "minute field '*/45' fires at minute 0 and 45 of every hour, so the gaps are 45 and 15 minutes — "
                + "not every 45 minutes")
        #expect(
            try finding(.unevenStep, in: try lint("*/7 * * * *")).message
                == "minute field '*/7' fires at minute 0, 7, 14, 21, 28, 35, 42, 49 and 56 of every hour, so the gaps "
                + "are 7 minutes (8 times) and then 4 minutes — not every 7 minutes")
        #expect(
            try finding(.unevenStep, in: try lint("0 0 1 */5 *")).message
                == "month field '*/5' fires in January, June and November of every year, so the gaps are 5, 5 and 2 "
                + "months — not every 5 months (the year restarts in January)")
        #expect(
            try finding(.unevenStep, in: try lint("0 0 * * */2")).message
                == "day-of-week field '*/2' fires on Sunday, Tuesday, Thursday and Saturday of every week, so the gaps "
                + "are 2, 2, 2 and 1 days — not every 2 days (the week restarts on Sunday)")
        #expect(
            try finding(.unevenStep, in: try lint("0 0 */2 * *")).message
                == "day-of-month field '*/2' restarts on the 1st of every month: the last run in a month is on day 27, "
                + "29 or 31 depending on the month's length, so the gap into the next month is 1 or 2 days — not "
                + "always every 2 days")
    }

    @Test(arguments: ["*/5 * * * *", "*/15 * * * *", "*/30 * * * *", "0 * * * *", "0 */6 * * *", "10-50/20 * * * *"])
    func evenStepsAreNotFlagged(expression: String) throws {
        #expect(try lint(expression).allSatisfy { $0.code != .unevenStep && $0.severity < .warning })
    }

    @Test func stepLargerThanItsRange() throws {
        let whole = try finding(.stepLargerThanRange, in: try lint("*/90 * * * *"))
        #expect(
            whole.message
                == "minute field '*/90': the step 90 is larger than the field's range 0–59, so it only matches minute "
                + "0 — once per hour, not every 90 minutes")
        #expect(
            try finding(.stepLargerThanRange, in: try lint("0-10/30 * * * *")).message
                == "minute field '0-10/30': the step 30 is larger than the range 0-10, so it only matches minute 0")
    }

    // MARK: - Day fields

    @Test func bothDayFieldsRestrictedIsExplainedAsEither() throws {
        let either = try finding(.eitherDayField, in: try lint("0 0 1 * MON"))
        #expect(either.severity == .warning)
        #expect(
            either.message
                == "day-of-month '1' and day-of-week 'MON' are both restricted, so cron runs when EITHER matches: on "
                + "the 1st of the month AND on every Monday — not only on Mondays that fall on the 1st")
        #expect(
            try finding(.eitherDayField, in: try lint("0 0 1,15 * MON-FRI")).message
                == "day-of-month '1,15' and day-of-week 'MON-FRI' are both restricted, so cron runs when EITHER "
                + "matches: on the 1st and 15th of the month AND on every Monday–Friday — not only on days that match "
                + "both fields")
    }

    @Test func starPrefixedDayStepIsExplainedAsBoth() throws {
        #expect(
            try finding(.bothDayFields, in: try lint("0 0 */2 * MON")).message
                == "day-of-month field '*/2' starts with '*', so cron treats it as unrestricted for the day rule and "
                + "runs only on days that match BOTH day fields: days 1, 3, 5, …, 31 of the month when it is a Monday; "
                + "writing '1-31/2' instead would run when EITHER '1-31/2' or day-of-week 'MON' matches")
        #expect(try lint("0 0 * * MON").allSatisfy { $0.code != .bothDayFields && $0.code != .eitherDayField })
    }

    @Test func daysSomeMonthsLack() throws {
        let missing = try finding(.missingDays, in: try lint("0 0 31 * *"))
        #expect(missing.severity == .warning)
        #expect(
            missing.message
                == "day-of-month '31' includes days that some months lack: February, April, June, September and "
                + "November have no 31st. Cron skips a day that does not exist; it does not move the run to the "
                + "month's last day")
        #expect(
            try finding(.missingDays, in: try lint("0 0 29 2 *")).message
                == "day-of-month '29' includes days that some months lack: February has a 29th only in leap years. "
                + "Cron skips a day that does not exist; it does not move the run to the month's last day")
        #expect(try lint("0 0 28 * *").allSatisfy { $0.code != .missingDays })
        #expect(try lint("0 0 31 1,3 *").allSatisfy { $0.code != .missingDays })
    }

    @Test func neverFiringScheduleIsAnError() throws {
        let findings = try lint("0 0 30 2 *")
        #expect(findings.count == 1)
        let never = try finding(.neverFires, in: findings)
        #expect(never.severity == .error)
        #expect(never.field == .dayOfMonth)
        #expect(never.message == "never fires: day-of-month '30' never occurs in February, which has at most 29 days")
        #expect(
            try finding(.neverFires, in: try lint("0 0 31 4,6,9,11 *")).message
                == "never fires: day-of-month '31' never occurs in April, June, September or November, which have 30 "
                + "days")
        #expect(
            try finding(.neverFires, in: try lint("0 0 31 2,4 */2")).message
                == "never fires: day-of-month '31' never occurs in February or April (February has at most 29 days; "
                + "April has 30 days)")
        // April has a 30th, so this one fires (on April 30ths that fall on Sunday, Tuesday, Thursday or Saturday).
        #expect(try lint("0 0 30,31 2,4 */2").allSatisfy { $0.code != .neverFires })
    }

    // MARK: - Time zones

    @Test func restrictedHoursAreExplainedAsUTC() throws {
        let utc = try finding(.evaluatedInUTC, in: try lint("30 14 * * 1-5"))
        #expect(utc.severity == .info)
        #expect(
            utc.message
                == "pg_cron evaluates schedules in UTC (unless cron.timezone is set), not exchange time: 14:30 in this "
                + "schedule is 14:30 UTC, which is 10:30 in New York during daylight saving time (EDT, UTC−4, March to "
                + "November) and 09:30 in winter (EST, UTC−5); the New York time of each run shifts by an hour at "
                + "every DST change while the UTC time stays fixed")
        #expect(
            try finding(.evaluatedInUTC, in: try lint("0 * * * MON")).message
                == "pg_cron evaluates schedules in UTC (unless cron.timezone is set), not exchange time: each day of "
                + "this schedule starts at 00:00 UTC, which is 20:00 (EDT) or 19:00 (EST) the previous evening in New "
                + "York, so its days do not line up with New York's days")
        #expect(try lint("*/5 * * * *").allSatisfy { $0.code != .evaluatedInUTC })
    }

    @Test func daylightSavingChangesInALocalZone() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let spring = try lint("30 2 * * *", in: newYork)
        #expect(spring.allSatisfy { $0.code != .evaluatedInUTC })
        #expect(
            try finding(.daylightSaving, in: spring).message
                == "in America/New_York the clocks jump from 02:00 to 03:00 on 2026-03-08, so 02:30 does not exist that "
                + "day; following Vixie cron, the job fires once at 03:00 instead")
        #expect(
            try finding(.daylightSaving, in: try lint("30 1 * * *", in: newYork)).message
                == "in America/New_York the clocks go back from 02:00 to 01:00 on 2026-11-01, so 01:30 happens twice; "
                + "following Vixie cron, the job fires only at the first 01:30")
        let wildcard = try lint("*/15 * * * *", in: newYork).filter { $0.code == .daylightSaving }
        #expect(
            wildcard.map(\.message) == [
                "in America/New_York the clocks jump from 02:00 to 03:00 on 2026-03-08, so the runs at 02:00, 02:15, "
                    + "02:30 and 02:45 are skipped that day (Vixie cron does not catch up a job whose minute or hour "
                    + "field starts with '*')",
                "in America/New_York the clocks go back from 02:00 to 01:00 on 2026-11-01, so 01:00, 01:15, 01:30 and "
                    + "01:45 happen twice; because the minute or hour field starts with '*', the job fires at both, as "
                    + "real time keeps passing",
            ])
        #expect(try lint("0 9 * * *", in: newYork).map(\.code) == [.firingPattern])
    }

    // MARK: - Sunday, repetition, every minute

    @Test func sundayWrittenAsSeven() throws {
        let seven = try finding(.sundayAsSeven, in: try lint("0 0 * * 7"))
        #expect(seven.severity == .info)
        #expect(
            seven.message
                == "day-of-week 7 means Sunday, the same as 0; Vixie cron and pg_cron accept it, but some other cron "
                + "implementations accept only 0–6")
        #expect(try lint("0 0 * * 0").allSatisfy { $0.code != .sundayAsSeven })
        #expect(try lint("0 0 * * *").allSatisfy { $0.code != .sundayAsSeven })
    }

    @Test func repeatedAndOverlappingValues() throws {
        #expect(
            try finding(.repeatedValues, in: try lint("0-30,15 * * * *")).message
                == "minute field '0-30,15' lists minute 15 more than once (its items overlap); harmless, but check the "
                + "field says what you meant")
        #expect(
            try finding(.repeatedValues, in: try lint("0 0 * * 0,7")).message
                == "day-of-week field '0,7' lists Sunday more than once (0 and 7 are both Sunday); harmless, but check "
                + "the field says what you meant")
        #expect(try lint("0 0 * * 0-7").allSatisfy { $0.code != .repeatedValues })
    }

    @Test func everyMinuteOfARestrictedHour() throws {
        #expect(
            try finding(.everyMinuteOfHour, in: try lint("* 2 * * *")).message
                == "minute field '*' with hour field '2' runs every minute of that hour — 60 runs from 02:00 to 02:59, "
                + "not once at 02:00; write '0 2 …' for one run an hour")
    }

    // MARK: - Summary and ordering

    @Test func oldSystemSchedulesSummaries() throws {
        let summaries = try ["*/5 * * * *", "*/15 * * * *", "*/30 * * * *", "0 * * * *", "*/50 * * * *"].map {
            try lint($0).last?.message
        }
        #expect(
            summaries == [
                "fires 12 times per hour; every 5 min (at minute 0, 5, 10, …, 55 of every hour, every day, UTC)",
                "fires 4 times per hour; every 15 min (at minute 0, 15, 30 and 45 of every hour, every day, UTC)",
                "fires 2 times per hour; every 30 min (at minute 0 and 30 of every hour, every day, UTC)",
                "fires once per hour; every 1 h (at minute 0 of every hour, every day, UTC)",
                "fires 2 times per hour; gaps 50 min, 10 min (at minute 0 and 50 of every hour, every day, UTC)",
            ])
    }

    @Test func summariesOfDailyWeeklyAndYearlyPatterns() throws {
        #expect(
            try lint("30 14 * * 1-5").last?.message
                == "fires 5 times per week; gaps 1 d, 3 d (at 14:30, on every Monday–Friday, UTC)")
        #expect(
            try lint("0 */7 * * *").last?.message
                == "fires 4 times per day; gaps 7 h, 3 h (at 00:00, 07:00, 14:00 and 21:00, every day, UTC)")
        #expect(
            try lint("0 0 1 * MON").last?.message
                == "fires 61–63 times per year; gaps from 1 d to 7 d (at 00:00, on the 1st of the month and on every "
                + "Monday, UTC)")
        #expect(
            try lint("0 0 29 2 *").last?.message
                == "fires 2 times in 8 years (2026–2033); every 1461 d (at 00:00, on the 29th of the month in "
                + "February, UTC)")
        #expect(
            try lint("* 2 * * *").last?.message
                == "fires 60 times per day; gaps 1 min, 23 h 1 min (every minute of hour 2, every day, UTC)")
    }

    @Test func findingsComeMostSeriousFirstWithTheSummaryLast() throws {
        let findings = try lint("0 0 * * 0,7")
        #expect(findings.map(\.code) == [.repeatedValues, .sundayAsSeven, .evaluatedInUTC, .firingPattern])
        let mixed = try lint("*/50 0 1 * 7")
        #expect(mixed.map(\.severity) == mixed.map(\.severity).sorted(by: >))
        #expect(mixed.last?.code == .firingPattern)
        #expect(CronLintFinding.Severity.info < .warning && CronLintFinding.Severity.warning < .error)
        #expect(mixed.first?.description.hasPrefix("warning: ") == true)
    }
}
