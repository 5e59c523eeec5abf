import CandleCore
import Foundation
import Testing

@Suite("Aggregation")
struct AggregationTests {
    let aggregator = CandleAggregator()

    static func five(
        _ start: String, _ o: Double, _ h: Double, _ l: Double, _ c: Double, up: Int64, down: Int64,
        final: Bool = true, bid: Int64? = nil
    ) -> Candle {
        Candle(
            symbol: "NQZ6", instrument: .nq, timeframe: .fiveMinutes, start: iso(start), open: o, high: h, low: l,
            close: c, upVolume: up, downVolume: down, upTicks: up / 2, downTicks: down / 2, bidVolume: bid,
            offerVolume: bid.map { $0 + 1 }, isFinal: final)
    }

    @Test("three 5-minute bars make the right 15-minute bar")
    func fifteen() throws {
        let bars = [
            Self.five("2026-11-17T14:30:00Z", 100, 102, 99, 101, up: 10, down: 4, bid: 5),
            Self.five("2026-11-17T14:35:00Z", 101, 104.25, 100.5, 103, up: 20, down: 6, bid: 7),
            Self.five("2026-11-17T14:40:00Z", 103, 103.5, 98.75, 99.5, up: 8, down: 12, bid: 9),
        ]
        let result = try aggregator.aggregate(bars.shuffled(), into: .fifteenMinutes)
        #expect(result.count == 1)
        let bar = try #require(result.first)
        #expect(bar.start == iso("2026-11-17T14:30:00Z"))
        #expect(bar.timeframe == .fifteenMinutes)
        #expect(bar.symbol == "NQZ6")
        #expect([bar.open, bar.high, bar.low, bar.close] == [100, 104.25, 98.75, 99.5])
        #expect([bar.upVolume, bar.downVolume, bar.volume] == [38, 22, 60])
        #expect([bar.upTicks, bar.downTicks] == [19, 11])
        #expect(bar.bidVolume == 21)
        #expect(bar.offerVolume == 24)
        #expect(bar.isFinal)
        try bar.validate()
    }

    @Test("a partial group is flagged as not final")
    func partial() throws {
        let bars = [
            Self.five("2026-11-17T14:30:00Z", 100, 102, 99, 101, up: 10, down: 4),
            Self.five("2026-11-17T14:35:00Z", 101, 104, 100, 103, up: 20, down: 6),
        ]
        let bar = try #require(try aggregator.aggregate(bars, into: .fifteenMinutes).first)
        #expect(!bar.isFinal)
        #expect(bar.close == 103)
        #expect(bar.bidVolume == nil)
    }

    @Test("a group containing a forming source bar is not final")
    func formingSource() throws {
        let bars = [
            Self.five("2026-11-17T14:30:00Z", 100, 102, 99, 101, up: 10, down: 4),
            Self.five("2026-11-17T14:35:00Z", 101, 104, 100, 103, up: 20, down: 6),
            Self.five("2026-11-17T14:40:00Z", 103, 103, 101, 102, up: 1, down: 1, final: false),
        ]
        #expect(try aggregator.aggregate(bars, into: .fifteenMinutes).first?.isFinal == false)
    }

    @Test("60-minute bars from a full hour and the group before a halt")
    func hourly() throws {
        var bars: [Candle] = []
        var price = 100.0
        for minute in stride(from: 0, to: 60, by: 5) {
            let m = minute < 10 ? "0\(minute)" : "\(minute)"
            bars.append(Self.five("2026-11-17T21:\(m):00Z", price, price + 1, price - 1, price + 0.5, up: 1, down: 1))
            price += 0.5
        }
        let result = try aggregator.aggregate(bars, into: .oneHour)
        #expect(result.count == 1)
        #expect(result[0].isFinal)  // 21:00–22:00 UTC ends at the 17:00 EST halt
        #expect(result[0].volume == 24)
        #expect(result[0].high == 106.5)
    }

    @Test("a bar cut short by an early close is complete with fewer sources")
    func earlyClose() throws {
        // 2025-12-24 closes 18:15 UTC: the 30-minute bar at 18:00 needs only 18:00, 18:05 and 18:10.
        let bars = ["18:00", "18:05", "18:10"].map {
            Candle(
                symbol: "NQH6", instrument: .nq, timeframe: .fiveMinutes, start: iso("2025-12-24T\($0):00Z"), open: 1,
                high: 2, low: 1, close: 2, upVolume: 1)
        }
        let bar = try #require(try aggregator.aggregate(bars, into: .thirtyMinutes).first)
        #expect(bar.isFinal)
    }

    @Test("aggregation never joins two sessions")
    func crossesSession() {
        // 3-hour bars 21:00–24:00 UTC contain the 22:00–23:00 UTC halt (EST): bars on both sides cannot be joined.
        let bars = [
            Self.five("2026-11-17T21:55:00Z", 100, 101, 99, 100, up: 1, down: 1),
            Self.five("2026-11-17T23:00:00Z", 100, 101, 99, 100, up: 1, down: 1),
        ]
        let error = #expect(throws: AggregationError.self) {
            try aggregator.aggregate(bars, into: try Timeframe(minutes: 180))
        }
        #expect(error?.code == .crossesSessionBoundary)
    }

    @Test("separate contracts stay separate")
    func perContract() throws {
        var other = Self.five("2026-11-17T14:30:00Z", 200, 201, 199, 200, up: 1, down: 1)
        other.symbol = "NQH7"
        let result = try aggregator.aggregate(
            [Self.five("2026-11-17T14:30:00Z", 100, 102, 99, 101, up: 1, down: 1), other], into: .fifteenMinutes)
        #expect(result.map(\.symbol) == ["NQH7", "NQZ6"])
    }

    @Test("invalid requests are rejected with their code")
    func invalid() throws {
        let a = Self.five("2026-11-17T14:30:00Z", 100, 102, 99, 101, up: 1, down: 1)
        var b = a
        b.timeframe = .fifteenMinutes
        var c = a
        c.instrument = .es
        let cases: [([Candle], Timeframe, AggregationError.Code)] = [
            ([a, b], .oneHour, .mixedTimeframes),
            ([a, c], .oneHour, .mixedInstruments),
            ([a], .fiveMinutes, .incompatibleTimeframes),
            ([a], try Timeframe(minutes: 12), .incompatibleTimeframes),
            ([a, a], .fifteenMinutes, .duplicateSource),
        ]
        for (bars, target, code) in cases {
            let error = #expect(throws: AggregationError.self) { try aggregator.aggregate(bars, into: target) }
            #expect(error?.code == code)
        }
        #expect(try aggregator.aggregate([], into: .oneHour).isEmpty)
    }
}
