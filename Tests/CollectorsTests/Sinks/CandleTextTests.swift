import Foundation
import Testing

@testable import Collectors

@Suite("Sink text encoding")
struct CandleTextTests {
    private func text(_ body: (inout [UInt8]) -> Void) -> String {
        var bytes: [UInt8] = []
        body(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func parseTime(_ string: String) -> Int64? {
        Array(string.utf8).withUnsafeBufferPointer { CandleText.parseTime($0) }
    }

    private func parseDouble(_ string: String) -> Double? {
        Array(string.utf8).withUnsafeBufferPointer { CandleText.parseDouble($0) }
    }

    @Test(
        "UTC times format and parse like ISO8601FormatStyle",
        arguments: [0, 951_782_400, 1_762_182_000, 4_102_444_799, -86_400, 1_709_164_800] as [Int64])
    func times(_ seconds: Int64) {
        let iso = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
        #expect(CandleText.time(seconds, style: .iso8601) == iso)
        #expect(parseTime(iso) == seconds)
        let postgres = CandleText.time(seconds, style: .postgres)
        #expect(postgres == iso.replacing("T", with: " ").replacing("Z", with: "+00"))
        #expect(parseTime(postgres) == seconds)
        #expect(parseTime(iso.replacing("Z", with: "+00:00")) == seconds)
    }

    @Test("malformed or non-UTC times are refused")
    func badTimes() {
        for bad in ["2025-13-01T00:00:00Z", "2025-01-01T00:00:00+01:00", "2025-01-01", "2025-01-01T24:00:00Z", ""] {
            #expect(parseTime(bad) == nil, "\(bad)")
        }
    }

    @Test("prices: at most four decimals when exact, otherwise the shortest round-trip form")
    func prices() {
        let cases: [(Double, String)] = [
            (21_000.25, "21000.25"), (21_000, "21000"), (0.0001, "0.0001"), (-3.5, "-3.5"), (1.08765, "1.08765"),
            (0.1 + 0.2, "0.30000000000000004"), (99_999_999.9999, "99999999.9999"),
        ]
        for (value, expected) in cases {
            let written = text { CandleText.appendPrice(value, to: &$0) }
            #expect(written == expected)
            #expect(parseDouble(written) == value)
        }
        #expect(CandleText.roundedScaled4(0.1 + 0.2) == 3_000)
        #expect(CandleText.roundedScaled4(1.08765) == nil)
        #expect(text { CandleText.appendScaled4(-25, to: &$0) } == "-0.0025")
    }

    @Test("integers and decimals parse exactly, with a fallback for long forms")
    func numbers() {
        for value: Int64 in [0, 7, -42, Int64.max, Int64.min + 1] {
            #expect(text { CandleText.appendInt(value, to: &$0) } == String(value))
            #expect(Array(String(value).utf8).withUnsafeBufferPointer { CandleText.parseInt($0) } == value)
        }
        #expect(text { CandleText.appendInt(.min, to: &$0) } == String(Int64.min))
        #expect(Array("12a".utf8).withUnsafeBufferPointer { CandleText.parseInt($0) } == nil)
        #expect(Array("99999999999999999999".utf8).withUnsafeBufferPointer { CandleText.parseInt($0) } == nil)
        #expect(parseDouble("1e3") == 1_000)
        #expect(parseDouble("0.123456789012345678") == 0.123456789012345678)
        #expect(parseDouble("-") == nil)
        #expect(parseDouble("abc") == nil)
    }

    @Test("CRC-32 check value")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test("write reports add up and describe themselves")
    func reports() {
        var report = CandleWriteReport(inserted: 1, updated: 2)
        report += CandleWriteReport(unchanged: 3, buffered: 4)
        #expect(report.total == 10 && report.written == 3)
        #expect("\(report)" == "1 inserted, 2 updated, 3 unchanged, 4 buffered")
        #expect("\(CandleWriteReport.empty)" == "0 inserted, 0 updated, 0 unchanged")
    }

    @Test("sink errors scrub secrets from their text and name the series")
    func errors() {
        struct Cause: Error, CustomStringConvertible {
            var description: String { "server said: password hunter2 rejected" }
        }
        let error = CandleSinkError(
            .writeFailed, series: Bars.nq5, "cannot write to postgres://u:hunter2@h/db", underlying: Cause(),
            redacting: ["hunter2"])
        #expect(!"\(error)".contains("hunter2"))
        #expect("\(error)".hasPrefix("CandleSinkError.writeFailed [NQ 5min]: cannot write to postgres://u:***@h/db"))
        #expect(error.isRetryable)
        #expect(!CandleSinkError(.invalidCandle, "x").isRetryable)
        #expect("\(CandleSinkError.Code.backpressure)" == "backpressure")
    }
}
