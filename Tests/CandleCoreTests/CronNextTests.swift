import CandleCore
import Foundation
import Testing

@Suite("CronSchedule firing times")
struct CronNextTests {
    static let newYork = TimeZone(identifier: "America/New_York")!

    private func next(_ expression: String, after instant: String, in zone: TimeZone = .gmt) throws -> Date? {
        try CronSchedule(expression).next(after: cronUTC(instant), in: zone)
    }

    private func fires(_ expression: String, from start: String, to end: String, in zone: TimeZone = .gmt) throws
        -> [Date]
    {
        try CronSchedule(expression).fireTimes(from: cronUTC(start), to: cronUTC(end), in: zone)
    }

    // MARK: - Everyday schedules

    @Test func topOfEveryHour() throws {
        #expect(try next("0 * * * *", after: "2026-01-05T10:17:00Z") == cronUTC("2026-01-05T11:00:00Z"))
        #expect(try next("0 * * * *", after: "2026-01-05T11:00:00Z") == cronUTC("2026-01-05T12:00:00Z"))
        #expect(try next("0 * * * *", after: "2026-01-05T10:59:59Z") == cronUTC("2026-01-05T11:00:00Z"))
        #expect(try next("0 * * * *", after: "2026-01-31T23:30:00Z") == cronUTC("2026-02-01T00:00:00Z"))
    }

    @Test func everyFifteenMinutes() throws {
        #expect(try next("*/15 * * * *", after: "2026-01-05T10:14:59Z") == cronUTC("2026-01-05T10:15:00Z"))
        #expect(try next("*/15 * * * *", after: "2026-01-05T10:45:00Z") == cronUTC("2026-01-05T11:00:00Z"))
        #expect(try next("*/15 * * * *", after: "2026-12-31T23:50:00Z") == cronUTC("2027-01-01T00:00:00Z"))
        let start = cronUTC("2026-01-05T10:15:00Z")
        #expect(
            try CronSchedule("*/15 * * * *").next(after: start.addingTimeInterval(0.5))
                == cronUTC("2026-01-05T10:30:00Z"))
        #expect(try CronSchedule("*/15 * * * *").next(after: start.addingTimeInterval(-0.5)) == start)
    }

    @Test func everyFiveMinutes() throws {
        #expect(try next("*/5 * * * *", after: "2026-01-05T10:02:30Z") == cronUTC("2026-01-05T10:05:00Z"))
        #expect(try next("*/5 * * * *", after: "2026-01-05T10:05:00Z") == cronUTC("2026-01-05T10:10:00Z"))
        #expect(try next("*/5 * * * *", after: "2026-01-05T23:55:00Z") == cronUTC("2026-01-06T00:00:00Z"))
    }

    @Test func everyThirtyMinutes() throws {
        #expect(try next("*/30 * * * *", after: "2026-01-05T10:00:00Z") == cronUTC("2026-01-05T10:30:00Z"))
        #expect(try next("*/30 * * * *", after: "2026-01-05T10:30:00Z") == cronUTC("2026-01-05T11:00:00Z"))
    }

    @Test func everyFiftyMinutesReallyFiresAtZeroAndFifty() throws {
        #expect(try next("*/50 * * * *", after: "2026-01-05T10:00:00Z") == cronUTC("2026-01-05T10:50:00Z"))
        #expect(try next("*/50 * * * *", after: "2026-01-05T10:50:00Z") == cronUTC("2026-01-05T11:00:00Z"))
        #expect(
            try fires("*/50 * * * *", from: "2026-01-05T10:00:00Z", to: "2026-01-05T12:00:00Z") == [
                cronUTC("2026-01-05T10:00:00Z"), cronUTC("2026-01-05T10:50:00Z"), cronUTC("2026-01-05T11:00:00Z"),
                cronUTC("2026-01-05T11:50:00Z"),
            ])
    }

    // MARK: - The old system's 17 pg_cron jobs

    static let oldJobs: [(name: String, schedule: String)] = {
        var jobs: [(String, String)] = []
        for root in ["nq", "mnq", "es", "mes"] {
            jobs.append(("fetch-\(root)-5min", "*/5 * * * *"))
            jobs.append(("fetch-\(root)-15min", "*/15 * * * *"))
            jobs.append(("fetch-\(root)-30min", "*/30 * * * *"))
            jobs.append(("fetch-\(root)-60min", "0 * * * *"))
        }
        jobs.append(("refresh-tokens-every-50min", "*/50 * * * *"))
        return jobs
    }()

    @Test func oldSystemJobsFireAsThePgCronSchedulerDid() throws {
        #expect(Self.oldJobs.count == 17)
        let day = (cronUTC("2026-01-05T00:00:00Z"), cronUTC("2026-01-06T00:00:00Z"))
        var perDay: [String: Int] = [:]
        for job in Self.oldJobs {
            perDay[job.name] = try CronSchedule(job.schedule).fireTimes(from: day.0, to: day.1).count
        }
        #expect(perDay["fetch-nq-5min"] == 288)
        #expect(perDay["fetch-es-15min"] == 96)
        #expect(perDay["fetch-mnq-30min"] == 48)
        #expect(perDay["fetch-mes-60min"] == 24)
        #expect(perDay["refresh-tokens-every-50min"] == 48)
        // The seed system's "1,824 collection calls a day" is the 16 fetch jobs together.
        let collections = perDay.filter { $0.key.hasPrefix("fetch-") }.values.reduce(0, +)
        #expect(collections == 1824)

        let after = cronUTC("2026-01-05T10:07:00Z")
        let nextRuns = try Self.oldJobs.map { try CronSchedule($0.schedule).next(after: after) }
        #expect(nextRuns[0] == cronUTC("2026-01-05T10:10:00Z"))
        #expect(nextRuns[1] == cronUTC("2026-01-05T10:15:00Z"))
        #expect(nextRuns[2] == cronUTC("2026-01-05T10:30:00Z"))
        #expect(nextRuns[3] == cronUTC("2026-01-05T11:00:00Z"))
        #expect(nextRuns[16] == cronUTC("2026-01-05T10:50:00Z"))
    }

    // MARK: - Names, month ends, leap days

    @Test func monthAndDayNameForms() throws {
        // Day-of-month is '*', so the day rule is AND: Mondays in January.
        #expect(try next("0 9 * JAN MON", after: "2026-01-06T00:00:00Z") == cronUTC("2026-01-12T09:00:00Z"))
        #expect(try next("0 9 * jan mon", after: "2026-01-26T09:00:00Z") == cronUTC("2027-01-04T09:00:00Z"))
        #expect(try next("30 8 * * sat,SUN", after: "2026-01-09T12:00:00Z") == cronUTC("2026-01-10T08:30:00Z"))
        #expect(try next("0 0 1 jul *", after: "2026-07-01T00:00:00Z") == cronUTC("2027-07-01T00:00:00Z"))
        #expect(try next("0 12 * * 7", after: "2026-01-05T00:00:00Z") == cronUTC("2026-01-11T12:00:00Z"))
    }

    @Test func endOfMonthSkipsMonthsWithoutTheDay() throws {
        #expect(try next("0 0 31 * *", after: "2026-04-01T00:00:00Z") == cronUTC("2026-05-31T00:00:00Z"))
        #expect(try next("0 0 31 * *", after: "2026-01-31T00:00:00Z") == cronUTC("2026-03-31T00:00:00Z"))
        #expect(try next("0 12 30 * *", after: "2026-01-30T12:00:00Z") == cronUTC("2026-03-30T12:00:00Z"))
    }

    @Test func leapDay() throws {
        #expect(try next("0 0 29 2 *", after: "2025-03-01T00:00:00Z") == cronUTC("2028-02-29T00:00:00Z"))
        // 2100 is not a leap year, so the gap is eight years.
        #expect(try next("0 0 29 2 *", after: "2096-03-01T00:00:00Z") == cronUTC("2104-02-29T00:00:00Z"))
    }

    @Test func rareCombinationsAreFoundBeyondADecade() throws {
        // '*/7' starts with '*', so both day fields must match: 29 February falling on a Sunday.
        #expect(try next("0 0 29 2 */7", after: "2026-01-01T00:00:00Z") == cronUTC("2032-02-29T00:00:00Z"))
        #expect(try next("0 0 29 2 */7", after: "2088-03-01T00:00:00Z") == cronUTC("2128-02-29T00:00:00Z"))
    }

    @Test func neverFiringSchedulesReturnNil() throws {
        #expect(try next("0 0 30 2 *", after: "2026-01-01T00:00:00Z") == nil)
        #expect(try next("0 0 31 4,6,9,11 *", after: "2026-01-01T00:00:00Z") == nil)
        #expect(try next("0 0 30,31 FEB */2", after: "2026-01-01T00:00:00Z") == nil)
        #expect(
            try CronSchedule("0 0 30 2 *").firings(after: cronUTC("2026-01-01T00:00:00Z")).first { _ in true } == nil)
        // With both day fields restricted the Vixie OR rule applies, so Mondays in February still fire.
        #expect(try next("0 0 30 2 MON", after: "2026-01-01T00:00:00Z") == cronUTC("2026-02-02T00:00:00Z"))
    }

    // MARK: - Day-of-month / day-of-week

    @Test func bothDayFieldsRestrictedMeansEither() throws {
        let schedule = try CronSchedule("0 0 1 * MON")
        #expect(schedule.next(after: cronUTC("2026-01-01T00:00:00Z")) == cronUTC("2026-01-05T00:00:00Z"))
        #expect(schedule.next(after: cronUTC("2026-01-26T00:00:00Z")) == cronUTC("2026-02-01T00:00:00Z"))
        #expect(schedule.next(after: cronUTC("2026-02-01T00:00:00Z")) == cronUTC("2026-02-02T00:00:00Z"))
        #expect(
            try fires("0 0 1 * MON", from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z") == [
                cronUTC("2026-02-01T00:00:00Z"), cronUTC("2026-02-02T00:00:00Z"), cronUTC("2026-02-09T00:00:00Z"),
                cronUTC("2026-02-16T00:00:00Z"), cronUTC("2026-02-23T00:00:00Z"),
            ])
    }

    @Test func starPrefixedDayStepMeansBoth() throws {
        // Vixie: '*/2' starts with '*', so a day must be odd AND a Monday.
        let schedule = try CronSchedule("0 0 */2 * MON")
        #expect(schedule.next(after: cronUTC("2026-01-01T00:00:00Z")) == cronUTC("2026-01-05T00:00:00Z"))
        #expect(schedule.next(after: cronUTC("2026-01-05T00:00:00Z")) == cronUTC("2026-01-19T00:00:00Z"))
        #expect(schedule.next(after: cronUTC("2026-01-19T00:00:00Z")) == cronUTC("2026-02-09T00:00:00Z"))
        // Spelled as a range it is restricted, so odd days OR Mondays.
        #expect(try next("0 0 1-31/2 * MON", after: "2026-01-01T00:00:00Z") == cronUTC("2026-01-03T00:00:00Z"))
    }

    // MARK: - Daylight saving time (America/New_York)

    @Test func springForwardFixedTimeJobFiresAtTheJump() throws {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z); 02:30 does not exist.
        #expect(
            try next("30 2 * * *", after: "2026-03-08T05:00:00Z", in: Self.newYork) == cronUTC("2026-03-08T07:00:00Z"))
        #expect(
            try next("30 2 * * *", after: "2026-03-08T07:00:00Z", in: Self.newYork) == cronUTC("2026-03-09T06:30:00Z"))
        #expect(
            try fires("30 2 * * *", from: "2026-03-06T00:00:00Z", to: "2026-03-10T12:00:00Z", in: Self.newYork) == [
                cronUTC("2026-03-06T07:30:00Z"), cronUTC("2026-03-07T07:30:00Z"), cronUTC("2026-03-08T07:00:00Z"),
                cronUTC("2026-03-09T06:30:00Z"), cronUTC("2026-03-10T06:30:00Z"),
            ])
        // Several skipped fixed times collapse into one run at the jump.
        #expect(
            try fires("0,30 2 * * *", from: "2026-03-08T05:00:00Z", to: "2026-03-08T12:00:00Z", in: Self.newYork) == [
                cronUTC("2026-03-08T07:00:00Z")
            ])
    }

    @Test func springForwardWildcardJobSkipsTheGap() throws {
        #expect(
            try fires("0 * * * *", from: "2026-03-08T04:00:00Z", to: "2026-03-08T09:00:00Z", in: Self.newYork) == [
                cronUTC("2026-03-08T04:00:00Z"), cronUTC("2026-03-08T05:00:00Z"), cronUTC("2026-03-08T06:00:00Z"),
                cronUTC("2026-03-08T07:00:00Z"), cronUTC("2026-03-08T08:00:00Z"),
            ])
        // Minute field starts with '*': a wildcard job, so its 02:xx runs are skipped that day.
        #expect(
            try next("*/15 2 * * *", after: "2026-03-08T05:00:00Z", in: Self.newYork) == cronUTC("2026-03-09T06:00:00Z")
        )
    }

    @Test func fallBackFixedTimeJobFiresOnce() throws {
        // 2026-11-01: 02:00 EDT goes back to 01:00 EST (06:00Z); 01:30 happens at 05:30Z and 06:30Z.
        #expect(
            try fires("30 1 * * *", from: "2026-10-31T00:00:00Z", to: "2026-11-03T00:00:00Z", in: Self.newYork) == [
                cronUTC("2026-10-31T05:30:00Z"), cronUTC("2026-11-01T05:30:00Z"), cronUTC("2026-11-02T06:30:00Z"),
            ])
        #expect(
            try next("30 1 * * *", after: "2026-11-01T05:30:00Z", in: Self.newYork) == cronUTC("2026-11-02T06:30:00Z"))
        #expect(
            try next("0 1 * * *", after: "2026-11-01T05:00:00Z", in: Self.newYork) == cronUTC("2026-11-02T06:00:00Z"))
    }

    @Test func fallBackWildcardJobFollowsRealTime() throws {
        let expected = (0..<8).map { cronUTC("2026-11-01T04:00:00Z").addingTimeInterval(TimeInterval($0 * 1800)) }
        #expect(
            try fires("*/30 * * * *", from: "2026-11-01T04:00:00Z", to: "2026-11-01T08:00:00Z", in: Self.newYork)
                == expected)
        // Inside the first pass of the repeated hour, the next run is still the next real quarter hour.
        #expect(
            try next("*/15 * * * *", after: "2026-11-01T05:50:00Z", in: Self.newYork) == cronUTC("2026-11-01T06:00:00Z")
        )
        #expect(
            try next("*/15 * * * *", after: "2026-11-01T06:00:00Z", in: Self.newYork) == cronUTC("2026-11-01T06:15:00Z")
        )
    }

    @Test func springForwardInLondon() throws {
        let london = try #require(TimeZone(identifier: "Europe/London"))
        // 2026-03-29: 01:00 GMT jumps to 02:00 BST at 01:00Z.
        #expect(try next("30 1 * * *", after: "2026-03-29T00:00:00Z", in: london) == cronUTC("2026-03-29T01:00:00Z"))
        #expect(try next("30 1 * * *", after: "2026-03-28T00:00:00Z", in: london) == cronUTC("2026-03-28T01:30:00Z"))
    }

    @Test func springForwardAtMidnightInSantiago() throws {
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        // 2026-09-06: 00:00 (UTC−4) jumps to 01:00 (UTC−3) at 04:00Z, so that day's midnight does not exist.
        #expect(
            try fires("0 0 * * *", from: "2026-09-05T00:00:00Z", to: "2026-09-07T12:00:00Z", in: santiago) == [
                cronUTC("2026-09-05T04:00:00Z"), cronUTC("2026-09-06T04:00:00Z"), cronUTC("2026-09-07T03:00:00Z"),
            ])
    }

    @Test func nonUTCZoneShiftsTheWallClock() throws {
        #expect(
            try next("0 9 * * *", after: "2026-01-05T00:00:00Z", in: Self.newYork) == cronUTC("2026-01-05T14:00:00Z"))
        #expect(
            try next("0 9 * * *", after: "2026-07-06T00:00:00Z", in: Self.newYork) == cronUTC("2026-07-06T13:00:00Z"))
    }

    // MARK: - Ranges, sequences, gaps

    @Test func fireTimesIsHalfOpen() throws {
        #expect(
            try fires("0 * * * *", from: "2026-01-05T10:00:00Z", to: "2026-01-05T12:00:00Z") == [
                cronUTC("2026-01-05T10:00:00Z"), cronUTC("2026-01-05T11:00:00Z"),
            ])
        #expect(try fires("0 * * * *", from: "2026-01-05T10:00:01Z", to: "2026-01-05T11:00:00Z") == [])
        #expect(try fires("* * * * *", from: "2026-01-05T00:00:00Z", to: "2026-01-06T00:00:00Z").count == 1440)
    }

    @Test func firingsIsALazySequence() throws {
        let firings = try CronSchedule("*/50 * * * *").firings(after: cronUTC("2026-01-05T09:55:00Z"))
        #expect(
            Array(firings.prefix(4)) == [
                cronUTC("2026-01-05T10:00:00Z"), cronUTC("2026-01-05T10:50:00Z"), cronUTC("2026-01-05T11:00:00Z"),
                cronUTC("2026-01-05T11:50:00Z"),
            ])
    }

    @Test func gapsReportShortestAndLongest() throws {
        let day = DateInterval(start: cronUTC("2026-01-05T00:00:00Z"), end: cronUTC("2026-01-06T00:00:00Z"))
        let fifty = try #require(try CronSchedule("*/50 * * * *").gaps(over: day))
        #expect(fifty.min == 600)
        #expect(fifty.max == 3000)
        let seven = try #require(try CronSchedule("0 */7 * * *").gaps(over: day))
        #expect(seven.min == 3 * 3600)
        #expect(seven.max == 7 * 3600)
        #expect(try CronSchedule("0 0 30 2 *").gaps(over: day) == nil)
        #expect(try CronSchedule("0 12 * * *").gaps(over: day) == nil)
        let springDay = DateInterval(start: cronUTC("2026-03-08T05:00:00Z"), end: cronUTC("2026-03-09T04:00:00Z"))
        let hourly = try #require(try CronSchedule("0 * * * *").gaps(over: springDay, in: Self.newYork))
        #expect(hourly.min == 3600)
        #expect(hourly.max == 3600)
    }

    @Test func searchSkipsRatherThanWalkingMinutes() throws {
        // 2,000 searches that each cross decades finish quickly only if the walk skips whole months and days.
        let schedule = try CronSchedule("0 0 29 2 */7")
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            var date = cronUTC("2026-01-01T00:00:00Z")
            for _ in 0..<2000 { date = schedule.next(after: date) ?? date }
        }
        #expect(elapsed < .seconds(10))
    }
}
