import CandleCore

/// A bar of N minutes built from minute bars, prices in ticks, keyed by its UTC grid start (epoch minutes).
///
/// Its prices and volumes are a ``MinuteBar`` (``values``), read as the bar's own (`bar.open`, `bar.upVolume`).
@dynamicMemberLookup
struct AggregateBar: Hashable, Sendable {
    var start: Int64
    var minutes: Int
    var tradeDate: Int
    var contract: Contract
    /// Open, high, low, close and volumes over the minutes absorbed so far.
    var values: MinuteBar
    var isFinal: Bool

    init(start: Int64, minutes: Int, tradeDate: Int, contract: Contract, first: MinuteBar) {
        self.start = start
        self.minutes = minutes
        self.tradeDate = tradeDate
        self.contract = contract
        self.values = first
        self.isFinal = true
    }

    /// A price or volume of ``values``.
    subscript(dynamicMember keyPath: KeyPath<MinuteBar, Int64>) -> Int64 {
        values[keyPath: keyPath]
    }

    /// Adds a later minute.
    @inline(__always)
    mutating func absorb(_ bar: MinuteBar) {
        values.absorb(bar)
    }

    /// Adds the later part of the same grid bar (a bar longer than the schedule's alignment, split by a halt).
    mutating func absorb(later other: AggregateBar) {
        values.absorb(other.values)
        isFinal = other.isFinal
    }

    /// Whether two bars carry the same values (start, prices, volumes), ignoring finality.
    func sameValues(as other: AggregateBar) -> Bool {
        start == other.start && values == other.values
    }
}
