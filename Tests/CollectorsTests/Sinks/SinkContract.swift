import CandleCore
import Foundation
import Testing

@testable import Collectors

/// The behaviour every ``CandleSink`` must show, written once and run against each backend (memory, files in both
/// formats, PostgreSQL in both layouts and both write paths): see `SinkContractTests.swift`.
enum SinkContractCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case insertAndReadBack
    case idempotentReinsert
    case formingToFinal
    case finalNotDowngraded
    case lateRevision
    case duplicatesInOneBatch
    case rangeQueries
    case latestBar
    case twoContractsInOneSeries
    case rejectsNaNPrice
    case rejectsHighBelowLow
    case rejectsMisalignedStart
    case emptyBatch
    case reopenKeepsBars
    case closedSinkRefuses

    var testDescription: String { rawValue }

    func run(_ harness: SinkHarness) async throws {
        switch self {
        case .reopenKeepsBars:
            try await reopen(harness)
        default:
            try await harness.run { sink in try await check(sink) }
        }
    }

    private func check(_ sink: any CandleSink) async throws {
        switch self {
        case .insertAndReadBack:
            let bars = [Bars.nq(0), Bars.nq(1, bidVolume: 40), Bars.es(0)]
            #expect(try await sink.write(bars) == CandleWriteReport(inserted: 3))
            #expect(try await sink.candles(of: Bars.nq5) == [bars[0], bars[1]])
            #expect(try await sink.candles(of: Bars.es15) == [bars[2]])

        case .idempotentReinsert:
            let bars = [Bars.nq(0), Bars.nq(1), Bars.es(0)]
            _ = try await sink.write(bars)
            #expect(try await sink.write(bars) == CandleWriteReport(unchanged: 3))
            #expect(try await sink.write(bars.reversed()) == CandleWriteReport(unchanged: 3))
            #expect(try await sink.candles(of: Bars.nq5).count == 2)

        case .formingToFinal:
            #expect(try await sink.write([Bars.nq(0, close: 21_001, final: false)]) == CandleWriteReport(inserted: 1))
            // The forming bar moves on, then closes.
            #expect(try await sink.write([Bars.nq(0, close: 21_001.5, final: false)]) == CandleWriteReport(updated: 1))
            let final = Bars.nq(0, close: 21_001.75, final: true)
            #expect(try await sink.write([final]) == CandleWriteReport(updated: 1))
            #expect(try await sink.candles(of: Bars.nq5) == [final])
            #expect(try await sink.candleStarts(of: Bars.nq5, in: Bars.everything, finalOnly: true) == [final.start])

        case .finalNotDowngraded:
            let final = Bars.nq(0, close: 21_001.75, final: true)
            _ = try await sink.write([final])
            #expect(try await sink.write([Bars.nq(0, close: 20_999, final: false)]) == CandleWriteReport(unchanged: 1))
            #expect(try await sink.candles(of: Bars.nq5) == [final])

        case .lateRevision:
            _ = try await sink.write([Bars.nq(0, upVolume: 120), Bars.nq(1)])
            let revised = Bars.nq(0, close: 21_000.75, upVolume: 125)
            #expect(try await sink.write([revised, Bars.nq(1)]) == CandleWriteReport(updated: 1, unchanged: 1))
            #expect(try await sink.candles(of: Bars.nq5) == [revised, Bars.nq(1)])

        case .duplicatesInOneBatch:
            // forming then final: the final wins; final then forming: the final stays; revisions: the last wins.
            let batch = [
                Bars.nq(0, close: 21_001, final: false), Bars.nq(0, close: 21_002, final: true),
                Bars.nq(1, close: 21_003, final: true), Bars.nq(1, close: 21_004, final: false),
                Bars.nq(2, upVolume: 1), Bars.nq(2, upVolume: 2),
            ]
            #expect(try await sink.write(batch) == CandleWriteReport(inserted: 3))
            #expect(
                try await sink.candles(of: Bars.nq5) == [
                    Bars.nq(0, close: 21_002, final: true), Bars.nq(1, close: 21_003, final: true),
                    Bars.nq(2, upVolume: 2),
                ])

        case .rangeQueries:
            let bars = (0..<10).map { Bars.nq($0, final: $0 != 3) } + [Bars.es(1)]
            _ = try await sink.write(bars)
            let range = Bars.start(2, .fiveMinutes)..<Bars.start(5, .fiveMinutes)
            #expect(
                try await sink.candleStarts(of: Bars.nq5, in: range) == (2..<5).map { Bars.start($0, .fiveMinutes) })
            #expect(
                try await sink.candleStarts(of: Bars.nq5, in: range, finalOnly: true)
                    == [2, 4].map {
                        Bars.start($0, .fiveMinutes)
                    })
            #expect(try await sink.candles(of: Bars.nq5, in: range) == Array(bars[2..<5]))
            // Half-open: a range ending at a start excludes it; an empty range is empty.
            #expect(try await sink.candles(of: Bars.nq5, in: range.lowerBound..<range.lowerBound).isEmpty)
            // A bar in the middle of a range boundary: the bar starting inside is included.
            let shifted = range.lowerBound.addingTimeInterval(-1)..<range.upperBound.addingTimeInterval(-1)
            #expect(try await sink.candleStarts(of: Bars.nq5, in: shifted).count == 3)
            // Other series and unknown series are separate.
            #expect(try await sink.candleStarts(of: Bars.es15, in: Bars.everything) == [Bars.start(1, .fifteenMinutes)])
            #expect(try await sink.candles(of: Series(.mes, .oneHour)).isEmpty)
            #expect(try await sink.candleStarts(of: Series(.nq, .fifteenMinutes), in: Bars.everything).isEmpty)

        case .latestBar:
            #expect(try await sink.latestCandleStart(of: Bars.nq5) == nil)
            _ = try await sink.write([Bars.nq(7), Bars.nq(3), Bars.nq(9, final: false), Bars.es(2)])
            #expect(try await sink.latestCandleStart(of: Bars.nq5) == Bars.start(9, .fiveMinutes))
            #expect(try await sink.latestCandleStart(of: Bars.es15) == Bars.start(2, .fifteenMinutes))
            #expect(try await sink.latestCandleStart(of: Series(.mnq, .fiveMinutes)) == nil)

        case .twoContractsInOneSeries:
            // Around a roll both contracts may be collected: one series, two keys per start.
            let front = Bars.nq(0, symbol: "NQZ5")
            let next = Bars.nq(0, close: 21_100.5, symbol: "NQH6")
            #expect(try await sink.write([front, next]) == CandleWriteReport(inserted: 2))
            #expect(try await sink.candles(of: Bars.nq5) == [next, front])  // ordered by start, then symbol
            #expect(try await sink.candleStarts(of: Bars.nq5, in: Bars.everything) == [front.start])

        case .rejectsNaNPrice:
            var bad = Bars.nq(1)
            bad.close = .nan
            try await expectRejected(sink, [Bars.nq(0), bad, Bars.es(0)], series: Bars.nq5, cause: .nonFinitePrice)

        case .rejectsHighBelowLow:
            var bad = Bars.es(0)
            bad.high = 6_000
            bad.low = 6_001
            try await expectRejected(sink, [Bars.nq(0), bad], series: Bars.es15, cause: .highTooLow)

        case .rejectsMisalignedStart:
            var bad = Bars.nq(2)
            bad.start = bad.start.addingTimeInterval(60)
            try await expectRejected(sink, [Bars.nq(0), Bars.nq(1), bad], series: Bars.nq5, cause: .misalignedStart)

        case .emptyBatch:
            #expect(try await sink.write([]) == .empty)
            #expect(try await sink.candles(of: Bars.nq5).isEmpty)

        case .closedSinkRefuses:
            _ = try await sink.write([Bars.nq(0)])
            try await sink.close()
            try await sink.close()  // harmless
            await #expect { _ = try await sink.write([Bars.nq(1)]) } throws: { isSinkError($0, .closed) }
            await #expect { _ = try await sink.latestCandleStart(of: Bars.nq5) } throws: { isSinkError($0, .closed) }

        case .reopenKeepsBars:
            break
        }
    }

    private func expectRejected(
        _ sink: any CandleSink, _ batch: [Candle], series: Series, cause: CandleValidationError.Code
    ) async throws {
        await #expect {
            _ = try await sink.write(batch)
        } throws: { error in
            guard let error = error as? CandleSinkError else { return false }
            let validation = error.underlying as? CandleValidationError
            return error.code == .invalidCandle && error.series == series && validation?.code == cause
                && "\(error)".contains("invalid bar") && "\(error)".contains("nothing written")
        }
        #expect(throws: CandleSinkError.self) { try sink.validate(batch) }
        // Nothing of the batch was written, not even its good bars.
        #expect(try await sink.candles(of: Bars.nq5).isEmpty)
        #expect(try await sink.candles(of: Bars.es15).isEmpty)
        #expect(try await sink.latestCandleStart(of: Bars.nq5) == nil)
    }

    private func reopen(_ harness: SinkHarness) async throws {
        guard harness.isPersistent else { return }
        let bars = [Bars.nq(0), Bars.nq(1, final: false), Bars.es(0)]
        let first = try await harness.open()
        _ = try await first.write(bars)
        _ = try await first.write([Bars.nq(1, close: 21_001.25, final: true)])
        try await first.close()
        let second = try await harness.open()
        let expected = [Bars.nq(0), Bars.nq(1, close: 21_001.25, final: true)]
        #expect(try await second.candles(of: Bars.nq5) == expected)
        #expect(try await second.write(expected) == CandleWriteReport(unchanged: 2))
        #expect(try await second.latestCandleStart(of: Bars.es15) == Bars.start(0, .fifteenMinutes))
        try await second.close()
        try await harness.cleanup()
    }
}
