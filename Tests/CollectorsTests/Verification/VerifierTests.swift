import CandleCore
import Foundation
import Testing

@testable import Collectors

@Suite("Verifier: memory sink", .timeLimit(.minutes(10)))
struct VerifierTests {
    @Test("a complete week is complete, exit 0")
    func completeWeek() async throws {
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5) + Week.bars(Week.es15))
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
            #expect(report.isComplete)
            #expect(report.exitCode == 0)
            #expect(report.series.map(\.series) == [Week.nq5, Week.es15])
            let nq = report.series[0]
            #expect(nq.expected == Week.nq5Expected)
            #expect(nq.stored == Week.nq5Expected)
            #expect(nq.missing == 0 && nq.missingRanges.isEmpty)
            #expect(nq.duplicates.isEmpty && nq.nonFinal.isEmpty && nq.unexpected.isEmpty)
            #expect(nq.notDue == 0)
            #expect(report.series[1].expected == Week.es15Expected)
            #expect(report.series[1].stored == Week.es15Expected)
            #expect(report.totals.expected == Week.nq5Expected + Week.es15Expected)
        }
    }

    @Test("holes are reported as exact runs of expected bars, across the daily halt")
    func holes() async throws {
        let hole = Week.starts(Week.nq5, "2025-12-03T14:05:00Z", through: "2025-12-03T14:25:00Z")
        // 16:55 and 18:00 New York on Wednesday: consecutive expected bars around the 22:00–23:00Z halt.
        let acrossHalt = [Week.utc("2025-12-03T21:55:00Z"), Week.utc("2025-12-03T23:00:00Z")]
        let single = [Week.utc("2025-12-01T00:00:00Z")]
        let omitted = Set(hole + acrossHalt + single)
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5, omitting: omitted))
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            let nq = report.series[0]
            #expect(!report.isComplete)
            #expect(report.exitCode == 1)
            #expect(nq.expected == Week.nq5Expected)
            #expect(nq.stored == Week.nq5Expected - 8)
            #expect(nq.missing == 8)
            #expect(
                nq.missingRanges == [
                    BarRange(first: single[0], last: single[0], bars: 1, timeframe: .fiveMinutes),
                    BarRange(first: hole.first!, last: hole.last!, bars: 5, timeframe: .fiveMinutes),
                    BarRange(first: acrossHalt[0], last: acrossHalt[1], bars: 2, timeframe: .fiveMinutes),
                ])
            #expect(nq.missingRanges[1].description == "2025-12-03 14:05 → 14:25 (5 bars)")
            #expect(nq.missingRanges[1].end == Week.utc("2025-12-03T14:30:00Z"))
            #expect(nq.missingRanges[0].description == "2025-12-01 00:00 (1 bar)")
        }
    }

    @Test("an empty series is one missing run per week")
    func emptySeries() async throws {
        try await withMemorySink { sink in
            let report = try await Verifier(sink: sink).verify(
                [Week.es15], from: Week.from, to: Week.to, now: Week.after)
            let es = report.series[0]
            #expect(es.stored == 0)
            #expect(es.missing == Week.es15Expected)
            #expect(es.missingRanges.count == 1)
            #expect(es.missingRanges.first?.first == Week.utc("2025-11-30T23:00:00Z"))
            #expect(es.missingRanges.first?.last == Week.utc("2025-12-05T21:45:00Z"))
        }
    }

    @Test("two contracts at one start are a duplicate; exit 1")
    func duplicates() async throws {
        let start = Week.utc("2025-12-02T15:00:00Z")
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5) + [Week.bar(Week.nq5, start, symbol: "NQH6")])
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            let nq = report.series[0]
            #expect(nq.duplicates == [DuplicateBar(start: start, symbols: ["NQH6", "NQZ5"])])
            #expect(nq.stored == Week.nq5Expected)
            #expect(nq.missing == 0)
            #expect(!nq.isComplete)
            #expect(report.exitCode == 1)
        }
    }

    @Test("a bar stored only as forming is non-final and missing; exit 1")
    func nonFinal() async throws {
        let start = Week.utc("2025-12-04T10:10:00Z")
        try await withMemorySink { sink in
            _ = try await sink.write(
                Week.bars(Week.nq5, omitting: [start]) + [Week.bar(Week.nq5, start, final: false)])
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            let nq = report.series[0]
            #expect(nq.nonFinal == [start])
            #expect(nq.missing == 1)
            #expect(nq.missingRanges == [BarRange(first: start, last: start, bars: 1, timeframe: .fiveMinutes)])
            #expect(report.exitCode == 1)
        }
    }

    @Test("confirmed-empty bars are not missing; a failing lookup means exit 2")
    func confirmedEmpty() async throws {
        let empty = Week.utc("2025-12-02T07:00:00Z")
        let hole = Week.utc("2025-12-02T07:05:00Z")
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5, omitting: [empty, hole]))
            let verifier = Verifier(sink: sink) { series, range in
                #expect(series == Week.nq5)
                #expect(range == Week.from..<Week.to)
                return [empty]
            }
            let report = try await verifier.verify([Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            let nq = report.series[0]
            #expect(nq.confirmedEmpty == 1)
            #expect(nq.missingRanges == [BarRange(first: hole, last: hole, bars: 1, timeframe: .fiveMinutes)])
            #expect(nq.expected == nq.stored + nq.missing + nq.confirmedEmpty)

            let failing = Verifier(sink: sink) { _, _ in throw CandleSinkError(.unavailable, "ledger down") }
            let failed = try await failing.verify([Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            #expect(failed.series[0].failure?.code == .confirmedEmptyFailed)
            #expect(failed.exitCode == 2)
        }
    }

    @Test("the bar forming at now is not missing; later bars are not due")
    func formingBarAtNow() async throws {
        let now = Week.utc("2025-12-03T14:32:10Z")
        let forming = Week.utc("2025-12-03T14:30:00Z")
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5, now: now) + [Week.bar(Week.nq5, forming, final: false)])
            let clock = ManualWallClock(now: now)
            let report = try await Verifier(sink: sink, clock: clock).verify([Week.nq5], from: Week.from, to: Week.to)
            let nq = report.series[0]
            #expect(report.now == now)
            #expect(report.isComplete)
            #expect(nq.nonFinal.isEmpty)
            #expect(nq.missing == 0)
            // Sunday 23:00Z … Wednesday 14:25Z starts: two full sessions, Tuesday 23:00Z → 14:30Z.
            let dueBars = 2 * 23 * 12 + (15 * 60 + 30) / 5
            #expect(nq.expected == dueBars)
            #expect(nq.notDue == Week.nq5Expected - dueBars)
        }
    }

    @Test("bars where the calendar expects none are unexpected, but do not make the series incomplete")
    func unexpected() async throws {
        let inHalt = Week.utc("2025-12-03T22:30:00Z")
        let saturday = Week.utc("2025-12-06T12:00:00Z")
        try await withMemorySink { sink in
            _ = try await sink.write(
                Week.bars(Week.nq5) + [Week.bar(Week.nq5, inHalt), Week.bar(Week.nq5, saturday)])
            let report = try await Verifier(sink: sink).verify(
                [Week.nq5], from: Week.from, to: Week.utc("2025-12-07T00:00:00Z"), now: Week.after)
            #expect(report.series[0].unexpected == [inHalt, saturday])
            #expect(report.isComplete)
            #expect(report.exitCode == 0)
        }
    }

    @Test("a bar cut by an early close is due once the market closes")
    func earlyClose() {
        // Friday 2025-11-28, day after Thanksgiving: early close 13:15 New York = 18:15Z, inside the 18:00Z 30-min bar.
        let series = Series(.nq, .thirtyMinutes)
        let from = Week.utc("2025-11-28T17:00:00Z")
        let to = Week.utc("2025-11-29T00:00:00Z")
        let cut = Week.utc("2025-11-28T18:00:00Z")
        let before = SeriesAudit(
            series: series, from: from, to: to, now: Week.utc("2025-11-28T18:14:00Z"), calendar: Week.calendar)
        #expect(before.due == [Week.utc("2025-11-28T17:00:00Z"), Week.utc("2025-11-28T17:30:00Z")])
        #expect(before.notDue == 1)
        let after = SeriesAudit(
            series: series, from: from, to: to, now: Week.utc("2025-11-28T18:15:00Z"), calendar: Week.calendar)
        #expect(after.due.last == cut)
        #expect(after.notDue == 0)
    }

    @Test("a sink that cannot be read makes the series unverified, exit 2; the others are still checked")
    func unreachableSink() async throws {
        let sink = MemoryCandleSink()
        _ = try await sink.write(Week.bars(Week.es15))
        let failingReader = StoredCandleReader(name: "half-broken") { series, range in
            if series == Week.nq5 { throw CandleSinkError(.unavailable, series: series, "connection refused") }
            return try await sink.candles(of: series, in: range)
        }
        let report = try await Verifier(reader: failingReader).verify(
            [Week.nq5, Week.es15], from: Week.from, to: Week.to, now: Week.after)
        #expect(report.series[0].failure?.code == .storeUnavailable)
        #expect(report.series[0].failure?.message.contains("connection refused") == true)
        #expect(report.series[1].isComplete)
        #expect(report.hasFailures)
        #expect(report.exitCode == 2)

        await sink.close()
        let closed = try await Verifier(sink: sink).verify([Week.es15], from: Week.from, to: Week.to, now: Week.after)
        #expect(closed.series[0].failure?.code == .storeUnavailable)
        #expect(closed.exitCode == 2)
    }

    @Test("an empty range or no series is refused")
    func invalidRequest() async throws {
        let verifier = Verifier(sink: MemoryCandleSink())
        await #expect(throws: VerificationError.self) {
            try await verifier.verify([Week.nq5], from: Week.to, to: Week.from, now: Week.after)
        }
        do {
            _ = try await verifier.verify([], from: Week.from, to: Week.to, now: Week.after)
            Issue.record("verify with no series did not throw")
        } catch let error as VerificationError {
            #expect(error.code == .invalidRequest)
        }
    }

    @Test("series are read concurrently, at most maximumConcurrency at a time, results in order")
    func boundedConcurrency() async throws {
        let sink = MemoryCandleSink()
        let all = Instrument.builtIns.flatMap { instrument in Timeframe.seedDefaults.map { Series(instrument, $0) } }
        let probe = ConcurrencyProbe()
        let reader = StoredCandleReader(name: "probe") { series, range in
            await probe.enter()
            await Task.yield()
            let candles = try await sink.candles(of: series, in: range)
            await Task.yield()
            await probe.leave()
            return candles
        }
        let verifier = Verifier(reader: reader, configuration: .init(maximumConcurrency: 3))
        let report = try await verifier.verify(all, from: Week.from, to: Week.to, now: Week.after)
        #expect(report.series.map(\.series) == all)
        #expect(await probe.calls == all.count)
        #expect(await probe.maximum <= 3)
        #expect(await probe.maximum >= 1)
    }

    @Test("reads are split into windows")
    func windows() async throws {
        try await withMemorySink { sink in
            _ = try await sink.write(Week.bars(Week.nq5))
            let ranges = RangeLog()
            let reader = StoredCandleReader(name: "windows", window: .seconds(86_400)) { series, range in
                await ranges.append(range)
                return try await sink.candles(of: series, in: range)
            }
            let report = try await Verifier(reader: reader).verify(
                [Week.nq5], from: Week.from, to: Week.to, now: Week.after)
            #expect(report.isComplete)
            #expect(report.series[0].stored == Week.nq5Expected)
            let logged = await ranges.ranges
            #expect(logged.count == 6)
            #expect(logged.first?.lowerBound == Week.from)
            #expect(logged.last?.upperBound == Week.to)
        }
    }
}

actor RangeLog {
    private(set) var ranges: [Range<Date>] = []
    func append(_ range: Range<Date>) { ranges.append(range) }
}
