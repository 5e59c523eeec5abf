public import CandleCore
import Foundation

/// The synthetic market's character for one root: its price level, volatility and volume.
public struct InstrumentProfile: Sendable, Hashable, Codable {
    /// The price-path family. Roots with the same family (NQ and MNQ → `NDX`, ES and MES → `SPX`) share one path, so a
    /// micro contract trades at the same price as its E-mini of the same month.
    public var family: String
    /// The index level the family's path wanders around (default: NDX 21 000, SPX 6 000).
    public var basePrice: Double
    /// Relative price noise per minute (default 0.00022 for NDX, 0.00018 for SPX); larger = wider bars.
    public var volatility: Double
    /// Average contracts per minute of the front month during regular US hours (NQ 900, MNQ 2 600, ES 1 500,
    /// MES 1 700).
    public var volumePerMinute: Double
    /// Average contracts per trade (NQ 2, MNQ 3, ES 4, MES 3); sets the up/down tick counts.
    public var averageTradeSize: Double
    /// Premium of a contract over the index per quarter to expiry (default 0.9 % NDX, 0.8 % SPX): each contract has its
    /// own level, converging to the index at expiry.
    public var carryPerQuarter: Double

    /// Creates a profile.
    public init(
        family: String, basePrice: Double, volatility: Double, volumePerMinute: Double, averageTradeSize: Double,
        carryPerQuarter: Double
    ) {
        self.family = family
        self.basePrice = basePrice
        self.volatility = volatility
        self.volumePerMinute = volumePerMinute
        self.averageTradeSize = averageTradeSize
        self.carryPerQuarter = carryPerQuarter
    }

    /// The built-in profiles for NQ, MNQ, ES and MES.
    public static let builtIns: [String: InstrumentProfile] = [
        "NQ": InstrumentProfile(
            family: "NDX", basePrice: 21_000, volatility: 0.000_22, volumePerMinute: 900, averageTradeSize: 2,
            carryPerQuarter: 0.009),
        "MNQ": InstrumentProfile(
            family: "NDX", basePrice: 21_000, volatility: 0.000_22, volumePerMinute: 2_600, averageTradeSize: 3,
            carryPerQuarter: 0.009),
        "ES": InstrumentProfile(
            family: "SPX", basePrice: 6_000, volatility: 0.000_18, volumePerMinute: 1_500, averageTradeSize: 4,
            carryPerQuarter: 0.008),
        "MES": InstrumentProfile(
            family: "SPX", basePrice: 6_000, volatility: 0.000_18, volumePerMinute: 1_700, averageTradeSize: 3,
            carryPerQuarter: 0.008),
    ]

    /// The profile used for a root without one: its own family, a level of 4 000 ticks, moderate volume.
    public static func fallback(for instrument: Instrument) -> InstrumentProfile {
        InstrumentProfile(
            family: instrument.root, basePrice: 4_000 * instrument.tickSize, volatility: 0.000_25,
            volumePerMinute: 300, averageTradeSize: 2, carryPerQuarter: 0.005)
    }
}

/// What the synthetic market trades and when.
public struct MarketConfiguration: Sendable {
    /// The roots that exist (default: NQ, MNQ, ES, MES). Contract ids follow this order.
    public var instruments: [Instrument]
    /// When the market is open (default `TradingCalendar.cmeEquityIndex`): no bar exists outside it.
    public var tradingCalendar: TradingCalendar
    /// Expiry and roll rules (default `ContractCalendar.standard`): the front month, what `@NQ` maps to.
    public var contractCalendar: ContractCalendar
    /// Per-root profiles, keyed by root (default ``InstrumentProfile/builtIns``; others use
    /// ``InstrumentProfile/fallback(for:)``).
    public var profiles: [String: InstrumentProfile]
    /// How long before its last trade a contract starts trading (default 365 days).
    public var listingPeriod: Duration
    /// Volume of a contract that is not the front month, as a share of the front month's (default 0.03).
    public var deferredVolumeShare: Double

    /// Creates a market configuration; every parameter has the documented default.
    public init(
        instruments: [Instrument] = Instrument.builtIns,
        tradingCalendar: TradingCalendar = .cmeEquityIndex,
        contractCalendar: ContractCalendar = .standard,
        profiles: [String: InstrumentProfile] = InstrumentProfile.builtIns,
        listingPeriod: Duration = .seconds(365 * 86_400),
        deferredVolumeShare: Double = 0.03
    ) {
        self.instruments = instruments
        self.tradingCalendar = tradingCalendar
        self.contractCalendar = contractCalendar
        self.profiles = profiles
        self.listingPeriod = listingPeriod
        self.deferredVolumeShare = deferredVolumeShare
    }

    /// The profile of `instrument`.
    public func profile(for instrument: Instrument) -> InstrumentProfile {
        profiles[instrument.root] ?? .fallback(for: instrument)
    }
}
