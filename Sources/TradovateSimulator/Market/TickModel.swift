import Foundation

/// One trade inside a minute: milliseconds after the minute's start, price in ticks, size, aggressor side.
struct MinuteTick: Hashable, Sendable {
    var offsetMillis: Int
    var price: Int64
    var size: Int64
    var isUp: Bool
}

/// A small deterministic generator (SplitMix64 stream) for the intra-minute tick layout.
struct TickRandom {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.mix(state)
    }
    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func unit() -> Double { StableHash.unit(next()) }
}

extension ContractStream {
    /// The trades of minute `m`, consistent with its bar: the first trade is at the open (offset 0), the last at the
    /// close, the high and the low are each touched, every price lies in [low, high] on the tick grid, there are
    /// exactly `upTicks` up-trades whose sizes sum to `upVolume` and `downTicks` down-trades summing to `downVolume`.
    /// Offsets increase through the minute.
    func ticks(_ m: Int64, bar: MinuteBar) -> [MinuteTick] {
        let n = Int(bar.upTicks + bar.downTicks)
        guard n > 0 else { return [] }
        var random = TickRandom(
            StableHash.hash(StableHash.fnv1a("ticks:\(contract.symbol)\(contract.year)"), 7, minute: m))

        // Times: one trade per equal slot, the first exactly at the minute's start.
        var ticks = [MinuteTick]()
        ticks.reserveCapacity(n)
        let slot = 60_000.0 / Double(n)
        for i in 0..<n {
            let offset = i == 0 ? 0 : min(59_999, Int(Double(i) * slot + random.unit() * slot * 0.9))
            ticks.append(MinuteTick(offsetMillis: offset, price: bar.open, size: 0, isUp: false))
        }
        for i in 1..<max(1, n) where ticks[i].offsetMillis < ticks[i - 1].offsetMillis {
            ticks[i].offsetMillis = ticks[i - 1].offsetMillis
        }

        // Prices: piecewise-linear through open → high/low (in random order) → close, with ±1 tick noise.
        var anchors: [(index: Int, price: Int64)] = [(0, bar.open)]
        if n >= 4 {
            let a = 1 + random.below(n - 2)
            var b = 1 + random.below(n - 3)
            if b >= a { b += 1 }
            let highFirst = random.below(2) == 0
            anchors.append((min(a, b), highFirst ? bar.high : bar.low))
            anchors.append((max(a, b), highFirst ? bar.low : bar.high))
        }
        if n > 1 { anchors.append((n - 1, bar.close)) }
        for (from, to) in zip(anchors, anchors.dropFirst()) {
            let span = to.index - from.index
            for i in from.index...to.index {
                if i == from.index || i == to.index {
                    ticks[i].price = i == from.index ? from.price : to.price
                    continue
                }
                let fraction = Double(i - from.index) / Double(span)
                let straight = Double(from.price) + Double(to.price - from.price) * fraction
                let noisy = Int64(straight.rounded()) + Int64(random.below(3)) - 1
                ticks[i].price = min(bar.high, max(bar.low, noisy))
            }
        }
        if n < 4 {
            // Too few trades for four anchors: the bar generator never makes such a minute, but stay consistent.
            ticks[0].price = bar.open
        }

        // Sides: exactly upTicks up-trades, preferring trades that moved the price up.
        let upCount = Int(bar.upTicks)
        var scored = [(score: Double, index: Int)]()
        scored.reserveCapacity(n)
        for i in 0..<n {
            let move = i == 0 ? 0 : ticks[i].price - ticks[i - 1].price
            let direction: Double = move > 0 ? 1 : (move < 0 ? -1 : 0)
            scored.append((direction + 0.9 * random.unit(), i))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        for k in 0..<min(upCount, n) { ticks[scored[k].index].isUp = true }

        // Sizes: every trade at least 1, the rest spread by random weights, summing exactly to the side's volume.
        distribute(bar.upVolume, over: ticks.indices.filter { ticks[$0].isUp }, in: &ticks, random: &random)
        distribute(bar.downVolume, over: ticks.indices.filter { !ticks[$0].isUp }, in: &ticks, random: &random)
        return ticks
    }

    private func distribute(
        _ volume: Int64, over indices: [Int], in ticks: inout [MinuteTick], random: inout TickRandom
    ) {
        guard !indices.isEmpty else { return }
        let spare = max(0, volume - Int64(indices.count))
        let weights = indices.map { _ in Int64(1 + random.below(8)) }
        let total = weights.reduce(0, +)
        var assigned: Int64 = 0
        for (k, index) in indices.enumerated() {
            let extra = spare * weights[k] / total
            ticks[index].size = 1 + extra
            assigned += 1 + extra
        }
        var k = 0
        while assigned < volume {
            ticks[indices[k % indices.count]].size += 1
            assigned += 1
            k += 1
        }
    }

    /// The bar of minute `m` made of its trades strictly before `millis` milliseconds into the minute, or `nil` when
    /// none has happened yet.
    func partialBar(_ m: Int64, bar: MinuteBar, beforeMillis millis: Int) -> MinuteBar? {
        if millis >= 60_000 { return bar }
        let trades = ticks(m, bar: bar).prefix { $0.offsetMillis < millis }
        guard let first = trades.first, let last = trades.last else { return nil }
        var result = MinuteBar(
            open: first.price, high: first.price, low: first.price, close: last.price, upVolume: 0, downVolume: 0,
            upTicks: 0, downTicks: 0)
        for trade in trades {
            result.high = max(result.high, trade.price)
            result.low = min(result.low, trade.price)
            if trade.isUp {
                result.upVolume += trade.size
                result.upTicks += 1
            } else {
                result.downVolume += trade.size
                result.downTicks += 1
            }
        }
        return result
    }
}
