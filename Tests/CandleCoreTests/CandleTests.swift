import CandleCore
import Foundation
import Testing

@Suite("Candle")
struct CandleTests {
    static func bar(
        symbol: String = "NQZ5", start: String = "2025-11-17T14:35:00Z",
        o: Double = 100, h: Double = 101, l: Double = 99.5, c: Double = 100.75,
        up: Int64 = 10, down: Int64 = 5, final: Bool = true
    ) -> Candle {
        Candle(
            symbol: symbol, instrument: .nq, timeframe: .fiveMinutes, start: iso(start), open: o, high: h, low: l,
            close: c, upVolume: up, downVolume: down, upTicks: 7, downTicks: 3, isFinal: final)
    }

    @Test("a good bar validates and exposes its key, end and volume")
    func valid() throws {
        let candle = Self.bar()
        try candle.validate()
        #expect(candle.volume == 15)
        #expect(candle.end == iso("2025-11-17T14:40:00Z"))
        #expect(candle.key == Candle.Key(symbol: "NQZ5", timeframe: .fiveMinutes, start: iso("2025-11-17T14:35:00Z")))
        #expect(candle.description.contains("NQZ5 5min"))
        try Self.bar(symbol: "NQ").validate()  // continuous / root-level series
        try Self.bar(o: 100, h: 100, l: 100, c: 100).validate()  // a flat bar
    }

    @Test(
        "each broken invariant names its code",
        arguments: [
            (bar(o: .nan), "nonFinitePrice"),
            (bar(h: .infinity), "nonFinitePrice"),
            (bar(c: 100.1), "offTickGrid"),
            (bar(h: 100.5, c: 100.75), "highTooLow"),
            (bar(h: 99, l: 99.5), "highTooLow"),
            (bar(l: 100.25), "lowTooHigh"),
            (bar(up: -1), "negativeVolume"),
            (bar(start: "2025-11-17T14:36:00Z"), "misalignedStart"),
            (bar(symbol: "ESZ5"), "symbolMismatch"),
            (bar(symbol: "MNQZ5"), "symbolMismatch"),
            (bar(symbol: "garbage"), "symbolMismatch"),
        ])
    func invalid(candle: Candle, code: String) {
        let error = #expect(throws: CandleValidationError.self) { try candle.validate() }
        #expect(error?.code.description == code)
        #expect(error?.key == candle.key)
        #expect(
            error?.description.hasPrefix("invalid bar NQ") == true || error?.description.contains("invalid bar") == true
        )
    }

    @Test("negative bid volume is caught too")
    func negativeBid() {
        var candle = Self.bar()
        candle.bidVolume = -3
        let error = #expect(throws: CandleValidationError.self) { try candle.validate() }
        #expect(error?.message == "bidVolume -3 is negative")
    }

    @Test("round-trips through JSON")
    func codable() throws {
        var candle = Self.bar(final: false)
        candle.offerVolume = 4
        let decoded = try JSONDecoder().decode(Candle.self, from: JSONEncoder().encode(candle))
        #expect(decoded == candle)
    }
}
