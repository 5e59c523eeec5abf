/// One collected series: an instrument at a timeframe (e.g. NQ × 5 minutes). The contract changes along a series at
/// each roll; the series is what the seed schema stores in one table (`orca.nq_candles_5min`).
public struct Series: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The instrument.
    public var instrument: Instrument
    /// The bar length.
    public var timeframe: Timeframe

    /// Creates a series.
    public init(_ instrument: Instrument, _ timeframe: Timeframe) {
        self.instrument = instrument
        self.timeframe = timeframe
    }

    /// The old system's 16 series: NQ, MNQ, ES, MES × 5, 15, 30, 60 minutes.
    public static let seedDefaults: [Series] = Instrument.builtIns.flatMap { instrument in
        Timeframe.seedDefaults.map { Series(instrument, $0) }
    }

    /// `NQ 5min`.
    public var description: String { "\(instrument.root) \(timeframe.label)" }

    public static func < (lhs: Series, rhs: Series) -> Bool {
        (lhs.instrument.root, lhs.timeframe.minutes) < (rhs.instrument.root, rhs.timeframe.minutes)
    }
}

extension Candle {
    /// The series this bar belongs to.
    public var series: Series { Series(instrument, timeframe) }
}
