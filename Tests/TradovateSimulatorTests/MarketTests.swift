import CandleCore
import Foundation
import Testing
import TradovateSimulator

@Suite("Synthetic market")
struct MarketTests {
    /// Sunday 2025-11-30 18:00 New York → Friday 2025-12-05 17:00: one full trading week.
    static let weekFrom = Fixture.date("2025-11-30T23:00:00Z")
    static let weekTo = Fixture.date("2025-12-05T22:00:00Z")
    static let afterWeek = Fixture.date("2025-12-06T12:00:00Z")

    @Test("same seed and range give identical bars; another seed differs")
    func determinism() throws {
        let a = SimulatedMarket(seed: 42)
        let b = SimulatedMarket(seed: 42)
        let c = SimulatedMarket(seed: 43)
        for symbol in ["NQZ5", "MESZ5", "@ES"] {
            let first = try a.candles(
                symbol: symbol, timeframe: .fiveMinutes, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
            let second = try b.candles(
                symbol: symbol, timeframe: .fiveMinutes, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
            let other = try c.candles(
                symbol: symbol, timeframe: .fiveMinutes, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
            #expect(!first.isEmpty)
            #expect(first == second)
            #expect(first.count == other.count)
            #expect(first != other)
        }
    }

    @Test(
        "15, 30 and 60-minute bars equal the aggregate of their 5-minute bars over a full week",
        arguments: [
            Timeframe.fifteenMinutes, .thirtyMinutes, .oneHour,
        ])
    func aggregation(_ target: Timeframe) throws {
        let market = SimulatedMarket(seed: 42)
        let aggregator = CandleAggregator(calendar: .cmeEquityIndex)
        for symbol in ["NQZ5", "ES"].map({ $0 == "ES" ? "@ES" : $0 }) {
            let five = try market.candles(
                symbol: symbol, timeframe: .fiveMinutes, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
            let direct = try market.candles(
                symbol: symbol, timeframe: target, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
            let aggregated = try aggregator.aggregate(five, into: target)
            #expect(direct.count == aggregated.count)
            #expect(direct == aggregated)
            #expect(direct.allSatisfy { $0.isFinal })
        }
    }

    @Test("one bar per open minute, none during halts, weekends or holidays")
    func calendar() throws {
        let market = SimulatedMarket(seed: 7)
        let calendar = TradingCalendar.cmeEquityIndex
        // Christmas week 2025: early close 13:15 ET on the 24th, closed on the 25th, then a weekend.
        let from = Fixture.date("2025-12-21T00:00:00Z")
        let to = Fixture.date("2025-12-29T00:00:00Z")
        let bars = try market.candles(symbol: "NQH6", timeframe: .oneMinute, from: from, to: to, asOf: to)
        let expected = calendar.expectedBars(.nq, .oneMinute, from: from, to: to)
        #expect(bars.map(\.start) == expected)
        #expect(bars.allSatisfy { calendar.isOpen(at: $0.start) })
        // Halts, the weekend and the holiday hold nothing.
        let closed: [(String, String)] = [
            ("2025-12-22T22:00:00Z", "2025-12-22T23:00:00Z"),  // Monday 17:00–18:00 ET halt
            ("2025-12-24T18:15:00Z", "2025-12-25T23:00:00Z"),  // Christmas Eve early close → Christmas closed
            ("2025-12-26T22:00:00Z", "2025-12-28T23:00:00Z"),  // weekend
        ]
        for (start, end) in closed {
            let inside = bars.filter { $0.start >= Fixture.date(start) && $0.start < Fixture.date(end) }
            #expect(inside.isEmpty, "bars found in \(start)…\(end)")
        }
        // Hourly bars too.
        let hourly = try market.candles(symbol: "NQH6", timeframe: .oneHour, from: from, to: to, asOf: to)
        #expect(hourly.map(\.start) == calendar.expectedBars(.nq, .oneHour, from: from, to: to))
    }

    @Test("bars are valid candles on the tick grid with plausible volumes")
    func plausibility() throws {
        let market = SimulatedMarket(seed: 42)
        let bars = try market.candles(
            symbol: "NQZ5", timeframe: .fiveMinutes, from: Self.weekFrom, to: Self.weekTo, asOf: Self.afterWeek)
        for bar in bars {
            try bar.validate()
            #expect(bar.upVolume >= bar.upTicks && bar.downVolume >= bar.downTicks)
            #expect(bar.bidVolume! + bar.offerVolume! == bar.volume)
        }
        // Consecutive bars connect (open = previous close) inside a session.
        for (previous, next) in zip(bars, bars.dropFirst()) where next.start.timeIntervalSince(previous.start) == 300 {
            #expect(next.open == previous.close)
        }
        let closes = bars.map(\.close)
        #expect(closes.min()! > 15_000 && closes.max()! < 30_000)
        let ranges = bars.map { $0.high - $0.low }
        let averageRange = ranges.reduce(0, +) / Double(ranges.count)
        #expect(averageRange > 2 && averageRange < 80, "average 5-minute range \(averageRange)")
        let regularHours = bars.filter {
            Calendar.current.dateComponents(in: TimeZone(identifier: "America/New_York")!, from: $0.start).hour == 11
        }
        let overnight = bars.filter {
            Calendar.current.dateComponents(in: TimeZone(identifier: "America/New_York")!, from: $0.start).hour == 1
        }
        let dayVolume = regularHours.map(\.volume).reduce(0, +) / Int64(regularHours.count)
        let nightVolume = overnight.map(\.volume).reduce(0, +) / Int64(overnight.count)
        #expect(dayVolume > 4 * nightVolume, "day \(dayVolume) vs night \(nightVolume)")
    }

    @Test("trades inside a minute reproduce its bar: first = open, last = close, high and low touched, volumes add up")
    func ticks() throws {
        let market = SimulatedMarket(seed: 42)
        let contract = Contract(root: "NQ", month: .december, year: 2025)
        let minute = Fixture.date("2025-12-03T15:07:00Z")
        let trades = market.trades(contract: contract, minuteStarting: minute)
        let bar = try #require(
            try market.candle(symbol: "NQZ5", timeframe: .oneMinute, start: minute, asOf: Self.afterWeek))
        #expect(trades.first?.price == bar.open)
        #expect(trades.last?.price == bar.close)
        #expect(trades.map(\.price).max() == bar.high)
        #expect(trades.map(\.price).min() == bar.low)
        #expect(trades.filter(\.isUp).map(\.size).reduce(0, +) == bar.upVolume)
        #expect(trades.filter { !$0.isUp }.map(\.size).reduce(0, +) == bar.downVolume)
        #expect(Int64(trades.filter(\.isUp).count) == bar.upTicks)
        #expect(Int64(trades.count) == bar.upTicks + bar.downTicks)
        #expect(
            trades.allSatisfy {
                Instrument.nq.isOnTickGrid($0.price) && $0.time >= minute && $0.time < minute.addingTimeInterval(60)
            })
        #expect(zip(trades, trades.dropFirst()).allSatisfy { $0.time <= $1.time })
        // A forming bar at a sub-minute instant holds exactly the trades before it.
        let cut = minute.addingTimeInterval(25)
        let forming = try #require(try market.candle(symbol: "NQZ5", timeframe: .oneMinute, start: minute, asOf: cut))
        let before = trades.filter { $0.time < cut }
        #expect(!forming.isFinal)
        #expect(forming.close == before.last?.price)
        #expect(forming.upVolume + forming.downVolume == before.map(\.size).reduce(0, +))
        // Saturday: no trades.
        #expect(market.trades(contract: contract, minuteStarting: Fixture.date("2025-12-06T15:00:00Z")).isEmpty)
    }

    @Test("each contract has its own level; micro and E-mini of one month trade together; @NQ follows the front month")
    func contractsAndRolls() throws {
        let market = SimulatedMarket(seed: 42)
        let at = Fixture.date("2025-12-03T15:30:00Z")
        func close(_ symbol: String) throws -> Double {
            try #require(try market.candle(symbol: symbol, timeframe: .oneMinute, start: at, asOf: Self.afterWeek))
                .close
        }
        let december = try close("NQZ5")
        let march = try close("NQH6")
        #expect(march > december)
        #expect(try close("MNQZ5") == december)
        #expect(abs(try close("ESZ5") - december) > 5_000)
        #expect(try close("@NQ") == december)
        // NQZ5 rolls to NQH6 at 2025-12-10T23:00Z (18:00 ET on the eve of the roll date).
        #expect(try market.contract(for: "@NQ", at: Fixture.date("2025-12-10T22:59:00Z")).symbol == "NQZ5")
        #expect(try market.contract(for: "@NQ", at: Fixture.date("2025-12-10T23:00:00Z")).symbol == "NQH6")
        let after = try #require(
            try market.candle(
                symbol: "@NQ", timeframe: .oneMinute, start: Fixture.date("2025-12-11T15:00:00Z"),
                asOf: Fixture.date("2025-12-12T00:00:00Z")))
        #expect(after.symbol == "NQH6")
        // An expired contract has no bars after its last trade (2025-12-19 09:30 ET).
        let late = try market.candles(
            symbol: "NQZ5", timeframe: .oneMinute, from: Fixture.date("2025-12-19T14:00:00Z"),
            to: Fixture.date("2025-12-19T16:00:00Z"), asOf: Fixture.date("2025-12-20T00:00:00Z"))
        #expect(late.last!.start < Fixture.date("2025-12-19T14:30:00Z"))
        #expect(throws: SimulatorError.self) { try market.contract(for: "XYZ5", at: at) }
    }
}
