import CandleTesting
import Collectors
import Foundation
import Testing

@testable import MarketData

/// Malformed frames throw ``MarketDataProtocolError`` and never trap.
@Suite("Market-data wire: malformed input", .timeLimit(.minutes(10)))
struct WireMalformedTests {
    /// A realistic frame: a response, a subscription result, a chart event with two packets, and an eoh.
    static let realFrame = """
        a[{"s":200,"i":1},{"s":200,"i":13,"d":{"historicalId":32,"realtimeId":31,"mode":"RealTime"}},\
        {"e":"chart","d":{"charts":[{"id":31,"td":20170413,"bars":[{"timestamp":"2017-04-13T11:00:00.000Z",\
        "open":2334.25,"high":2334.5,"low":2333,"close":2333.75,"upVolume":4712,"downVolume":201,"upTicks":1333,\
        "downTicks":82,"bidVolume":2857,"offerVolume":2056},{"timestamp":"2017-04-13T11:15:00Z","open":-1.5e1,\
        "high":2.5,"low":-20,"close":0,"bidVolume":null}]},{"id":31,"eoh":true}]}},\
        {"e":"shutdown","d":{"reasonCode":"Maintenance","reason":"x\\u00e9\\"y"}},{"s":429,"i":2,"d":"Too many"},\
        {"s":200,"i":3,"d":{"p-ticket":"abc","p-time":5,"p-captcha":false}},{"e":"md","d":{"quotes":[]}}]
        """

    /// The error `text` throws, or `nil` (with an issue recorded) when it decodes.
    func error(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> MarketDataProtocolError? {
        do {
            let frame = try MarketDataWire.parse(text)
            Issue.record(
                "expected an error for \(text.debugDescription), decoded \(frame)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.offset >= 0 && error.offset <= text.utf8.count, sourceLocation: sourceLocation)
            #expect(error.message.count < 400, sourceLocation: sourceLocation)
            return error
        }
    }

    /// A chart frame whose one bar is `bar`.
    func chartFrame(bar: String) -> String {
        #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":[\#(bar)]}]}}]"#
    }

    @Test("the real frame decodes (so the truncation test truncates something valid)")
    func realFrameDecodes() throws {
        guard case .messages(let messages) = try MarketDataWire.parse(Self.realFrame) else {
            Issue.record("not an a-frame")
            return
        }
        #expect(messages.count == 7)
    }

    @Test("empty text and unknown frame types")
    func frameTypes() {
        #expect(error("")?.code == .emptyFrame)
        #expect(throws: MarketDataProtocolError.self) {
            try MarketDataWire.parse(utf8: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        for text in ["x", "A[]", " a[]", "[]", "{}", "\u{0}", "é"] {
            #expect(error(text)?.code == .unknownFrameType, "\(text.debugDescription)")
        }
        #expect(error("ox")?.code == .malformedJSON)
        #expect(error("h[]")?.code == .malformedJSON)
    }

    @Test("every proper prefix of a real frame throws")
    func truncation() {
        let bytes = Array(Self.realFrame.utf8)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            let thrown = prefix.withUnsafeBytes { raw -> MarketDataProtocolError? in
                do throws(MarketDataProtocolError) {
                    _ = try MarketDataWire.parse(utf8: raw)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(thrown != nil, "prefix of \(length) bytes decoded")
            if let thrown { #expect(thrown.offset <= length) }
        }
        for text in [#"c[3000,"Go away!"]"#, #"a[{"s":200,"i":13,"d":{"historicalId":32,"realtimeId":31}}]"#] {
            let utf8 = Array(text.utf8)
            for length in 0..<utf8.count {
                _ = error(String(decoding: utf8[0..<length], as: UTF8.self))
            }
        }
    }

    @Test("invalid JSON")
    func invalidJSON() {
        let cases = [
            #"a[{"i":1,"s":200,}]"#, #"a[{"i":1 "s":200}]"#, #"a[{'i':1,'s':200}]"#, #"a[{"i":01,"s":200}]"#,
            #"a[{"i":1,"s":200}]x"#, #"a[{"i":1,"s":200}]]"#, #"a[{"i":1,"s":2.}]"#, #"a[{"i":1,"s":-}]"#,
            #"a[{"i":1,"s":1e}]"#, #"a[{"i":1,"s":200,"d":tru}]"#, #"a[{"i":1,"s":200,"d":nul}]"#,
            #"a[{"i":1,"s":200,"d":"\x"}]"#, #"a[{"i":1,"s":200,"d":"\u12"}]"#, #"a[{"i":1,"s":200,"d":"\ud800"}]"#,
            #"a[{"i":1,"s":200,"d":"\udc00"}]"#, #"a[{"i":1,"s":200,"d":"\ud800\u0041"}]"#,
            "a[{\"i\":1,\"s\":200,\"d\":\"a\tb\"}]",
            #"a[{"i":1,"s":200,"d":[1,2}]"#, #"a[{"i":1,"s":200,"d":{"a":1]}]"#, #"a[{"i":1,"s":200,"d":{"a"}}]"#,
            #"a[{"i":1,"s":200,"d":{1:2}}]"#, #"a[,]"#, #"a[{"i":1,"s":200},]"#, #"a{"i":1}"#, #"a[{"i":+1,"s":200}]"#,
            #"a[{"i":1,"s":200,"d":.5}]"#, #"a[{"i":1,"s":200,"d":NaN}]"#, #"a[{"i":1,"s":200,"d":Infinity}]"#,
            #"c[3000 "Go away!"]"#, #"c[3000,"Go away!""#, #"c3000,"x"]"#, #"c[3000,"x"]]"#, #"a[{"i":1,"s":200}"#,
            #"c[3000]"#, #"c[]"#,
            #"a[{"e":"md","d":"# + String(repeating: "[", count: 100_000) + "]}]",
            #"a[{"e":"md","d":"# + String(repeating: #"{"a":"#, count: 50_000) + "1}]",
        ]
        for text in cases {
            #expect(error(text)?.code == .malformedJSON, "\(text.prefix(80).debugDescription)")
        }
    }

    @Test("invalid UTF-8 in a decoded string throws; raw bytes never trap")
    func invalidUTF8() {
        let frames: [[UInt8]] = [
            Array(#"a[{"s":400,"i":1,"d":""#.utf8) + [0xFF, 0xFE] + Array(#""}]"#.utf8),
            Array(#"c[3000,""#.utf8) + [0xC3] + Array(#""]"#.utf8),
            Array(#"a[{"s":200,"i":1,"d":{"x":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}}]"#.utf8),
        ]
        for frame in frames {
            let code = frame.withUnsafeBytes { raw -> MarketDataProtocolError.Code? in
                do throws(MarketDataProtocolError) {
                    _ = try MarketDataWire.parse(utf8: raw)
                    return nil
                } catch {
                    return error.code
                }
            }
            #expect(code == .malformedJSON)
        }
    }

    @Test("wrong shapes")
    func wrongShapes() {
        let ts = #""timestamp":"2017-04-13T11:00:00Z""#
        let cases = [
            #"a[1]"#, #"a["x"]"#, #"a[[]]"#, #"a[null]"#, #"a[{}]"#, #"a[{"s":200}]"#, #"a[{"i":1}]"#,
            #"a[{"i":"1","s":200}]"#, #"a[{"i":1,"s":"200"}]"#, #"a[{"i":1,"s":200,"e":5}]"#, #"a[{"e":null}]"#,
            #"a[{"e":"chart"}]"#, #"a[{"e":"chart","d":null}]"#, #"a[{"e":"chart","d":[]}]"#,
            #"a[{"e":"chart","d":{}}]"#, #"a[{"e":"chart","d":{"charts":{}}}]"#,
            #"a[{"e":"chart","d":{"charts":[1]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"eoh":true}]}}]"#, #"a[{"e":"chart","d":{"charts":[{"id":"31"}]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"id":null}]}}]"#, #"a[{"e":"chart","d":{"charts":[{"id":1,"td":"x"}]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"id":1,"eoh":"true"}]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"id":1,"eoh":1}]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":{}}]}}]"#,
            #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":"x"}]}}]"#,
            #"a[{"d":{"charts":[{"id":1,"bars":5}]},"e":"chart"}]"#,
            chartFrame(bar: "1"), chartFrame(bar: "[]"),
            chartFrame(bar: #"{"open":1,"high":1,"low":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"high":1,"low":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"low":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"high":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"high":1,"low":1}"#),
            chartFrame(bar: #"{\#(ts),"open":"1","high":1,"low":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"high":null,"low":1,"close":1}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"high":1,"low":1,"close":1,"upVolume":"5"}"#),
            chartFrame(bar: #"{\#(ts),"open":1,"high":1,"low":1,"close":1,"bidVolume":true}"#),
            chartFrame(bar: #"{"timestamp":1492081200000,"open":1,"high":1,"low":1,"close":1}"#),
            chartFrame(bar: #"{"timestamp":null,"open":1,"high":1,"low":1,"close":1}"#),
            #"a[{"e":"shutdown","d":{}}]"#, #"a[{"e":"shutdown","d":"Maintenance"}]"#,
            #"a[{"e":"shutdown","d":{"reasonCode":1}}]"#, #"a[{"e":"shutdown","d":{"reasonCode":"M","reason":2}}]"#,
            #"a[{"s":200,"i":3,"d":{"p-ticket":"abc"}}]"#, #"a[{"s":200,"i":3,"d":{"p-ticket":5,"p-time":5}}]"#,
            #"a[{"s":200,"i":3,"d":{"p-ticket":"a","p-time":"5"}}]"#,
            #"a[{"s":200,"i":3,"d":{"p-ticket":"a","p-time":5,"p-captcha":"no"}}]"#,
            #"a[{"s":200,"i":13,"d":{"historicalId":"32"}}]"#, #"a[{"s":200,"i":13,"d":{"errorCode":5}}]"#,
            #"c["3000","x"]"#, #"c[3000,5]"#,
        ]
        for text in cases {
            #expect(error(text)?.code == .unexpectedShape, "\(text)")
        }
    }

    @Test("values of the right type that cannot be used")
    func invalidValues() {
        let cases = [
            #"a[{"i":1.5,"s":200}]"#, #"a[{"i":1,"s":1e30}]"#, #"a[{"i":99999999999999999999,"s":200}]"#,
            chartFrame(bar: #"{"timestamp":"2017-04-13T11:00:00Z","open":1e400,"high":1,"low":1,"close":1}"#),
            chartFrame(
                bar: #"{"timestamp":"2017-04-13T11:00:00Z","open":1,"high":1,"low":1,"close":1,"upVolume":1.5}"#),
            chartFrame(
                bar: #"{"timestamp":"2017-04-13T11:00:00Z","open":1,"high":1,"low":1,"close":1,"downTicks":1e19}"#),
        ]
        for text in cases {
            #expect(error(text)?.code == .invalidValue, "\(text)")
        }
    }

    @Test(
        "bad timestamps",
        arguments: [
            "", "2017-04-13", "2017-04-13T11:00:00", "2017-04-13 11:00:00Z", "2017-13-13T11:00:00Z",
            "2017-00-13T11:00:00Z", "2017-04-31T11:00:00Z", "2017-02-29T11:00:00Z", "2017-04-00T11:00:00Z",
            "2017-04-13T24:00:00Z", "2017-04-13T11:60:00Z", "2017-04-13T11:00:60Z", "2017-04-13T11:00:00.Z",
            "2017-04-13T11:00:00.0000000000Z", "2017-04-13T11:00:00.000", "2017-04-13T11:00:00.000z",
            "2017-04-13t11:00:00Z", "20170413T110000Z", "2017-4-13T11:00:00Z", "2017-04-13T11:00:00ZZ",
            "2017-04-13T11:00:00+01", "2017-04-13T11:00:00+0100", "2017-04-13T11:00:00+25:00", "x017-04-13T11:00:00Z",
            "2017-04-13T11:00:00.00aZ", "+2017-04-13T11:00:00Z", "2017-04-13T11:00:00 Z",
        ])
    func badTimestamps(_ timestamp: String) {
        let text = chartFrame(bar: #"{"timestamp":"\#(timestamp)","open":1,"high":1,"low":1,"close":1}"#)
        let thrown = error(text)
        #expect(thrown?.code == .invalidValue)
        #expect(thrown?.message.contains("timestamp") == true)
    }

    @Test("error messages name the problem, the offset and a short excerpt")
    func messages() {
        let long =
            #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":[{"open":1,"high":1,"low":1,"close":1}]}]}}]"#
            + String(repeating: " ", count: 500)
        guard let thrown = error(long) else { return }
        #expect(thrown.code == .unexpectedShape)
        #expect(thrown.message.contains("'timestamp'"))
        #expect(thrown.offset == 46)
        #expect(thrown.description.hasPrefix("MarketDataProtocolError.unexpectedShape: a bar has no 'timestamp'"))
        #expect(thrown.message.contains("at byte 46 of 589"))
        #expect(thrown.description.count < 300)
        let truncated = error(#"a[{"i":1,"s":20"#)
        #expect(truncated?.message.contains("truncated") == true)
    }

    @Test("random byte mutations of real frames never trap")
    func mutationFuzz() async {
        let seeds = [
            Array(Self.realFrame.utf8), Array(#"c[3000,"Go away!"]"#.utf8),
            Array(#"a[{"s":200,"i":3,"d":{"p-ticket":"abc","p-time":5,"p-captcha":false}}]"#.utf8),
            Array(
                #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":[{"timestamp":"2017-04-13T11:00:00.000Z","open":2.5e3,"high":"#
                    .utf8)
                + Array(#"1,"low":1,"close":1,"x":[{"y":"\u00e9\\"}]}]}]}}]"#.utf8),
        ]
        var mutator = InputMutator(seed: 20_261_129, interesting: Array(#"{}[]",:\-+.eE0123456789tfnu "#.utf8))
        var decoded = 0
        var failed = 0
        let iterations = InputMutator.iterations(default: 4_000)  // ORCA_FUZZ_ITERATIONS for the long runs
        for iteration in 0..<iterations {
            if iteration % 200 == 0 { await Task.yield() }  // CPU-bound: leave the pool to other suites now and then
            let bytes = mutator.mutate(seeds[iteration % seeds.count])
            let outcome: Result<MarketDataFrame, MarketDataProtocolError> = bytes.withUnsafeBytes { raw in
                Result { () throws(MarketDataProtocolError) in try MarketDataWire.parse(utf8: raw) }
            }
            switch outcome {
            case .success: decoded += 1
            case .failure(let error):
                failed += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
            // The String entry point (which repairs invalid UTF-8 first) must not trap either.
            _ = try? MarketDataWire.parse(String(decoding: bytes, as: UTF8.self))
        }
        #expect(decoded + failed == iterations)
        #expect(failed > iterations / 4)
    }
}
