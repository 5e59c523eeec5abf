import CandleCore
import Foundation
import Testing
import TradovateSimulator

/// A bar as the simulator sends it, for comparing with the market's candles.
struct WireBar: Hashable, CustomStringConvertible {
    let timestamp: String
    let open, high, low, close: Double
    let upVolume, downVolume, upTicks, downTicks, bidVolume, offerVolume: Int

    init(_ json: JSON) {
        timestamp = json["timestamp"]?.string ?? ""
        open = json["open"]?.double ?? .nan
        high = json["high"]?.double ?? .nan
        low = json["low"]?.double ?? .nan
        close = json["close"]?.double ?? .nan
        upVolume = json["upVolume"]?.int ?? -1
        downVolume = json["downVolume"]?.int ?? -1
        upTicks = json["upTicks"]?.int ?? -1
        downTicks = json["downTicks"]?.int ?? -1
        bidVolume = json["bidVolume"]?.int ?? -1
        offerVolume = json["offerVolume"]?.int ?? -1
    }

    init(_ candle: Candle) {
        timestamp = candle.start.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        open = candle.open
        high = candle.high
        low = candle.low
        close = candle.close
        upVolume = Int(candle.upVolume)
        downVolume = Int(candle.downVolume)
        upTicks = Int(candle.upTicks)
        downTicks = Int(candle.downTicks)
        bidVolume = Int(candle.bidVolume ?? -1)
        offerVolume = Int(candle.offerVolume ?? -1)
    }

    var description: String { "\(timestamp) O\(open) H\(high) L\(low) C\(close) V\(upVolume)/\(downVolume)" }
}

@Suite("md/getChart")
struct ChartTests {
    static let now = Fixture.wednesday  // 2025-12-03T15:00:30Z

    func expected(
        _ sim: Sim, _ symbol: String = "NQZ5", _ timeframe: Timeframe = .oneMinute, from: String, to: Date? = nil
    ) throws -> [WireBar] {
        try sim.server.market.candles(
            symbol: symbol, timeframe: timeframe, from: Fixture.date(from),
            to: to ?? sim.clock.now().addingTimeInterval(1),
            asOf: sim.clock.now()
        ).map(WireBar.init)
    }

    @Test("asMuchAsElements: response ids, the newest bars ascending (forming bar last), then eoh")
    func asMuchAsElements() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("md/getChart", id: 2, body: Fixture.chart("NQZ5", #""asMuchAsElements":10"#))
            let response = try #require(try await socket.messages(until: { $0["i"]?.int == 2 }).last)
            #expect(response["s"]?.int == 200)
            let id = try #require(response["d"]?["historicalId"]?.int)
            #expect(response["d"]?["realtimeId"]?.int == id)
            let (bars, messages) = try await Fixture.history(socket, id: id)
            #expect(bars.map(WireBar.init) == (try expected(sim, from: "2025-12-03T14:51:00Z")))
            #expect(bars.last?["timestamp"]?.string == "2025-12-03T15:00:00.000Z")
            #expect(
                messages.filter(\.isChartEvent).flatMap(\.charts).allSatisfy {
                    $0["td"] == nil || $0["td"]?.int == 20_251_203
                })
            let stats = sim.server.stats.snapshot()
            #expect(stats.chartRequests == 1 && stats.historyBarsSent == 10)
            await socket.close()
        }
    }

    @Test("closestTimestamp, asFarAsTimestamp and their combinations select the documented range")
    func timeRanges() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            var requestID = 10
            func bars(_ range: String, minutes: Int = 5) async throws -> [WireBar] {
                requestID += 1
                try await socket.request(
                    "md/getChart", id: requestID, body: Fixture.chart("NQZ5", minutes: minutes, range))
                let response = try #require(try await socket.messages(until: { $0["i"]?.int == requestID }).last)
                let id = try #require(response["d"]?["realtimeId"]?.int)
                let result = try await Fixture.history(socket, id: id).bars.map(WireBar.init)
                try await socket.request("md/cancelChart", id: 1_000 + requestID, body: #"{"subscriptionId":\#(id)}"#)
                return result
            }
            let five = try expected(sim, "NQZ5", .fiveMinutes, from: "2025-12-02T00:00:00Z")
            // closestTimestamp (inclusive) + asMuchAsElements.
            let closest = try await bars(#""closestTimestamp":"2025-12-03T12:00:00Z","asMuchAsElements":4"#)
            #expect(
                closest.map(\.timestamp)
                    == five.filter { $0.timestamp <= "2025-12-03T12:00:00.000Z" }.suffix(4).map(\.timestamp))
            #expect(closest.last?.timestamp == "2025-12-03T12:00:00.000Z")
            // asFarAsTimestamp alone: everything from there to now.
            let far = try await bars(#""asFarAsTimestamp":"2025-12-03T14:00:00Z""#)
            #expect(far == five.filter { $0.timestamp >= "2025-12-03T14:00:00.000Z" })
            #expect(far.count == 13)
            // closestTimestamp + asFarAsTimestamp: the window between them.
            let window = try await bars(
                #""closestTimestamp":"2025-12-03T13:00:00.000Z","asFarAsTimestamp":"2025-12-03T12:00:00Z""#)
            #expect(window.map(\.timestamp).first == "2025-12-03T12:00:00.000Z")
            #expect(window.map(\.timestamp).last == "2025-12-03T13:00:00.000Z")
            #expect(window.count == 13)
            // All three: the newest N of the window.
            let three = try await bars(
                #""closestTimestamp":"2025-12-03T13:00:00Z","asFarAsTimestamp":"2025-12-03T12:00:00Z","asMuchAsElements":3"#
            )
            #expect(three.map(\.timestamp) == window.suffix(3).map(\.timestamp))
            // closestTimestamp alone: up to the cap, ending there; bars across the 17:00–18:00 ET halt skip it.
            let hourly = try await bars(#""closestTimestamp":"2025-12-03T00:00:00Z","asMuchAsElements":3"#, minutes: 60)
            #expect(
                hourly.map(\.timestamp) == [
                    "2025-12-02T21:00:00.000Z", "2025-12-02T23:00:00.000Z", "2025-12-03T00:00:00.000Z",
                ])
            await socket.close()
        }
    }

    @Test("history longer than the bar cap is paged backwards with closestTimestamp and reassembles exactly")
    func paging() async throws {
        try await Fixture.withSimulator({ $0.charts.maxBarsPerResponse = 50 }) { sim in
            let socket = try await sim.authorizedSocket()
            let far = "2025-12-02T15:00:00Z"
            var collected: [String: WireBar] = [:]
            var closest: String? = nil
            var pages = 0
            var requestID = 100
            while pages < 20 {
                requestID += 1
                let range =
                    closest.map { #""closestTimestamp":"\#($0)","asFarAsTimestamp":"\#(far)""# }
                    ?? #""asFarAsTimestamp":"\#(far)""#
                try await socket.request("md/getChart", id: requestID, body: Fixture.chart("NQZ5", minutes: 5, range))
                let response = try #require(try await socket.messages(until: { $0["i"]?.int == requestID }).last)
                let id = try #require(response["d"]?["historicalId"]?.int)
                let page = try await Fixture.history(socket, id: id).bars.map(WireBar.init)
                try await socket.request("md/cancelChart", id: 5_000 + requestID, body: #"{"subscriptionId":\#(id)}"#)
                pages += 1
                #expect(page.count <= 50)
                let before = collected.count
                for bar in page { collected[bar.timestamp] = bar }
                guard let oldest = page.first, collected.count > before, oldest.timestamp > "2025-12-02T15:00:00.000Z"
                else { break }
                closest = oldest.timestamp
            }
            let all = try expected(sim, "NQZ5", .fiveMinutes, from: far)
            #expect(pages > 5)
            #expect(collected.values.sorted { $0.timestamp < $1.timestamp } == all)
            #expect(await Fixture.eventually { sim.server.stats.snapshot().chartCancels == pages })
            await socket.close()
        }
    }

    @Test("forming-bar updates repeat the timestamp, a closed bar's final copy follows, then the next bar starts")
    func formingBar() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("md/getChart", id: 2, body: Fixture.chart("NQZ5", #""asMuchAsElements":3"#))
            let id = try #require(
                try await socket.messages(until: { $0["i"]?.int == 2 }).last?["d"]?["realtimeId"]?.int)
            let history = try await Fixture.history(socket, id: id).bars.map(WireBar.init)
            #expect(history.last?.timestamp == "2025-12-03T15:00:00.000Z")

            func nextUpdate() async throws -> [WireBar] {
                let message = try #require(try await socket.messages(until: { $0.isChartEvent }).last)
                return message.charts.filter { $0["id"]?.int == id }.flatMap { $0["bars"]?.array ?? [] }.map(
                    WireBar.init)
            }
            func candle(_ start: String) throws -> WireBar {
                WireBar(
                    try #require(
                        try sim.server.market.candle(
                            symbol: "NQZ5", timeframe: .oneMinute, start: Fixture.date(start), asOf: sim.clock.now())))
            }
            sim.clock.advance(by: 10)
            let forming = try await nextUpdate()
            #expect(forming == [try candle("2025-12-03T15:00:00Z")])
            #expect(forming[0].upVolume + forming[0].downVolume > history.last!.upVolume + history.last!.downVolume)
            sim.clock.set(to: Fixture.date("2025-12-03T15:01:00Z"))
            let final = try await nextUpdate()
            #expect(final == [try candle("2025-12-03T15:00:00Z")])
            sim.clock.advance(by: 1)
            let next = try await nextUpdate()
            #expect(next.map(\.timestamp) == ["2025-12-03T15:01:00.000Z"])
            #expect(next == [try candle("2025-12-03T15:01:00Z")])
            // A jump over several bars sends the closed ones, then the forming one.
            sim.clock.set(to: Fixture.date("2025-12-03T15:05:30Z"))
            let jump = try await nextUpdate()
            #expect(
                jump.map(\.timestamp).suffix(5)
                    == ["15:01", "15:02", "15:03", "15:04", "15:05"].map { "2025-12-03T\($0):00.000Z" })
            #expect(sim.server.stats.snapshot().realtimeBarsSent >= 4)
            await socket.close()
        }
    }

    @Test("quiet charts: a forming bar only with its completed minutes, nothing at a close; 1-minute charts silent")
    func quietCharts() async throws {
        try await Fixture.withSimulator({ $0.startupFaults.quietCharts = true }) { sim in
            try await checkQuietCharts(sim)
        }
    }

    private func checkQuietCharts(_ sim: Sim) async throws {
        let socket = try await sim.authorizedSocket()
        var ids: [Int: Int] = [:]  // minutes → realtime id
        for (requestID, minutes) in [(2, 1), (3, 5)] {
            let body = Fixture.chart("NQZ5", minutes: minutes, #""asMuchAsElements":2"#)
            try await socket.request("md/getChart", id: requestID, body: body)
            let response = try await socket.messages(until: { $0["i"]?.int == requestID })
            let id = try #require(response.last?["d"]?["realtimeId"]?.int)
            ids[minutes] = id
            _ = try await Fixture.history(socket, id: id)
        }
        let one = try #require(ids[1])
        let five = try #require(ids[5])
        // Each whole minute of the 15:00 bar brings one update: the bar as of that minute, not as of now.
        for minute in 1...4 {
            sim.clock.set(to: Fixture.date("2025-12-03T15:0\(minute):20Z"))
            let charts = try await socket.messages(until: { $0.isChartEvent }).flatMap(\.charts)
            #expect(!charts.contains { $0["id"]?.int == one }, "a 1-minute chart must get nothing")
            let bars = charts.filter { $0["id"]?.int == five }.flatMap { $0["bars"]?.array ?? [] }
            let expected = try fiveMinuteBar(sim, "2025-12-03T15:00:00Z", asOf: "2025-12-03T15:0\(minute):00Z")
            #expect(bars.map(WireBar.init) == [expected])
        }
        // The close (15:05) sends nothing; the next update is the 15:05 bar after its first whole minute.
        sim.clock.set(to: Fixture.date("2025-12-03T15:05:30Z"))
        sim.clock.set(to: Fixture.date("2025-12-03T15:06:10Z"))
        let next = try await socket.messages(until: { $0.isChartEvent }).flatMap(\.charts)
        #expect(!next.contains { $0["id"]?.int == one })
        let bars = next.filter { $0["id"]?.int == five }.flatMap { $0["bars"]?.array ?? [] }.map(WireBar.init)
        #expect(bars == [try fiveMinuteBar(sim, "2025-12-03T15:05:00Z", asOf: "2025-12-03T15:06:00Z")])
        await socket.close()
    }

    private func fiveMinuteBar(_ sim: Sim, _ start: String, asOf: String) throws -> WireBar {
        let candle = try sim.server.market.candle(
            symbol: "NQZ5", timeframe: .fiveMinutes, start: Fixture.date(start), asOf: Fixture.date(asOf))
        return WireBar(try #require(candle))
    }

    @Test(
        "historicalId != realtimeId mode: history and eoh carry historicalId, updates realtimeId; cancel by either id")
    func distinctIDs() async throws {
        try await Fixture.withSimulator({ $0.charts.ids = .distinct(historyPacketsCarry: .historical) }) { sim in
            let socket = try await sim.authorizedSocket()
            var subscriptions: [(historical: Int, realtime: Int)] = []
            for requestID in [2, 3, 4] {
                try await socket.request(
                    "md/getChart", id: requestID, body: Fixture.chart("NQZ5", #""asMuchAsElements":2"#))
                let d = try #require(try await socket.messages(until: { $0["i"]?.int == requestID }).last?["d"])
                let ids = (try #require(d["historicalId"]?.int), try #require(d["realtimeId"]?.int))
                #expect(ids.0 != ids.1)
                let (bars, messages) = try await Fixture.history(socket, id: ids.0)
                #expect(bars.count == 2)
                #expect(!messages.flatMap(\.charts).contains { $0["id"]?.int == ids.1 })
                subscriptions.append(ids)
            }
            try await socket.request(
                "md/cancelChart", id: 5, body: #"{"subscriptionId":\#(subscriptions[0].historical)}"#)
            try await socket.request(
                "md/cancelChart", id: 6, body: #"{"subscriptionId":\#(subscriptions[1].realtime)}"#)
            #expect(try await socket.messages(until: { $0["i"]?.int == 6 }).last?["s"]?.int == 200)
            sim.clock.advance(by: 10)
            let update = try await socket.messages(until: { $0.isChartEvent })
            let ids = Set(update.flatMap(\.charts).compactMap { $0["id"]?.int })
            #expect(ids == [subscriptions[2].realtime])
            await socket.close()
        }
        try await Fixture.withSimulator({ $0.charts.ids = .distinct(historyPacketsCarry: .realtime) }) { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("md/getChart", id: 2, body: Fixture.chart("NQZ5", #""asMuchAsElements":2"#))
            let d = try #require(try await socket.messages(until: { $0["i"]?.int == 2 }).last?["d"])
            let (bars, _) = try await Fixture.history(socket, id: try #require(d["realtimeId"]?.int))
            #expect(bars.count == 2)
            await socket.close()
        }
    }

    @Test("frame batching: separate frames, several events per frame, several charts per event")
    func batching() async throws {
        let modes: [SimulatorConfiguration.WebSocket.Batching] = [
            .separateFrames, .messagesInOneFrame, .chartsInOneEvent,
        ]
        for mode in modes {
            try await Fixture.withSimulator({ $0.webSocket.batching = mode }) { sim in
                let socket = try await sim.authorizedSocket()
                var ids: [Int] = []
                for (requestID, symbol) in [(2, "NQZ5"), (3, "ESZ5")] {
                    try await socket.request(
                        "md/getChart", id: requestID, body: Fixture.chart(symbol, #""asMuchAsElements":1"#))
                    let id = try #require(
                        try await socket.messages(until: { $0["i"]?.int == requestID }).last?["d"]?["realtimeId"]?.int)
                    _ = try await Fixture.history(socket, id: id)
                    ids.append(id)
                }
                sim.clock.advance(by: 5)
                let frame = try #require(
                    try await socket.frames(until: { $0.messages.contains(where: \.isChartEvent) }).last)
                switch mode {
                case .separateFrames:
                    #expect(frame.messages.count == 1 && frame.messages[0].charts.count == 1)
                    let second = try #require(
                        try await socket.frames(until: { $0.messages.contains(where: \.isChartEvent) }).last)
                    #expect(second.messages[0].charts[0]["id"]?.int == ids[1])
                case .messagesInOneFrame:
                    #expect(frame.messages.count == 2)
                    #expect(frame.messages.map { $0.charts[0]["id"]?.int } == ids)
                case .chartsInOneEvent:
                    #expect(frame.messages.count == 1)
                    #expect(frame.messages[0].charts.map { $0["id"]?.int } == ids)
                }
                await socket.close()
            }
        }
    }

    @Test("the same seed serves byte-identical bars over the wire; another seed differs")
    func wireDeterminism() async throws {
        func historyFrames(seed: UInt64) async throws -> [String] {
            var frames: [String] = []
            try await Fixture.withSimulator({ $0.seed = seed }) { sim in
                let socket = try await sim.authorizedSocket()
                try await socket.request(
                    "md/getChart", id: 2, body: Fixture.chart("MNQZ5", minutes: 15, #""asMuchAsElements":500"#))
                while let text = try await socket.nextFrame() {
                    frames.append(text)
                    if text.contains(#""eoh":true"#) { break }
                }
                await socket.close()
            }
            return frames
        }
        let first = try await historyFrames(seed: 42)
        let second = try await historyFrames(seed: 42)
        let other = try await historyFrames(seed: 9)
        #expect(first.joined().contains(#""bars":["#))
        #expect(first == second)
        #expect(first != other)
    }

    @Test("trade dates follow the CME session; no bars inside the daily halt")
    func tradeDates() async throws {
        try await Fixture.withSimulator(at: Fixture.date("2025-12-03T23:30:30Z")) { sim in
            try await Self.checkTradeDates(sim)
        }
    }

    static func checkTradeDates(_ sim: Sim) async throws {
        let socket = try await sim.authorizedSocket()
        try await socket.request("md/getChart", id: 2, body: Fixture.chart("NQZ5", #""asMuchAsElements":40"#))
        let response = try await socket.messages(until: { $0["i"]?.int == 2 })
        let id = response.last?["d"]?["realtimeId"]?.int ?? -1
        let history = try await Fixture.history(socket, id: id)
        var tradeDates: [Int] = []
        var counts: [Int] = []
        for item in history.messages.flatMap(\.charts) where item["bars"] != nil {
            tradeDates.append(item["td"]?.int ?? 0)
            counts.append(item["bars"]?.array.count ?? 0)
        }
        var inHalt = 0
        for bar in history.bars {
            let stamp = bar["timestamp"]?.string ?? ""
            if stamp >= "2025-12-03T22:00" && stamp < "2025-12-03T23:00" { inHalt += 1 }
        }
        #expect(tradeDates == [20_251_203, 20_251_204])
        #expect(counts == [9, 31])
        #expect(inHalt == 0)
        await socket.close()
    }

    @Test("after the weekend the first real-time bar arrives at the Sunday open")
    func weekendGap() async throws {
        try await Fixture.withSimulator(
            at: Fixture.date("2025-12-06T12:00:00Z"), { $0.auth.tokenLifetime = .seconds(3 * 86_400) }
        ) { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request(
                "md/getChart", id: 2, body: Fixture.chart("@NQ", minutes: 5, #""asMuchAsElements":2"#))
            let id = try #require(
                try await socket.messages(until: { $0["i"]?.int == 2 }).last?["d"]?["realtimeId"]?.int)
            let history = try await Fixture.history(socket, id: id).bars
            #expect(history.last?["timestamp"]?.string == "2025-12-05T21:55:00.000Z")
            sim.clock.set(to: Fixture.date("2025-12-07T23:00:20Z"))
            let update = try #require(try await socket.messages(until: { $0.isChartEvent }).last)
            #expect(update.charts.first?["bars"]?[0]?["timestamp"]?.string == "2025-12-07T23:00:00.000Z")
            #expect(update.charts.first?["td"]?.int == 20_251_208)
            await socket.close()
        }
    }

    @Test("@NQ maps to the front month; expired contracts give only eoh; bad requests are refused")
    func symbolsAndErrors() async throws {
        try await Fixture.withSimulator { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("md/getChart", id: 2, body: Fixture.chart("@NQ", #""asMuchAsElements":5"#))
            let id = try #require(
                try await socket.messages(until: { $0["i"]?.int == 2 }).last?["d"]?["realtimeId"]?.int)
            #expect(
                try await Fixture.history(socket, id: id).bars.map(WireBar.init)
                    == (try expected(sim, from: "2025-12-03T14:56:00Z")))

            try await socket.request("md/getChart", id: 3, body: Fixture.chart("NQU5", #""asMuchAsElements":5"#))
            let expired = try #require(
                try await socket.messages(until: { $0["i"]?.int == 3 }).last?["d"]?["realtimeId"]?.int)
            let (bars, messages) = try await Fixture.history(socket, id: expired)
            #expect(bars.isEmpty)
            #expect(messages.last?.charts == [JSON.object(["id": .number(Double(expired)), "eoh": .bool(true)])])

            let contractID = try #require(
                sim.server.market.directory.id(of: Contract(root: "ES", month: .december, year: 2025)))
            try await socket.request(
                "md/getChart", id: 4,
                body: Fixture.chart("\(contractID)", #""asMuchAsElements":1"#).replacingOccurrences(
                    of: "\"\(contractID)\"", with: "\(contractID)"))
            #expect(try await socket.messages(until: { $0["i"]?.int == 4 }).last?["d"]?["realtimeId"] != nil)

            try await socket.request("md/getChart", id: 5, body: Fixture.chart("ZZZ5", #""asMuchAsElements":1"#))
            let unknown = try #require(try await socket.messages(until: { $0["i"]?.int == 5 }).last)
            #expect(unknown["d"]?["errorCode"]?.string == "UnknownSymbol")
            try await socket.request(
                "md/getChart", id: 6,
                body: Fixture.chart("NQZ5", #""asMuchAsElements":1"#).replacingOccurrences(
                    of: "MinuteBar", with: "Tick"))
            #expect(
                try await socket.messages(until: { $0["i"]?.int == 6 }).last?["d"]?["errorCode"]?.string
                    == "OperationNotSupported")
            try await socket.request(
                "md/getChart", id: 7,
                body:
                    #"{"symbol":"NQZ5","chartDescription":{"underlyingType":"MinuteBar","elementSize":1},"timeRange":{}}"#
            )
            #expect(try await socket.messages(until: { $0["i"]?.int == 7 }).last?["s"]?.int == 400)
            try await socket.request("md/getChart", id: 8, body: "not json")
            #expect(try await socket.messages(until: { $0["i"]?.int == 8 }).last?["s"]?.int == 400)
            await socket.close()
        }
    }

    @Test("knobs: no forming bar in history, no final copy, history depth")
    func chartKnobs() async throws {
        try await Fixture.withSimulator({
            $0.charts.includeFormingBarInHistory = false
            $0.charts.sendFinalBar = false
            $0.charts.historyDepth = .seconds(600)
        }) { sim in
            let socket = try await sim.authorizedSocket()
            try await socket.request("md/getChart", id: 2, body: Fixture.chart("NQZ5", #""asMuchAsElements":100"#))
            let id = try #require(
                try await socket.messages(until: { $0["i"]?.int == 2 }).last?["d"]?["realtimeId"]?.int)
            let bars = try await Fixture.history(socket, id: id).bars.map(WireBar.init)
            #expect(bars.first?.timestamp == "2025-12-03T14:51:00.000Z")
            #expect(bars.last?.timestamp == "2025-12-03T14:59:00.000Z")
            sim.clock.set(to: Fixture.date("2025-12-03T15:01:00Z"))
            let update = try #require(try await socket.messages(until: { $0.isChartEvent }).last)
            // The 15:00 bar is sent (it was never sent), but no separate final copy precedes it.
            #expect(
                update.charts.flatMap { $0["bars"]?.array ?? [] }.map { $0["timestamp"]?.string } == [
                    "2025-12-03T15:00:00.000Z"
                ])
            await socket.close()
        }
    }
}
