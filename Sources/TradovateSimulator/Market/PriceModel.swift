import CandleCore
import Foundation

/// One minute of one contract, prices in ticks of the instrument's tick size. Bid volume = down volume and offer
/// volume = up volume (every trade is classified by its aggressor: buyers lift the offer on up-ticks).
struct MinuteBar: Hashable, Sendable {
    var open: Int64
    var high: Int64
    var low: Int64
    var close: Int64
    var upVolume: Int64
    var downVolume: Int64
    var upTicks: Int64
    var downTicks: Int64

    /// Extends the bar by `later`, which follows it: the later close, the wider range, the summed volumes and ticks.
    @inline(__always)
    mutating func absorb(_ later: MinuteBar) {
        if later.high > high { high = later.high }
        if later.low < low { low = later.low }
        close = later.close
        upVolume += later.upVolume
        downVolume += later.downVolume
        upTicks += later.upTicks
        downTicks += later.downTicks
    }
}

/// The deterministic price and volume stream of one contract: every value is a closed-form function of
/// (seed, root, contract, minute index), O(1) per minute.
///
/// - Price: `close(m)` = family level × (1 + carry to expiry) + a small contract-specific wiggle + per-minute jitter.
///   The family level is smooth value noise (octaves of 4 … 131 072 minutes with random-walk scaling) around the
///   profile's base price, shared by roots of one family. `open(m) = close(m − 1)`.
/// - High/low extend past open/close by hash-derived ticks, wider in busy hours.
/// - Volume follows a New York intraday profile (quiet overnight, peaks at the 09:30 open and 15:30–16:00 close),
///   scaled down for deferred (non-front) months; trade counts follow the average trade size; up/down shares lean
///   with the bar's direction.
struct ContractStream: Sendable {
    let contract: Contract
    let instrument: Instrument
    let tickSize: Double
    private let familyKey: UInt64
    private let contractKey: UInt64
    private let volumeKey: UInt64
    private let basePrice: Double
    private let volatility: Double
    private let carryPerMinute: Double
    /// First minute after the last trade (exclusive end of trading).
    let endMinute: Int64
    /// First minute the contract trades.
    let listedMinute: Int64
    /// Minutes in which the contract is the front month: [frontFrom, frontUntil).
    let frontFrom: Int64
    let frontUntil: Int64
    private let volumePerMinute: Double
    private let deferredShare: Double
    private let tradeSize: Double

    private static let octaveShifts: [Int] = [17, 14, 11, 8, 5, 2]
    private static let minutesPerQuarter: Double = 131_400

    init(seed: UInt64, contract: Contract, instrument: Instrument, configuration: MarketConfiguration) {
        let profile = configuration.profile(for: instrument)
        let calendar = configuration.contractCalendar
        self.contract = contract
        self.instrument = instrument
        self.tickSize = instrument.tickSize
        self.familyKey = StableHash.mix(seed ^ StableHash.fnv1a("family:" + profile.family))
        let full = "\(contract.root)\(contract.month.code)\(contract.year)"
        self.contractKey = StableHash.mix(
            seed ^ StableHash.fnv1a("contract:\(profile.family):\(contract.month.code)\(contract.year)"))
        self.volumeKey = StableHash.mix(seed ^ StableHash.fnv1a("volume:" + full))
        self.basePrice = profile.basePrice
        self.volatility = profile.volatility
        self.carryPerMinute = profile.carryPerQuarter / Self.minutesPerQuarter
        let lastTrade = calendar.lastTrade(of: contract)
        self.endMinute = Int64((lastTrade.timeIntervalSince1970 / 60).rounded(.up))
        self.listedMinute = Int64(
            ((lastTrade.timeIntervalSince1970 - configuration.listingPeriod.timeInterval) / 60).rounded(.down))
        let previous = Self.previousContract(before: contract, for: instrument)
        self.frontFrom = Int64((calendar.rollInstant(of: previous).timeIntervalSince1970 / 60).rounded(.down))
        self.frontUntil = Int64((calendar.rollInstant(of: contract).timeIntervalSince1970 / 60).rounded(.down))
        self.volumePerMinute = profile.volumePerMinute
        self.deferredShare = configuration.deferredVolumeShare
        self.tradeSize = max(1, profile.averageTradeSize)
    }

    static func previousContract(before contract: Contract, for instrument: Instrument) -> Contract {
        if let month = instrument.contractMonths.last(where: { $0 < contract.month }) {
            return Contract(root: contract.root, month: month, year: contract.year)
        }
        return Contract(
            root: contract.root, month: instrument.contractMonths[instrument.contractMonths.count - 1],
            year: contract.year - 1)
    }

    /// Whether the contract trades at all in minute `m` (listed and not past its last trade).
    @inline(__always)
    func trades(at m: Int64) -> Bool { m >= listedMinute && m < endMinute }

    /// The intraday activity weight at a New York minute of day (1.0 = regular hours).
    @inline(__always)
    static func activity(minuteOfDay tod: Int) -> Double {
        switch tod {
        case 570..<600: return 1.8  // 09:30–10:00 open
        case 600..<930: return 1.0  // regular hours
        case 930..<960: return 1.6  // 15:30–16:00 close
        case 960..<1020: return 0.25  // 16:00–17:00
        case 510..<570: return 0.45  // 08:30–09:30 (data releases)
        case 180..<510: return 0.2  // 03:00–08:30 (Europe)
        default: return 0.08  // Asia and evening
        }
    }

    @inline(__always)
    static func regime(minuteOfDay tod: Int) -> Double {
        max(0.35, min(1.4, activity(minuteOfDay: tod).squareRoot()))
    }

    @inline(__always)
    private static func octave(_ key: UInt64, _ shift: Int, _ m: Int64) -> Double {
        let block = m >> Int64(shift)
        let mask = (Int64(1) << Int64(shift)) - 1
        let frac = Double(m & mask) / Double(Int64(1) << Int64(shift))
        let v0 = StableHash.signedUnit(StableHash.hash(key, UInt64(shift), minute: block))
        let v1 = StableHash.signedUnit(StableHash.hash(key, UInt64(shift), minute: block + 1))
        let t = frac * frac * (3 - 2 * frac)
        return v0 + (v1 - v0) * t
    }

    /// The closing price of minute `m`, in ticks; `tod` is New York minute of day of `m`.
    @inline(__always)
    func closeTicks(_ m: Int64, minuteOfDay tod: Int) -> Int64 {
        var noise = 0.0
        for shift in Self.octaveShifts {
            noise += Self.octave(familyKey, shift, m) * volatility * 0.8 * Double(Int64(1) << Int64(shift)).squareRoot()
        }
        let level = basePrice * (1 + noise)
        let carry = 1 + carryPerMinute * Double(max(0, endMinute - m))
        let wiggle = (Self.octave(contractKey, 10, m) * 0.0006 + Self.octave(contractKey, 6, m) * 0.0002) * basePrice
        let jitter =
            StableHash.signedUnit(StableHash.hash(familyKey, 1, minute: m)) * volatility * 1.2
            * Self.regime(minuteOfDay: tod) * basePrice
        let price = level * carry + wiggle + jitter
        return max(1, Int64((price / tickSize).rounded()))
    }

    /// The minute bar for `m` given its open (the previous minute's close) and close, in ticks.
    @inline(__always)
    func bar(_ m: Int64, minuteOfDay tod: Int, open: Int64, close: Int64) -> MinuteBar {
        let activity = Self.activity(minuteOfDay: tod)
        let regime = Self.regime(minuteOfDay: tod)
        let h1 = StableHash.hash(volumeKey, 2, minute: m)
        let h2 = StableHash.hash(volumeKey, 3, minute: m)
        let u1 = StableHash.unit(h1)
        let u2 = StableHash.unit(h1 << 26 | h2 >> 38)
        let u3 = StableHash.unit(h2)
        let u4 = StableHash.unit(h2 << 21 | h1 >> 43)
        let maxExtension = max(1, volatility * regime * basePrice / tickSize * 1.2)
        let high = max(open, close) + Int64(u1 * u1 * maxExtension)
        let low = max(1, min(open, close) - Int64(u2 * u2 * maxExtension))
        let range = Double(high - low)
        let front = m >= frontFrom && m < frontUntil ? 1.0 : deferredShare
        let rawVolume =
            volumePerMinute * activity * front * (0.3 + 1.4 * u3 * u3 + 0.25 * min(4, range / (maxExtension + 1)))
        let volume = max(4, Int64(rawVolume))
        let trades = max(4, min(volume, Int64(Double(volume) / tradeSize * (0.75 + 0.5 * u4))))
        let direction: Double = close > open ? 1 : (close < open ? -1 : 0)
        let upShare = 0.5 + 0.12 * direction + 0.16 * (u2 - 0.5)
        let upTicks = min(trades - 1, max(1, Int64((Double(trades) * upShare).rounded())))
        let downTicks = trades - upTicks
        let upVolumeShare = upShare + 0.06 * (u1 - 0.5)
        let upVolume = min(volume - downTicks, max(upTicks, Int64((Double(volume) * upVolumeShare).rounded())))
        return MinuteBar(
            open: open, high: high, low: low, close: close, upVolume: upVolume, downVolume: volume - upVolume,
            upTicks: upTicks, downTicks: downTicks)
    }

    /// The minute bar for `m`, computed from scratch.
    func bar(_ m: Int64) -> MinuteBar {
        let open = closeTicks(m - 1, minuteOfDay: NewYorkTime.minuteOfDay(epochMinute: m - 1))
        let tod = NewYorkTime.minuteOfDay(epochMinute: m)
        return bar(m, minuteOfDay: tod, open: open, close: closeTicks(m, minuteOfDay: tod))
    }

    /// Calls `body` with each minute bar of `[from, to)` in order, reusing each close as the next open.
    @inline(__always)
    func forEachMinute(from: Int64, to: Int64, _ body: (Int64, MinuteBar) -> Void) {
        guard from < to else { return }
        var days = NewYorkDayCache()
        var previous = closeTicks(from - 1, minuteOfDay: days.minuteOfDay(epochMinute: from - 1))
        var m = from
        while m < to {
            let tod = days.minuteOfDay(epochMinute: m)
            let close = closeTicks(m, minuteOfDay: tod)
            body(m, bar(m, minuteOfDay: tod, open: previous, close: close))
            previous = close
            m += 1
        }
    }
}
