import CandleCore

/// A bar of N minutes built from minute bars, prices in ticks, keyed by its UTC grid start (epoch minutes).
struct AggregateBar: Hashable, Sendable {
    var start: Int64
    var minutes: Int
    var tradeDate: Int
    var contract: Contract
    var open: Int64
    var high: Int64
    var low: Int64
    var close: Int64
    var upVolume: Int64
    var downVolume: Int64
    var upTicks: Int64
    var downTicks: Int64
    var isFinal: Bool

    init(start: Int64, minutes: Int, tradeDate: Int, contract: Contract, first: MinuteBar) {
        self.start = start
        self.minutes = minutes
        self.tradeDate = tradeDate
        self.contract = contract
        self.open = first.open
        self.high = first.high
        self.low = first.low
        self.close = first.close
        self.upVolume = first.upVolume
        self.downVolume = first.downVolume
        self.upTicks = first.upTicks
        self.downTicks = first.downTicks
        self.isFinal = true
    }

    /// Adds a later minute.
    @inline(__always)
    mutating func absorb(_ bar: MinuteBar) {
        if bar.high > high { high = bar.high }
        if bar.low < low { low = bar.low }
        close = bar.close
        upVolume += bar.upVolume
        downVolume += bar.downVolume
        upTicks += bar.upTicks
        downTicks += bar.downTicks
    }

    /// Adds the later part of the same grid bar (a bar longer than the schedule's alignment, split by a halt).
    mutating func absorb(later other: AggregateBar) {
        high = max(high, other.high)
        low = min(low, other.low)
        close = other.close
        upVolume += other.upVolume
        downVolume += other.downVolume
        upTicks += other.upTicks
        downTicks += other.downTicks
        isFinal = other.isFinal
    }

    /// Whether two bars carry the same values (start, prices, volumes), ignoring finality.
    func sameValues(as other: AggregateBar) -> Bool {
        start == other.start && open == other.open && high == other.high && low == other.low && close == other.close
            && upVolume == other.upVolume && downVolume == other.downVolume && upTicks == other.upTicks
            && downTicks == other.downTicks
    }
}
