import CandleCore
import Foundation
import Testing

@Suite("Timeframe")
struct TimeframeTests {
    @Test(
        "parses the old system's spellings",
        arguments: [
            ("5", 5), ("5m", 5), ("5min", 5), ("5mins", 5), ("15min", 15), ("30 min", 30), ("1h", 60), ("60", 60),
            ("1hour", 60), ("1HOUR", 60), ("2h", 120), ("1d", 1440), (" 15m ", 15), ("1", 1), ("1440", 1440),
        ])
    func parses(text: String, minutes: Int) throws {
        #expect(try Timeframe(parsing: text).minutes == minutes)
        #expect(Timeframe(text)?.minutes == minutes)
    }

    @Test(
        "rejects bad text and out-of-range lengths",
        arguments: [
            ("", "unparsable"), ("abc", "unparsable"), ("5x", "unparsable"), ("-5", "unparsable"), ("m5", "unparsable"),
            ("0", "outOfRange"), ("1441", "outOfRange"), ("25h", "outOfRange"), ("2d", "outOfRange"),
        ])
    func rejects(text: String, code: String) {
        let error = #expect(throws: TimeframeError.self) { try Timeframe(parsing: text) }
        #expect(error?.code.description == code)
        #expect(error?.description.isEmpty == false)
        #expect(Timeframe(text) == nil)
    }

    @Test("renders the seed table labels")
    func labels() throws {
        #expect(Timeframe.seedDefaults.map(\.label) == ["5min", "15min", "30min", "1hour"])
        #expect(try Timeframe(minutes: 120).label == "2hour")
        #expect(try Timeframe(minutes: 90).label == "90min")
        #expect(try Timeframe(minutes: 1).label == "1min")
    }

    @Test("floors instants and finds neighbouring boundaries")
    func boundaries() {
        let t = iso("2026-11-17T14:37:12Z")
        #expect(Timeframe.fiveMinutes.barStart(containing: t) == iso("2026-11-17T14:35:00Z"))
        #expect(Timeframe.fifteenMinutes.barStart(containing: t) == iso("2026-11-17T14:30:00Z"))
        #expect(Timeframe.oneHour.barStart(containing: t) == iso("2026-11-17T14:00:00Z"))
        #expect(Timeframe.fiveMinutes.nextBoundary(after: t) == iso("2026-11-17T14:40:00Z"))
        #expect(Timeframe.fiveMinutes.previousBoundary(before: t) == iso("2026-11-17T14:35:00Z"))
        let boundary = iso("2026-11-17T14:35:00Z")
        #expect(Timeframe.fiveMinutes.isAligned(boundary))
        #expect(!Timeframe.fiveMinutes.isAligned(t))
        #expect(Timeframe.fiveMinutes.nextBoundary(after: boundary) == iso("2026-11-17T14:40:00Z"))
        #expect(Timeframe.fiveMinutes.previousBoundary(before: boundary) == iso("2026-11-17T14:30:00Z"))
        #expect(Timeframe.thirtyMinutes.barEnd(startingAt: boundary) == iso("2026-11-17T15:05:00Z"))
        #expect(Timeframe.fiveMinutes.divides(.oneHour))
        #expect(!Timeframe.thirtyMinutes.divides(.fifteenMinutes))
    }

    @Test("codes as a minute count and decodes either form")
    func codable() throws {
        let data = try JSONEncoder().encode([Timeframe.oneHour])
        #expect(String(decoding: data, as: UTF8.self) == "[60]")
        let decoded = try JSONDecoder().decode([Timeframe].self, from: Data(#"[15, "1h", "5min"]"#.utf8))
        #expect(decoded == [.fifteenMinutes, .oneHour, .fiveMinutes])
        #expect(throws: TimeframeError.self) { try JSONDecoder().decode([Timeframe].self, from: Data("[0]".utf8)) }
    }
}
