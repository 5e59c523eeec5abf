public import Foundation

/// One OHLCV bar of one contract.
///
/// A bar is identified by ``key``: (contract symbol, timeframe, bar start in UTC). Sinks upsert on that key. ``isFinal``
/// tells a closed bar from a forming one; a final bar is never replaced by a forming one.
public struct Candle: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The contract symbol, e.g. `NQZ5`.
    public var symbol: String
    /// The product the contract belongs to.
    public var instrument: Instrument
    /// The bar length.
    public var timeframe: Timeframe
    /// The bar start in UTC (aligned to ``timeframe``).
    public var start: Date
    /// First trade price.
    public var open: Double
    /// Highest trade price.
    public var high: Double
    /// Lowest trade price.
    public var low: Double
    /// Last trade price.
    public var close: Double
    /// Volume traded on up-ticks.
    public var upVolume: Int64
    /// Volume traded on down-ticks.
    public var downVolume: Int64
    /// Number of up-ticks.
    public var upTicks: Int64
    /// Number of down-ticks.
    public var downTicks: Int64
    /// Volume traded at the bid, when the source reports it.
    public var bidVolume: Int64?
    /// Volume traded at the offer, when the source reports it.
    public var offerVolume: Int64?
    /// Whether the bar is closed (`true`) or still forming (`false`).
    public var isFinal: Bool

    /// Creates a candle. Nothing is checked here; call ``validate()`` (sinks do) before trusting it.
    public init(
        symbol: String,
        instrument: Instrument,
        timeframe: Timeframe,
        start: Date,
        open: Double,
        high: Double,
        low: Double,
        close: Double,
        upVolume: Int64 = 0,
        downVolume: Int64 = 0,
        upTicks: Int64 = 0,
        downTicks: Int64 = 0,
        bidVolume: Int64? = nil,
        offerVolume: Int64? = nil,
        isFinal: Bool = true
    ) {
        self.symbol = symbol
        self.instrument = instrument
        self.timeframe = timeframe
        self.start = start
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.upVolume = upVolume
        self.downVolume = downVolume
        self.upTicks = upTicks
        self.downTicks = downTicks
        self.bidVolume = bidVolume
        self.offerVolume = offerVolume
        self.isFinal = isFinal
    }

    /// Total volume: ``upVolume`` + ``downVolume`` (Tradovate sends no separate total).
    public var volume: Int64 { upVolume + downVolume }

    /// The end (exclusive) of the bar.
    public var end: Date { timeframe.barEnd(startingAt: start) }

    /// The bar's identity: contract symbol, timeframe and start.
    public var key: Key { Key(symbol: symbol, timeframe: timeframe, start: start) }

    /// The identity of a bar, on which sinks upsert.
    public struct Key: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
        /// The contract symbol.
        public var symbol: String
        /// The bar length.
        public var timeframe: Timeframe
        /// The bar start in UTC.
        public var start: Date

        /// Creates a key.
        public init(symbol: String, timeframe: Timeframe, start: Date) {
            self.symbol = symbol
            self.timeframe = timeframe
            self.start = start
        }

        public var description: String {
            "\(symbol) \(timeframe.label) \(start.formatted(.iso8601))"
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.symbol, lhs.timeframe.minutes, lhs.start) < (rhs.symbol, rhs.timeframe.minutes, rhs.start)
        }
    }

    public var description: String {
        "\(key) O=\(open) H=\(high) L=\(low) C=\(close) V=\(volume)\(isFinal ? "" : " (forming)")"
    }

    /// Checks every invariant a stored bar must hold, throwing the first violation.
    ///
    /// - prices are finite and on the instrument's tick grid;
    /// - `high ≥ max(open, close, low)` and `low ≤ min(open, close)`;
    /// - volumes and tick counts are non-negative;
    /// - the start is aligned to the timeframe;
    /// - the symbol is a contract of the instrument (`NQZ5` for NQ) or the bare root.
    ///
    /// - Throws: ``CandleValidationError`` with a code, the bar's key and the offending values.
    public func validate() throws(CandleValidationError) {
        for (name, price) in [("open", open), ("high", high), ("low", low), ("close", close)] {
            guard price.isFinite else {
                throw CandleValidationError(.nonFinitePrice, key, "\(name) price \(price) is not a finite number")
            }
            guard instrument.isOnTickGrid(price) else {
                throw CandleValidationError(
                    .offTickGrid, key,
                    "\(name) price \(price) is not a multiple of the tick size \(instrument.tickSize)")
            }
        }
        guard high >= max(open, close, low) else {
            throw CandleValidationError(
                .highTooLow, key, "high \(high) is below max(open \(open), close \(close), low \(low))")
        }
        guard low <= min(open, close) else {
            throw CandleValidationError(.lowTooHigh, key, "low \(low) is above min(open \(open), close \(close))")
        }
        let counts: [(String, Int64?)] = [
            ("upVolume", upVolume), ("downVolume", downVolume), ("upTicks", upTicks), ("downTicks", downTicks),
            ("bidVolume", bidVolume), ("offerVolume", offerVolume),
        ]
        for case (let name, let value?) in counts where value < 0 {
            throw CandleValidationError(.negativeVolume, key, "\(name) \(value) is negative")
        }
        guard timeframe.isAligned(start) else {
            throw CandleValidationError(
                .misalignedStart, key,
                "bar start \(start.formatted(.iso8601)) is not on the \(timeframe.label) grid")
        }
        guard symbol == instrument.root || (try? Contract(parsing: symbol, reference: start))?.root == instrument.root
        else {
            throw CandleValidationError(
                .symbolMismatch, key, "symbol '\(symbol)' is not a contract of \(instrument.root)")
        }
    }
}

/// A candle that breaks an invariant, with the bar's key and the offending values.
public struct CandleValidationError: CodedError, Sendable, Hashable {
    /// What went wrong, as a stable code.
    public typealias Code = StableCode<CandleValidationError>

    /// The error's code.
    public let code: Code
    /// The bar that failed.
    public let key: Candle.Key
    /// A plain-words explanation.
    public let message: String

    init(_ code: Code, _ key: Candle.Key, _ message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    public var description: String { "invalid bar \(key): \(message)" }
}

extension CandleValidationError.Code {
    /// A price is NaN or infinite.
    public static var nonFinitePrice: Self { Self("nonFinitePrice") }
    /// A price is not a multiple of the tick size.
    public static var offTickGrid: Self { Self("offTickGrid") }
    /// `high` is below open, close or low.
    public static var highTooLow: Self { Self("highTooLow") }
    /// `low` is above open or close.
    public static var lowTooHigh: Self { Self("lowTooHigh") }
    /// A volume or tick count is negative.
    public static var negativeVolume: Self { Self("negativeVolume") }
    /// The start is not a bar boundary of the timeframe.
    public static var misalignedStart: Self { Self("misalignedStart") }
    /// The symbol is not a contract of the instrument.
    public static var symbolMismatch: Self { Self("symbolMismatch") }
}
