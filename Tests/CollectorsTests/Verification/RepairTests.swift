import CandleCore
import CandleTesting
import Foundation
import Testing
import TradovateSimulator

@testable import Collectors

/// Two days around the NQ roll (NQZ5 → NQH6 at 2025-12-10T23:00Z, 18:00 New York), with a simulated broker.
enum RollDays {
    static let from = Week.utc("2025-12-10T00:00:00Z")
    static let to = Week.utc("2025-12-12T00:00:00Z")
    static let now = Week.utc("2025-12-13T00:00:00Z")
    static let roll = Week.utc("2025-12-10T23:00:00Z")
    static let market = SimulatedMarket(seed: 42)
    static let contracts = ContractCalendar.standard

    /// The final bars of `series` in `[from, to)` as the simulated broker has them, front month per part.
    static func brokerBars(_ series: Series, from: Date = from, to: Date = to) throws -> [Candle] {
        try contracts.frontMonths(series.instrument, from: from, to: to).flatMap { part in
            try market.candles(
                symbol: part.contract.symbol, timeframe: series.timeframe, from: part.interval.start,
                to: part.interval.end, asOf: now)
        }
        .filter(\.isFinal)
    }

    /// A source answering from the simulated market as it stands at `now`.
    static func source() -> ScriptedCandleSource {
        ScriptedCandleSource { chart, range in
            try market.candles(
                symbol: chart.symbol, timeframe: chart.timeframe, from: range.lowerBound, to: range.upperBound,
                asOf: now)
        }
    }

    /// 20:00Z → 00:55Z: 24 bars before the halt (NQZ5), 24 after the roll (NQH6), one run of 48 expected bars.
    static let hole = Set(
        Week.starts(Week.nq5, "2025-12-10T20:00:00Z", through: "2025-12-10T21:55:00Z")
            + Week.starts(Week.nq5, "2025-12-10T23:00:00Z", through: "2025-12-11T00:55:00Z"))
}

@Suite("Verifier: repair", .timeLimit(.minutes(10)))
struct RepairTests {
    @Test("the simulated broker has every expected bar of the two days (the fixture is sound)")
    func fixture() async throws {
        let sink = MemoryCandleSink()
        _ = try await sink.write(try RollDays.brokerBars(Week.nq5) + RollDays.brokerBars(Week.es15))
        let report = try await Verifier(sink: sink).verify(
            [Week.nq5, Week.es15], from: RollDays.from, to: RollDays.to, now: RollDays.now)
        #expect(report.isComplete)
        #expect(report.series[0].expected == 2 * 23 * 12)
    }

    @Test("repair fills a hole across the halt and the roll, per front-month contract; re-verify is complete")
    func fillsHole() async throws {
        let sink = MemoryCandleSink()
        let forming = Week.utc("2025-12-11T01:00:00Z")
        let stored = try RollDays.brokerBars(Week.nq5).filter {
            !RollDays.hole.contains($0.start) && $0.start != forming
        }
        _ = try await sink.write(stored + [Week.bar(Week.nq5, forming, symbol: "NQH6", final: false)])
        let verifier = Verifier(sink: sink, configuration: .init(retry: .immediate))
        let before = try await verifier.verify(
            [Week.nq5], from: RollDays.from, to: RollDays.to, now: RollDays.now)
        #expect(before.series[0].missingRanges.map(\.bars) == [49])  // the hole plus the forming-only 01:00Z bar
        #expect(before.series[0].nonFinal == [forming])

        let source = RollDays.source()
        let repair = try await verifier.repair(before, from: source, into: sink, contracts: RollDays.contracts)
        #expect(repair.isComplete)
        #expect(repair.exitCode == 0)
        #expect(repair.fetched == 49)
        #expect(repair.written == 49)
        #expect(repair.stillMissing == 0)
        #expect(repair.series[0].requests == 2)
        #expect(repair.after.series[0].stored == 2 * 23 * 12)
        #expect(repair.after.now == before.now)

        let requests = await source.historyRequests
        #expect(requests.map(\.chart.symbol) == ["NQZ5", "NQH6"])
        #expect(requests.first?.range == Week.utc("2025-12-10T20:00:00Z")..<RollDays.roll)
        #expect(requests.last?.range == RollDays.roll..<Week.utc("2025-12-11T01:05:00Z"))
        // The filled bars carry the front month of their start.
        let filled = try await sink.candles(
            of: Week.nq5, in: Week.utc("2025-12-10T21:55:00Z")..<Week.utc("2025-12-10T23:05:00Z"))
        #expect(filled.map(\.symbol) == ["NQZ5", "NQH6"])
        #expect(filled.allSatisfy { $0.isFinal })
    }

    @Test("bars the broker does not have stay missing and are listed; exit 1")
    func brokerLacksBars() async throws {
        let sink = MemoryCandleSink()
        let broker = try RollDays.brokerBars(Week.nq5)
        _ = try await sink.write(broker.filter { !RollDays.hole.contains($0.start) })
        // The broker lost 20:30Z–20:45Z and 23:00Z.
        let lost = Set(
            Week.starts(Week.nq5, "2025-12-10T20:30:00Z", through: "2025-12-10T20:45:00Z")
                + [RollDays.roll])
        let source = ScriptedCandleSource(history: broker.filter { !lost.contains($0.start) })
        let verifier = Verifier(sink: sink, configuration: .init(retry: .immediate))
        let before = try await verifier.verify([Week.nq5], from: RollDays.from, to: RollDays.to, now: RollDays.now)
        let repair = try await verifier.repair(before, from: source, into: sink, contracts: RollDays.contracts)
        #expect(!repair.isComplete)
        #expect(repair.exitCode == 1)
        #expect(repair.fetched == 48 - 5)
        #expect(repair.written == 48 - 5)
        #expect(repair.stillMissing == 5)
        #expect(
            repair.series[0].stillMissing == [
                BarRange(
                    first: Week.utc("2025-12-10T20:30:00Z"), last: Week.utc("2025-12-10T20:45:00Z"), bars: 4,
                    timeframe: .fiveMinutes),
                BarRange(first: RollDays.roll, last: RollDays.roll, bars: 1, timeframe: .fiveMinutes),
            ])
        #expect(repair.series[0].failures.isEmpty)
    }

    @Test("transient source errors are retried with backoff on the injected clock")
    func retriesWithBackoff() async throws {
        let sink = MemoryCandleSink()
        let hole = Set(Week.starts(Week.nq5, "2025-12-11T14:00:00Z", through: "2025-12-11T14:10:00Z"))
        _ = try await sink.write(try RollDays.brokerBars(Week.nq5).filter { !hole.contains($0.start) })
        let clock = ManualWallClock(now: RollDays.now)
        let verifier = Verifier(
            sink: sink,
            configuration: .init(
                retry: .init(maximumAttempts: 4, initialDelay: .seconds(5), maximumDelay: .seconds(60))),
            clock: clock)
        let before = try await verifier.verify([Week.nq5], from: RollDays.from, to: RollDays.to)
        let source = RollDays.source()
        await source.failNextHistory(2, with: CandleSourceError(.timeout, "no answer"))
        let repairing = Task { try await verifier.repair(before, from: source, into: sink) }

        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == RollDays.now.addingTimeInterval(5))
        clock.advance(by: 5)
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == RollDays.now.addingTimeInterval(15))
        clock.advance(by: 10)
        let repair = try await repairing.value
        #expect(repair.isComplete)
        #expect(repair.series[0].requests == 3)
        #expect(repair.written == 3)
        #expect(await source.historyRequests.count == 3)
    }

    @Test("a transient error that outlasts the retries, or a permanent one, is a failure: exit 2")
    func failures() async throws {
        let sink = MemoryCandleSink()
        let hole = Set(Week.starts(Week.nq5, "2025-12-11T14:00:00Z", through: "2025-12-11T14:10:00Z"))
        _ = try await sink.write(try RollDays.brokerBars(Week.nq5).filter { !hole.contains($0.start) })
        let verifier = Verifier(sink: sink, configuration: .init(retry: .init(maximumAttempts: 3, initialDelay: .zero)))
        let before = try await verifier.verify([Week.nq5], from: RollDays.from, to: RollDays.to, now: RollDays.now)

        let flaky = RollDays.source()
        await flaky.failNextHistory(3)
        let exhausted = try await verifier.repair(before, from: flaky, into: sink)
        #expect(exhausted.exitCode == 2)
        #expect(exhausted.series[0].failures.count == 1)
        #expect(exhausted.series[0].failures.first?.attempts == 3)
        #expect(exhausted.series[0].failures.first?.symbol == "NQH6")
        #expect(exhausted.series[0].failures.first?.error.code == .sourceFailed)
        #expect(exhausted.series[0].stillMissingBars == 3)

        let refusing = RollDays.source()
        await refusing.failNextHistory(1, with: CandleSourceError(.unknownSymbol, "no such contract"))
        let refused = try await verifier.repair(before, from: refusing, into: sink)
        #expect(refused.exitCode == 2)
        #expect(refused.series[0].failures.first?.attempts == 1)
        #expect(refused.series[0].failures.first?.error.message.contains("no such contract") == true)
        #expect(await refusing.historyRequests.count == 1)

        // The source works again: the same report repairs completely.
        let repaired = try await verifier.repair(before, from: RollDays.source(), into: sink)
        #expect(repaired.exitCode == 0)
    }

    @Test("an unverified series is not repaired; the re-verification reports its state")
    func unverifiedSeries() async throws {
        let sink = MemoryCandleSink()
        let report = VerificationReport(
            from: RollDays.from, to: RollDays.to, now: RollDays.now, store: "test",
            series: [.failed(Week.nq5, VerificationError(.storeUnavailable, "down"))])
        let source = RollDays.source()
        let repair = try await Verifier(sink: sink).repair(report, from: source, into: sink)
        #expect(await source.historyRequests.isEmpty)
        #expect(repair.series[0].requests == 0)
        // Re-verification reads the (empty) sink: everything is missing now, and nothing failed during repair.
        #expect(repair.after.series[0].isVerified)
        #expect(repair.exitCode == 1)
    }
}
