public import CandleCore
public import Foundation

extension Candle {
    /// A valid bar with sensible defaults, for tests: NQ, 5 minutes, the front-month contract at `start`, prices on the
    /// tick grid. Override whatever the test cares about.
    ///
    /// ```swift
    /// let bar = Candle.fixture(start: date("2026-11-17T14:30:00Z"), close: 21_004.25)
    /// ```
    public static func fixture(
        instrument: Instrument = .nq,
        timeframe: Timeframe = .fiveMinutes,
        start: Date = Date(timeIntervalSince1970: 1_795_000_000),
        symbol: String? = nil,
        open: Double = 21_000,
        high: Double? = nil,
        low: Double? = nil,
        close: Double = 21_001,
        upVolume: Int64 = 120,
        downVolume: Int64 = 80,
        upTicks: Int64 = 40,
        downTicks: Int64 = 30,
        bidVolume: Int64? = nil,
        offerVolume: Int64? = nil,
        isFinal: Bool = true
    ) -> Candle {
        let aligned = timeframe.barStart(containing: start)
        let symbol = symbol ?? ContractCalendar.standard.frontMonth(instrument, at: aligned).symbol
        return Candle(
            symbol: symbol, instrument: instrument, timeframe: timeframe, start: aligned,
            open: instrument.roundedToTick(open),
            high: instrument.roundedToTick(high ?? max(open, close) + instrument.tickSize),
            low: instrument.roundedToTick(low ?? min(open, close) - instrument.tickSize),
            close: instrument.roundedToTick(close), upVolume: upVolume, downVolume: downVolume, upTicks: upTicks,
            downTicks: downTicks, bidVolume: bidVolume, offerVolume: offerVolume, isFinal: isFinal)
    }
}

/// Deterministic synthetic bars for a series: every bar the trading calendar expects in a range, each on the tick grid
/// and valid, with the front-month contract of its start. The same seed gives the same bars.
///
/// ```swift
/// var generator = CandleSeriesGenerator(seed: 7)
/// let week = generator.bars(for: Series(.es, .fifteenMinutes), from: monday, to: saturday)
/// ```
public struct CandleSeriesGenerator: Sendable {
    /// The seed.
    public let seed: UInt64
    /// Where bars start (default 21,000 for NQ-like prices).
    public var startPrice: Double
    /// Largest move per bar, in ticks.
    public var maximumStepTicks: Int
    private let calendar: TradingCalendar
    private let contracts: ContractCalendar

    /// Creates a generator.
    public init(
        seed: UInt64, startPrice: Double = 21_000, maximumStepTicks: Int = 12,
        calendar: TradingCalendar = .cmeEquityIndex, contracts: ContractCalendar = .standard
    ) {
        self.seed = seed
        self.startPrice = startPrice
        self.maximumStepTicks = maximumStepTicks
        self.calendar = calendar
        self.contracts = contracts
    }

    /// Every expected bar of `series` with a start in `[from, to)`, all final.
    public func bars(for series: Series, from: Date, to: Date) -> [Candle] {
        var rng = SplitMix64(seed: seed ^ UInt64(series.timeframe.minutes) &* 0x9E37_79B9)
        let tick = series.instrument.tickSize
        var price = series.instrument.roundedToTick(startPrice)
        return calendar.expectedBars(series.instrument, series.timeframe, from: from, to: to).map { start in
            let open = price
            let close = open + Double(rng.next(in: -maximumStepTicks...maximumStepTicks)) * tick
            let high = max(open, close) + Double(rng.next(in: 0...4)) * tick
            let low = min(open, close) - Double(rng.next(in: 0...4)) * tick
            price = close
            let up = Int64(rng.next(in: 10...500))
            let down = Int64(rng.next(in: 10...500))
            return Candle(
                symbol: contracts.frontMonth(series.instrument, at: start).symbol, instrument: series.instrument,
                timeframe: series.timeframe, start: start, open: open, high: high, low: low, close: close, upVolume: up,
                downVolume: down, upTicks: up / 3, downTicks: down / 3)
        }
    }
}

/// A tiny, fast, seedable generator (SplitMix64), so fixtures are reproducible on every platform.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}
