import CandleCore
import Collectors
import Foundation
import Testing

@testable import MarketData

/// Decoding of valid market-data frames (protocol §4.1, §4.5, §5.2, §5.3).
@Suite("Market-data wire: decoding", .timeLimit(.minutes(10)))
struct WireTests {
    /// 2017-04-13T11:00:00Z in epoch milliseconds.
    static let exampleMillis: Int64 = 1_492_081_200_000

    /// The §5.3 example, verbatim.
    static let protocolChartEvent = """
        {"e":"chart","d":{"charts":[
          {"id":31,"td":20170413,"bars":[
            {"timestamp":"2017-04-13T11:00:00.000Z","open":2334.25,"high":2334.5,"low":2333,
             "close":2333.75,"upVolume":4712,"downVolume":201,"upTicks":1333,"downTicks":82,
             "bidVolume":2857,"offerVolume":2056}]},
          {"id":31,"eoh":true}]}}
        """

    static let protocolBar = ChartBar(
        startMilliseconds: exampleMillis, open: 2334.25, high: 2334.5, low: 2333, close: 2333.75, upVolume: 4712,
        downVolume: 201, upTicks: 1333, downTicks: 82, bidVolume: 2857, offerVolume: 2056)

    func messages(_ text: String) throws -> [MarketDataMessage] {
        let frame = try MarketDataWire.parse(text)
        guard case .messages(let messages) = frame else {
            Issue.record("expected an a-frame, got \(frame)")
            return []
        }
        return messages
    }

    func packets(_ text: String) throws -> [ChartPacket] {
        let all = try messages(text)
        guard all.count == 1, case .chart(let packets) = all[0] else {
            Issue.record("expected one chart message, got \(all)")
            return []
        }
        return packets
    }

    @Test("o, h and an empty a-frame")
    func simpleFrames() throws {
        #expect(try MarketDataWire.parse("o") == .open)
        #expect(try MarketDataWire.parse("h") == .heartbeat)
        #expect(try MarketDataWire.parse("o\n") == .open)
        #expect(try MarketDataWire.parse("a[]") == .messages([]))
        #expect(try MarketDataWire.parse("a[ ]") == .messages([]))
    }

    @Test("close frames (§4.1)")
    func closeFrames() throws {
        #expect(try MarketDataWire.parse(#"c[3000,"Go away!"]"#) == .close(code: 3000, reason: "Go away!"))
        #expect(try MarketDataWire.parse(#"c[ 1000 , "bye \"now\"" ]"#) == .close(code: 1000, reason: #"bye "now""#))
        #expect(try MarketDataWire.parse(#"c[1000,""]"#) == .close(code: 1000, reason: ""))
    }

    @Test("§4.1 example: a response and a chart event batched in one frame")
    func batchedExample() throws {
        let text = "a[{\"i\":1,\"s\":200},\(Self.protocolChartEvent)]"
        #expect(
            try messages(text) == [
                .response(MarketDataResponse(id: 1, status: 200, payload: .none)),
                .chart([
                    ChartPacket(id: 31, tradeDate: 20_170_413, bars: [Self.protocolBar]),
                    ChartPacket(id: 31, endOfHistory: true),
                ]),
            ])
    }

    @Test("§4.5 examples: error texts and authorize success")
    func responseExamples() throws {
        #expect(
            try messages(#"a[{"s":404,"i":60,"d":"Not found: md/getChart"}]"#) == [
                .response(MarketDataResponse(id: 60, status: 404, payload: .text("Not found: md/getChart")))
            ])
        #expect(
            try messages(#"a[{"s":401,"i":2,"d":"Access is denied"}]"#) == [
                .response(MarketDataResponse(id: 2, status: 401, payload: .text("Access is denied")))
            ])
        #expect(try messages(#"a[{"s":200,"i":1}]"#) == [.response(MarketDataResponse(id: 1, status: 200))])
        #expect(try messages(#"a[{"s":429,"i":7,"d":null}]"#) == [.response(MarketDataResponse(id: 7, status: 429))])
    }

    @Test("§5.2 example and chart subscription results with errorCode")
    func chartSubscriptions() throws {
        #expect(
            try messages(#"a[{"s":200,"i":13,"d":{"historicalId":32,"realtimeId":31}}]"#) == [
                .response(
                    MarketDataResponse(
                        id: 13, status: 200,
                        payload: .chartSubscription(ChartSubscription(historicalId: 32, realtimeId: 31))))
            ])
        let unknown =
            #"a[{"s":200,"i":4,"d":{"errorText":"Unknown symbol XYZ","errorCode":"UnknownSymbol","mode":"None"}}]"#
        #expect(
            try messages(unknown) == [
                .response(
                    MarketDataResponse(
                        id: 4, status: 200,
                        payload: .chartSubscription(
                            ChartSubscription(errorCode: "UnknownSymbol", errorText: "Unknown symbol XYZ", mode: "None")
                        )))
            ])
        let full =
            #"a[{"i":5,"s":200,"d":{"mode":"RealTime","errorCode":"Success","historicalId":null,"realtimeId":9,"x":[1,{"y":2}]}}]"#
        #expect(
            try messages(full) == [
                .response(
                    MarketDataResponse(
                        id: 5, status: 200,
                        payload: .chartSubscription(
                            ChartSubscription(realtimeId: 9, errorCode: "Success", mode: "RealTime"))))
            ])
    }

    @Test("penalty tickets (§3.2)")
    func penalties() throws {
        #expect(
            try messages(#"a[{"s":200,"i":3,"d":{"p-ticket":"abc","p-time":5,"p-captcha":false}}]"#) == [
                .response(
                    MarketDataResponse(
                        id: 3, status: 200, payload: .penalty(PenaltyTicket(ticket: "abc", seconds: 5, captcha: false)))
                )
            ])
        #expect(
            try messages(#"a[{"d":{"p-captcha":true,"p-time":2.5,"p-ticket":"t\/1"},"i":4,"s":200}]"#) == [
                .response(
                    MarketDataResponse(
                        id: 4, status: 200, payload: .penalty(PenaltyTicket(ticket: "t/1", seconds: 2.5, captcha: true))
                    ))
            ])
        #expect(
            try messages(#"a[{"s":200,"i":5,"d":{"p-ticket":"x","p-time":1}}]"#) == [
                .response(
                    MarketDataResponse(id: 5, status: 200, payload: .penalty(PenaltyTicket(ticket: "x", seconds: 1))))
            ])
    }

    @Test("other payloads come back as compact JSON text")
    func jsonPayloads() throws {
        #expect(
            try messages("a[{\"s\":200,\"i\":8,\"d\":{ \"id\" : 65543, \"name\":\"CLZ6 x\", \"list\":[ 1, 2.5e1 ] }}]")
                == [
                    .response(
                        MarketDataResponse(
                            id: 8, status: 200, payload: .json(#"{"id":65543,"name":"CLZ6 x","list":[1,2.5e1]}"#)))
                ])
        #expect(
            try messages(#"a[{"s":200,"i":9,"d":[ true , null ]},{"s":200,"i":10,"d":42},{"s":200,"i":11,"d":{}}]"#)
                == [
                    .response(MarketDataResponse(id: 9, status: 200, payload: .json("[true,null]"))),
                    .response(MarketDataResponse(id: 10, status: 200, payload: .json("42"))),
                    .response(MarketDataResponse(id: 11, status: 200, payload: .json("{}"))),
                ])
    }

    @Test("shutdown events and unknown event kinds")
    func events() throws {
        let text = """
            a[{"e":"shutdown","d":{"reasonCode":"Maintenance","reason":"Back at 18:00"}},
              {"e":"shutdown","d":{"reasonCode":"IPQuotaReached"}},
              {"e":"shutdown","d":{"reason":null,"reasonCode":"ConnectionQuotaReached"}},
              {"e":"md","d":{"quotes":[{"timestamp":"2017-04-13T11:00:00.000Z","contractId":1,"entries":{"Bid":{"price":1.5}}}]}},
              {"e":"props","d":{"entityType":"order","eventType":"Created","entity":{}}},
              {"e":"clock","d":"{\\"t\\":1}"},
              {"d":[1,2,3],"e":"someday"},
              {"e":"nothing"}]
            """
        #expect(
            try messages(text) == [
                .shutdown(reasonCode: "Maintenance", reason: "Back at 18:00"),
                .shutdown(reasonCode: "IPQuotaReached", reason: nil),
                .shutdown(reasonCode: "ConnectionQuotaReached", reason: nil),
                .event(kind: "md"), .event(kind: "props"), .event(kind: "clock"), .event(kind: "someday"),
                .event(kind: "nothing"),
            ])
    }

    @Test("a batch mixing responses, chart events and other events keeps its order")
    func mixedBatch() throws {
        let bar = #"{"timestamp":"2017-04-13T11:05:00Z","open":1,"high":2,"low":0.5,"close":1.5}"#
        let text = """
            a[{"i":1,"s":200},{"e":"chart","d":{"charts":[{"id":7,"td":20170413,"bars":[\(bar)]}]}},\
            {"s":200,"i":2,"d":{"historicalId":7,"realtimeId":8}},{"e":"md","d":{}},\
            {"e":"chart","d":{"charts":[{"id":8,"eoh":true}]}},{"i":3,"s":404,"d":"Not found"}]
            """
        let expectedBar = ChartBar(
            startMilliseconds: Self.exampleMillis + 300_000, open: 1, high: 2, low: 0.5, close: 1.5)
        #expect(
            try messages(text) == [
                .response(MarketDataResponse(id: 1, status: 200)),
                .chart([ChartPacket(id: 7, tradeDate: 20_170_413, bars: [expectedBar])]),
                .response(
                    MarketDataResponse(
                        id: 2, status: 200,
                        payload: .chartSubscription(ChartSubscription(historicalId: 7, realtimeId: 8)))),
                .event(kind: "md"),
                .chart([ChartPacket(id: 8, endOfHistory: true)]),
                .response(MarketDataResponse(id: 3, status: 404, payload: .text("Not found"))),
            ])
    }

    @Test("several charts, several packets, eoh with and without bars, td")
    func severalCharts() throws {
        func bar(_ minute: Int, _ price: Double) -> String {
            let time = WireTime.format(milliseconds: Self.exampleMillis + Int64(minute) * 60_000)
            return
                #"{"timestamp":"\#(time)","open":\#(price),"high":\#(price + 1),"low":\#(price - 1),"close":\#(price)}"#
        }
        func expected(_ minute: Int, _ price: Double) -> ChartBar {
            ChartBar(
                startMilliseconds: Self.exampleMillis + Int64(minute) * 60_000, open: price, high: price + 1,
                low: price - 1, close: price)
        }
        let text = """
            a[{"e":"chart","d":{"charts":[\
            {"id":1,"td":20170413,"bars":[\(bar(0, 10)),\(bar(1, 11)),\(bar(2, 12.25))]},\
            {"id":2,"td":20170414,"bars":[\(bar(3, 13.5))]},\
            {"id":1,"td":20170414,"bars":[\(bar(4, 14.75))],"eoh":true},\
            {"id":2,"eoh":true,"bars":[]},\
            {"id":3,"bars":[]},\
            {"id":4,"td":null,"eoh":false}]}},\
            {"e":"chart","d":{"charts":[{"id":2,"bars":[\(bar(5, 15))]}]}}]
            """
        #expect(
            try messages(text) == [
                .chart([
                    ChartPacket(
                        id: 1, tradeDate: 20_170_413, bars: [expected(0, 10), expected(1, 11), expected(2, 12.25)]),
                    ChartPacket(id: 2, tradeDate: 20_170_414, bars: [expected(3, 13.5)]),
                    ChartPacket(id: 1, tradeDate: 20_170_414, bars: [expected(4, 14.75)], endOfHistory: true),
                    ChartPacket(id: 2, endOfHistory: true),
                    ChartPacket(id: 3),
                    ChartPacket(id: 4),
                ]),
                .chart([ChartPacket(id: 2, bars: [expected(5, 15)])]),
            ])
    }

    @Test("field order does not matter (bars, packets, messages, payloads)")
    func fieldOrder() throws {
        let reversed = """
            a[{"d":{"charts":[{"eoh":true,"id":31},{"bars":[{"offerVolume":2056,"bidVolume":2857,"downTicks":82,\
            "upTicks":1333,"downVolume":201,"upVolume":4712,"close":2333.75,"low":2333,"high":2334.5,"open":2334.25,\
            "timestamp":"2017-04-13T11:00:00.000Z"}],"td":20170413,"id":31}]},"e":"chart"},\
            {"d":{"realtimeId":31,"historicalId":32},"s":200,"i":13}]
            """
        #expect(
            try messages(reversed) == [
                .chart([
                    ChartPacket(id: 31, endOfHistory: true),
                    ChartPacket(id: 31, tradeDate: 20_170_413, bars: [Self.protocolBar]),
                ]),
                .response(
                    MarketDataResponse(
                        id: 13, status: 200,
                        payload: .chartSubscription(ChartSubscription(historicalId: 32, realtimeId: 31)))),
            ])
        // A later "e" wins over an earlier one.
        #expect(try messages(#"a[{"e":"chart","d":{"charts":[]},"e":"md"}]"#) == [.event(kind: "md")])
        #expect(try messages(#"a[{"e":"md","d":{"charts":[]},"e":"chart"}]"#) == [.chart([])])
    }

    @Test("unknown fields, nested objects and arrays, are skipped everywhere")
    func unknownFields() throws {
        let junk =
            #""zz":{"a":[1,{"b":[[],{}]},"s\"]"],"c":null,"d":-1.5e-3},"yy":[true,false,null,"x",{"k":{"l":[]}}]"#
        let text = """
            a[{\(junk),"e":"chart","d":{\(junk),"charts":[{\(junk),"id":31,"s":"db","td":20170413,"bars":[\
            {"timestamp":"2017-04-13T11:00:00.000Z",\(junk),"open":2334.25,"high":2334.5,"low":2333,"close":2333.75,\
            "upVolume":4712,"downVolume":201,"upTicks":1333,"downTicks":82,"bidVolume":2857,"offerVolume":2056,\
            "volume":4913,"extra":{"nested":[1,2,3]}}]}]}},{"i":1,\(junk),"s":200}]
            """
        #expect(
            try messages(text) == [
                .chart([ChartPacket(id: 31, tradeDate: 20_170_413, bars: [Self.protocolBar])]),
                .response(MarketDataResponse(id: 1, status: 200)),
            ])
    }

    @Test("whitespace between every token")
    func whitespace() throws {
        let text = """
            a [ { "e" : "chart" , "d" : { "charts" : [ { "id" : 31 , "td" : 20170413 , "bars" : [ {\t"timestamp"\r\n:\
             "2017-04-13T11:00:00.000Z" , "open" : 2334.25 , "high" : 2334.5 , "low" : 2333 , "close" : 2333.75 ,\
             "upVolume" : 4712 , "downVolume" : 201 , "upTicks" : 1333 , "downTicks" : 82 , "bidVolume" : 2857 ,\
             "offerVolume" : 2056 } ] } , { "id" : 31 , "eoh" : true } ] } } ]\n
            """
        #expect(
            try packets(text) == [
                ChartPacket(id: 31, tradeDate: 20_170_413, bars: [Self.protocolBar]),
                ChartPacket(id: 31, endOfHistory: true),
            ])
    }

    @Test("string escapes, \\u escapes and surrogate pairs")
    func escapes() throws {
        let text = #"a[{"s":400,"i":1,"d":"q\" b\\ s\/ \b\f\n\r\t \u00e9\u20AC \ud83d\ude00 é€😀"}]"#
        #expect(
            try messages(text) == [
                .response(
                    MarketDataResponse(id: 1, status: 400, payload: .text("q\" b\\ s/ \u{8}\u{c}\n\r\t é€ 😀 é€😀")))
            ])
        // Escaped member names and escaped timestamps decode too.
        let escapedKeys =
            #"a[{"\u0065":"chart","d":{"ch\u0061rts":[{"\u0069d":5,"bars":[{"timestamp":"2017-04-13T11:00:00\u002e000Z","op\u0065n":1,"high":1,"low":1,"close":1}]}]}}]"#
        #expect(
            try packets(escapedKeys) == [
                ChartPacket(
                    id: 5, bars: [ChartBar(startMilliseconds: Self.exampleMillis, open: 1, high: 1, low: 1, close: 1)])
            ])
        #expect(
            try MarketDataWire.parse(#"c[3000,"\u00c7a va \"bien\""]"#) == .close(code: 3000, reason: "Ça va \"bien\""))
    }

    @Test("numbers: exponents, negatives, integers written as decimals")
    func numbers() throws {
        let text =
            #"a[{"e":"chart","d":{"charts":[{"id":1e0,"td":2.0170413E7,"bars":[{"timestamp":"2017-04-13T11:00:00Z","open":2.33425e3,"high":233450E-2,"low":-0.5,"close":-1.25e+1,"upVolume":4.712e3,"downVolume":0,"upTicks":-0,"downTicks":82.0,"bidVolume":-3,"offerVolume":1E2}]}]}}]"#
        #expect(
            try packets(text) == [
                ChartPacket(
                    id: 1, tradeDate: 20_170_413,
                    bars: [
                        ChartBar(
                            startMilliseconds: Self.exampleMillis, open: 2334.25, high: 2334.5, low: -0.5, close: -12.5,
                            upVolume: 4712, downVolume: 0, upTicks: 0, downTicks: 82, bidVolume: -3, offerVolume: 100)
                    ])
            ])
    }

    @Test("null and missing optional fields")
    func optionalFields() throws {
        let text =
            #"a[{"e":"chart","d":{"charts":[{"id":1,"td":null,"eoh":null,"bars":[{"timestamp":"2017-04-13T11:00:00Z","open":1,"high":2,"low":0.25,"close":1.75,"upVolume":null,"bidVolume":null,"offerVolume":null},{"timestamp":"2017-04-13T11:01:00Z","open":1,"high":2,"low":0.25,"close":1.75,"offerVolume":7}]},{"id":2,"bars":null}]}}]"#
        #expect(
            try packets(text) == [
                ChartPacket(
                    id: 1,
                    bars: [
                        ChartBar(startMilliseconds: Self.exampleMillis, open: 1, high: 2, low: 0.25, close: 1.75),
                        ChartBar(
                            startMilliseconds: Self.exampleMillis + 60_000, open: 1, high: 2, low: 0.25, close: 1.75,
                            offerVolume: 7),
                    ]),
                ChartPacket(id: 2),
            ])
    }

    @Test(
        "timestamps with and without fractions, and with offsets",
        arguments: [
            ("2017-04-13T11:00:00.000Z", exampleMillis), ("2017-04-13T11:00:00Z", exampleMillis),
            ("2017-04-13T11:00:00.5Z", exampleMillis + 500), ("2017-04-13T11:00:00.25Z", exampleMillis + 250),
            ("2017-04-13T11:00:00.123456789Z", exampleMillis + 123), ("2017-04-13T12:30:00+01:30", exampleMillis),
            ("2017-04-13T09:00:00-02:00", exampleMillis), ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1), ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("2100-03-01T00:00:00Z", 4_107_542_400_000),
        ] as [(String, Int64)])
    func timestamps(_ text: String, _ millis: Int64) throws {
        let frame =
            #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":[{"timestamp":"\#(text)","open":1,"high":1,"low":1,"close":1}]}]}}]"#
        #expect(try packets(frame).first?.bars.first?.startMilliseconds == millis)
    }

    @Test("timestamp parsing and formatting agree with Foundation on random instants")
    func timestampsAgainstFoundation() throws {
        var random = SplitMix(seed: 11)
        for _ in 0..<2_000 {
            let millis = Int64(random.next(8_000_000_000_000)) - 2_000_000_000_000
            let text = WireTime.format(milliseconds: millis)
            let date = try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            #expect(Int64((date.timeIntervalSince1970 * 1000).rounded()) == millis, "\(text)")
            let parsed = Array(text.utf8).withUnsafeBufferPointer { WireTime.parse($0.baseAddress!, $0.count) }
            #expect(parsed == millis, "\(text)")
        }
    }

    @Test("prices equal Double(String) for short decimals and long or exponent forms")
    func pricesMatchDouble() throws {
        var random = SplitMix(seed: 5)
        var texts = [
            "0", "-0", "0.1", "0.3", "2334.25", "1.7976931348623157e308", "5e-324", "123456789012345678",
            "0.1234567890123456789", "9007199254740993", "1.000000000000000111", "4.35", "2.675", "0.000001",
            "100000000000000000000000", "1e22", "1e23", "-12345.6789",
        ]
        for _ in 0..<3_000 {
            let whole = random.next(100_000)
            let digits = random.next(12)
            var fraction = ""
            for _ in 0..<digits { fraction += String(random.next(10)) }
            var text = fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
            if random.next(4) == 0 { text += "e\(random.next(40) - 20)" }
            if random.next(3) == 0 { text = "-" + text }
            texts.append(text)
        }
        for text in texts {
            let frame =
                #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":[{"timestamp":"2017-04-13T11:00:00Z","open":\#(text),"high":1,"low":1,"close":1}]}]}}]"#
            let open = try packets(frame).first?.bars.first?.open
            #expect(open?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    @Test("the raw-bytes entry point decodes like the String one")
    func rawBytes() throws {
        let text = "a[{\"i\":1,\"s\":200},\(Self.protocolChartEvent)]"
        let fromBytes = try Array(text.utf8).withUnsafeBytes { bytes throws(MarketDataProtocolError) in
            try MarketDataWire.parse(utf8: bytes)
        }
        #expect(fromBytes == (try MarketDataWire.parse(text)))
    }

    @Test("ChartBar.candle(of:isFinal:) fills every Candle field")
    func candleConversion() {
        let chart = ChartKey(symbol: "ESM7", instrument: .es, timeframe: .fifteenMinutes)
        let candle = Self.protocolBar.candle(of: chart, isFinal: true)
        #expect(
            candle
                == Candle(
                    symbol: "ESM7", instrument: .es, timeframe: .fifteenMinutes,
                    start: Date(timeIntervalSince1970: 1_492_081_200), open: 2334.25, high: 2334.5, low: 2333,
                    close: 2333.75, upVolume: 4712, downVolume: 201, upTicks: 1333, downTicks: 82, bidVolume: 2857,
                    offerVolume: 2056, isFinal: true))
        #expect(candle.volume == 4913)
        #expect((try? candle.validate()) != nil)
        let bare = ChartBar(startMilliseconds: Self.exampleMillis + 1, open: 1, high: 2, low: 0.5, close: 1.5)
        let forming = bare.candle(of: chart, isFinal: false)
        #expect(forming.isFinal == false)
        #expect(forming.bidVolume == nil && forming.offerVolume == nil)
        #expect(forming.upVolume == 0 && forming.downVolume == 0 && forming.upTicks == 0 && forming.downTicks == 0)
        #expect(forming.start == Date(timeIntervalSince1970: 1_492_081_200.001))
        #expect(bare.start == forming.start)
    }
}

/// A seeded generator for reproducible random tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
