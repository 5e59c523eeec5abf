import CandleCore
import Foundation
import OrcaRuntime
import Testing

/// The plan builder: bar closes on the CME calendar, contracts and rolls, collection mode, token renewals.
@Suite("Schedule plan builder", .timeLimit(.minutes(10)))
struct SchedulePlanTests {
    // MARK: Bar closes

    @Test("open market: the bar in progress closes first, then every grid end; strictly after now")
    func openMarket() {
        // Wednesday 2026-11-18 10:02 New York (EST).
        let closes = SchedulePlan.nextBarCloses(
            Series(.nq, .fiveMinutes), after: instant("2026-11-18T15:02:00Z"), count: 3)
        #expect(closes == ["2026-11-18T15:05:00Z", "2026-11-18T15:10:00Z", "2026-11-18T15:15:00Z"].map(instant))
        // Exactly at a close, that close is not listed again.
        let atClose = SchedulePlan.nextBarCloses(
            Series(.nq, .fifteenMinutes), after: instant("2026-11-18T15:15:00Z"), count: 2)
        #expect(atClose == ["2026-11-18T15:30:00Z", "2026-11-18T15:45:00Z"].map(instant))
    }

    @Test("the daily 17:00–18:00 New York halt is skipped")
    func dailyHalt() {
        // 21:50Z = 16:50 EST; the halt runs 22:00Z–23:00Z.
        let closes = SchedulePlan.nextBarCloses(
            Series(.es, .fifteenMinutes), after: instant("2026-11-18T21:50:00Z"), count: 3)
        #expect(closes == ["2026-11-18T22:00:00Z", "2026-11-18T23:15:00Z", "2026-11-18T23:30:00Z"].map(instant))
        // Summer time (EDT): the halt is 21:00Z–22:00Z.
        let summer = SchedulePlan.nextBarCloses(
            Series(.es, .oneHour), after: instant("2026-07-15T20:30:00Z"), count: 2)
        #expect(summer == ["2026-07-15T21:00:00Z", "2026-07-15T23:00:00Z"].map(instant))
    }

    @Test("an early close cuts the bar short, then the weekend is skipped")
    func earlyCloseAndWeekend() {
        // Friday 2026-11-27, the day after Thanksgiving: early close 13:15 New York = 18:15Z.
        let now = instant("2026-11-27T17:50:00Z")
        let thirty = SchedulePlan.nextBarCloses(Series(.mnq, .thirtyMinutes), after: now, count: 3)
        #expect(thirty == ["2026-11-27T18:00:00Z", "2026-11-27T18:15:00Z", "2026-11-29T23:30:00Z"].map(instant))
        let hour = SchedulePlan.nextBarCloses(Series(.mnq, .oneHour), after: now, count: 3)
        #expect(hour == ["2026-11-27T18:00:00Z", "2026-11-27T18:15:00Z", "2026-11-30T00:00:00Z"].map(instant))
        // On Saturday the first close is Sunday's first bar after the 18:00 New York open.
        let saturday = SchedulePlan.nextBarCloses(
            Series(.nq, .fiveMinutes), after: instant("2026-11-28T12:00:00Z"), count: 1)
        #expect(saturday == [instant("2026-11-29T23:05:00Z")])
    }

    @Test("Christmas: the 13:15 early close on the 24th, closed on the 25th, reopening Sunday the 27th")
    func christmas() {
        let closes = SchedulePlan.nextBarCloses(
            Series(.nq, .oneHour), after: instant("2026-12-24T17:30:00Z"), count: 3)
        #expect(closes == ["2026-12-24T18:00:00Z", "2026-12-24T18:15:00Z", "2026-12-28T00:00:00Z"].map(instant))
    }

    @Test("a daily bar that straddles the halt completes at its grid end, when the market has traded its last minute")
    func barAcrossHalt() throws {
        let daily = try Timeframe(minutes: 1440)
        let closes = SchedulePlan.nextBarCloses(Series(.nq, daily), after: instant("2026-11-18T12:00:00Z"), count: 2)
        #expect(closes == ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"].map(instant))
        // Friday's bar ends with the 17:00 close; Saturday has none; Sunday's bar holds 18:00–19:00 New York.
        let weekend = SchedulePlan.nextBarCloses(Series(.nq, daily), after: instant("2026-11-20T12:00:00Z"), count: 2)
        #expect(weekend == ["2026-11-20T22:00:00Z", "2026-11-23T00:00:00Z"].map(instant))
    }

    @Test(
        "for the seed timeframes the closes match the earlier command's rule at every instant of a holiday week",
        arguments: Timeframe.seedDefaults)
    func matchesEarlierRule(timeframe: Timeframe) {
        let calendar = TradingCalendar.cmeEquityIndex
        var now = instant("2026-11-24T00:00:00Z")
        let end = instant("2026-11-30T06:00:00Z")
        while now < end {
            let expected = Self.earlierRule(timeframe, now: now, count: 5, calendar: calendar)
            let actual = SchedulePlan.nextBarCloses(Series(.es, timeframe), after: now, count: 5)
            #expect(actual == expected, "\(timeframe) after \(now)")
            now = now.addingTimeInterval(37 * 60)
        }
    }

    /// The rule `orca-run schedule` used before the plan builder existed.
    static func earlierRule(_ timeframe: Timeframe, now: Date, count: Int, calendar: TradingCalendar) -> [Date] {
        let horizon = now.addingTimeInterval(14 * 86_400)
        return Array(
            calendar.expectedBars(.nq, timeframe, from: timeframe.barStart(containing: now), to: horizon)
                .lazy.map { min(timeframe.barEnd(startingAt: $0), calendar.nextClose(after: $0) ?? .distantFuture) }
                .filter { $0 > now }.prefix(count))
    }

    // MARK: Plan

    @Test("series in configuration order, each with its front contract, next roll and next contract")
    func seriesAndContracts() throws {
        let series = [Series(.es, .thirtyMinutes), Series(.nq, .fiveMinutes)]
        let plan = SchedulePlan.make(
            at: instant("2026-11-27T17:50:00Z"), series: series, tokens: .memory(logins: []), count: 2)
        #expect(plan.series.map(\.series) == ["ES 30min", "NQ 5min"])
        #expect(plan.series.map(\.instrument) == ["ES", "NQ"])
        #expect(plan.series.map(\.timeframe) == ["30min", "5min"])
        #expect(plan.series.map(\.frontContract) == ["ESZ6", "NQZ6"])
        #expect(plan.series.map(\.nextContract) == ["ESH7", "NQH7"])
        // Expiry Friday 2026-12-18; roll date 8 days before (Thursday the 10th); roll at 18:00 New York the eve.
        #expect(plan.series.allSatisfy { $0.nextRoll == instant("2026-12-09T23:00:00Z") })
        #expect(plan.series[0].nextCloses == ["2026-11-27T18:00:00Z", "2026-11-27T18:15:00Z"].map(instant))
        #expect(plan.series[1].nextCloses.count == 2)

        // After the roll the next contract is front; a different roll offset moves the roll.
        let later = SchedulePlan.make(
            at: instant("2026-12-10T01:00:00Z"), series: series, tokens: .memory(logins: []),
            contractCalendar: try ContractCalendar(rollDaysBeforeExpiry: 5))
        #expect(later.series.map(\.frontContract) == ["ESZ6", "NQZ6"])
        #expect(later.series[0].nextRoll == instant("2026-12-12T23:00:00Z"))
        let afterRoll = SchedulePlan.make(
            at: instant("2026-12-10T01:00:00Z"), series: series, tokens: .memory(logins: []))
        #expect(afterRoll.series.map(\.frontContract) == ["ESH7", "NQH7"])
        #expect(afterRoll.series.map(\.nextContract) == ["ESM7", "NQM7"])
    }

    @Test("market state: open with its next close, closed with its next open")
    func market() {
        let open = SchedulePlan.make(at: instant("2026-11-27T17:50:00Z"), series: [], tokens: .memory(logins: []))
        #expect(open.market.open)
        #expect(open.market.nextClose == instant("2026-11-27T18:15:00Z"))
        let closed = SchedulePlan.make(at: instant("2026-11-28T12:00:00Z"), series: [], tokens: .memory(logins: []))
        #expect(!closed.market.open)
        #expect(closed.market.nextOpen == instant("2026-11-29T23:00:00Z"))
    }

    @Test("collection: live by default; collector.cron lists its next firings in UTC")
    func collection() throws {
        let now = instant("2026-11-18T15:02:00Z")
        let live = SchedulePlan.make(at: now, series: [], tokens: .memory(logins: []))
        #expect(live.collection.cron == nil)
        #expect(live.collection.nextFirings.isEmpty)
        let cron = SchedulePlan.make(
            at: now, series: [], tokens: .memory(logins: []), collectionCron: try CronSchedule("1-59/15 * * * *"),
            count: 3)
        #expect(cron.collection.cron == "1-59/15 * * * *")
        #expect(
            cron.collection.nextFirings
                == ["2026-11-18T15:16:00Z", "2026-11-18T15:31:00Z", "2026-11-18T15:46:00Z"].map(instant))
    }

    // MARK: Tokens

    @Test("renewal = expiry − margin; due inside the margin; expired; no token → at start")
    func tokenRenewals() {
        let now = instant("2026-11-18T15:00:00Z")
        let observation = TokenStoreObservation(
            store: "redis://127.0.0.1:6379/0", logins: ["fresh", "due", "expired", "none"],
            tokens: [
                TokenObservation(login: "fresh", expirationTime: instant("2026-11-18T16:30:00Z")),
                TokenObservation(login: "due", expirationTime: instant("2026-11-18T15:10:00Z")),
                TokenObservation(login: "expired", expirationTime: instant("2026-11-18T14:59:00Z")),
                TokenObservation(login: "none", expirationTime: nil),
            ])
        let plan = SchedulePlan.make(at: now, series: [], tokens: observation)
        #expect(plan.tokens.store == "redis://127.0.0.1:6379/0")
        #expect(plan.tokens.renewalMarginSeconds == 900)
        #expect(plan.tokens.storeError == nil)
        let logins = plan.tokens.logins
        #expect(logins.map(\.login) == ["fresh", "due", "expired", "none"])
        #expect(logins.map(\.renewal) == [.scheduled, .due, .expired, .atStart])
        #expect(logins[0].renewalTime == instant("2026-11-18T16:15:00Z"))
        #expect(logins[0].expirationTime == instant("2026-11-18T16:30:00Z"))
        #expect(logins[1].renewalTime == now)
        #expect(logins[2].renewalTime == nil)
        #expect(logins[2].expirationTime == instant("2026-11-18T14:59:00Z"))
        #expect(logins[3].renewalTime == nil)
        #expect(logins[3].expirationTime == nil)

        // A wider margin moves the renewal earlier and turns the fresh token due sooner.
        let wide = SchedulePlan.make(at: now, series: [], tokens: observation, renewalMargin: .seconds(3600))
        #expect(wide.tokens.logins[0].renewalTime == instant("2026-11-18T15:30:00Z"))
        let wider = SchedulePlan.make(at: now, series: [], tokens: observation, renewalMargin: .seconds(5400))
        #expect(wider.tokens.logins[0].renewal == .due)
    }

    @Test("in-memory tokens: every login logs in at start; an unreadable store makes every renewal unknown")
    func memoryAndUnreadable() {
        let now = instant("2026-11-18T15:00:00Z")
        let memory = SchedulePlan.make(at: now, series: [], tokens: .memory(logins: ["a", "b"]))
        #expect(memory.tokens.store == nil)
        #expect(memory.tokens.logins.map(\.renewal) == [.atStart, .atStart])
        let broken = SchedulePlan.make(
            at: now, series: [],
            tokens: TokenStoreObservation(store: "redis://h:1/0", logins: ["a"], error: "Redis at h:1: refused"))
        #expect(broken.tokens.storeError == "Redis at h:1: refused")
        #expect(broken.tokens.logins.map(\.renewal) == [.unknown])
        #expect(broken.tokens.logins[0].expirationTime == nil)
    }

    @Test("planned logins: the configured ones, or the simulator's demo login when none are configured")
    func plannedLogins() async throws {
        let simulator = try await OrcaConfiguration.load(file: nil, environment: [:], overrides: [:])
        #expect(TokenStoreObservation.plannedLogins(simulator) == ["demo"])
        let configured = try await OrcaConfiguration.load(
            file: nil,
            environment: [
                "ORCA_TRADOVATE_USERNAME": "APEX_9", "ORCA_TRADOVATE_PASSWORD": fakeSecret(),
                "ORCA_TRADOVATE_CID": "7", "ORCA_TRADOVATE_SEC": fakeSecret(),
            ], overrides: [:])
        #expect(TokenStoreObservation.plannedLogins(configured) == ["APEX_9"])
    }

    @Test("without redis.url the store is in memory; an unreachable Redis is reported, not thrown")
    func readingTheStore() async throws {
        let memory = try await OrcaConfiguration.load(file: nil, environment: [:], overrides: [:])
        let inMemory = await TokenStoreObservation.read(configuration: memory)
        #expect(inMemory == .memory(logins: ["demo"]))

        let secret = fakeSecret()
        let unreachable = try await OrcaConfiguration.load(
            file: nil, environment: [:], overrides: ["redis.url": "redis://:\(secret)@127.0.0.1:1/0"])
        let observation = await TokenStoreObservation.read(configuration: unreachable)
        #expect(observation.store == "redis://:***@127.0.0.1:1/0")
        let error = try #require(observation.error)
        #expect(error.contains("127.0.0.1:1"))
        #expect(!error.contains(secret))
        #expect(observation.tokens.isEmpty)
    }
}
