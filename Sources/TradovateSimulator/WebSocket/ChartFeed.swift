import CandleCore
import Foundation

/// The bar arithmetic of chart subscriptions: which history an `md/getChart` gets, and which real-time updates are
/// due at an instant. Pure functions of the market and the chart settings.
struct ChartFeed: Sendable {
    typealias Subscription = WebSocketConnectionStateMachine.Subscription

    let market: SimulatedMarket
    let charts: SimulatorConfiguration.Charts

    /// The range an `md/getChart` asked for.
    struct HistoryRange: Sendable {
        let closest: Date?
        let asFarAs: Date?
        let count: Int?
    }

    /// The history bars for a new subscription at `nowMillis`, oldest first.
    func historyBars(_ subscription: Subscription, range: HistoryRange, nowMillis: Int64) -> [AggregateBar] {
        let n = Int64(subscription.minutes)
        let market = self.market
        if let contract = subscription.symbol.contract, !charts.expiredContractsHaveHistory {
            let stream = market.stream(for: contract, instrument: subscription.symbol.instrument)
            if nowMillis >= stream.endMinute * 60_000 { return [] }
        }
        var newest = CivilDate.floorDivide(CivilDate.floorDivide(nowMillis - 1, 60_000), n) * n
        if let closest = range.closest {
            let millis = SimulatedMarket.millis(closest)
            let minute =
                charts.closestTimestampInclusive
                ? CivilDate.floorDivide(millis, 60_000) : CivilDate.floorDivide(millis + 59_999, 60_000) - 1
            newest = min(newest, CivilDate.floorDivide(minute, n) * n)
        }
        var oldest = SimulatedMarket.earliestMinute
        if let far = range.asFarAs {
            let minute = CivilDate.floorDivide(SimulatedMarket.millis(far) + 59_999, 60_000)
            oldest = max(oldest, CivilDate.floorDivide(minute + n - 1, n) * n)
        }
        if let depth = charts.historyDepth {
            let minute = CivilDate.floorDivide(nowMillis - Int64(depth.timeInterval * 1000) + 59_999, 60_000)
            oldest = max(oldest, CivilDate.floorDivide(minute + n - 1, n) * n)
        }
        let cap = max(1, charts.maxBarsPerResponse)
        let wanted = min(cap, max(0, range.count ?? cap))
        var bars = market.history(
            subscription.symbol, minutes: subscription.minutes, newestStart: newest, oldestStart: oldest,
            maxCount: charts.includeFormingBarInHistory ? wanted : wanted + 1, nowMillis: nowMillis)
        if !charts.includeFormingBarInHistory {
            if let last = bars.last, !last.isFinal { bars.removeLast() }
            if bars.count > wanted { bars.removeFirst(bars.count - wanted) }
        }
        return bars
    }

    /// The bars to send for one subscription at `nowMillis`, its new last-sent bar, and when to look again. With
    /// `quiet`, only the forming bar as of its last completed minute is sent, and nothing once a bar has closed
    /// (``SimulatorFaults/quietCharts(_:)``).
    func updates(
        for subscription: Subscription, nowMillis: Int64, quiet: Bool = false
    ) -> ([AggregateBar], AggregateBar?, Date?) {
        let market = self.market
        let n = Int64(subscription.minutes)
        let symbol = subscription.symbol
        let latest = CivilDate.floorDivide(CivilDate.floorDivide(nowMillis - 1, 60_000), n) * n
        var out: [AggregateBar] = []
        var last = subscription.lastSent
        if quiet {
            // The state as of the last whole minute of the bar forming now, once it has one; closed bars never.
            let wholeMinute = CivilDate.floorDivide(nowMillis, 60_000)
            let forming = CivilDate.floorDivide(wholeMinute, n) * n
            if wholeMinute > forming,
                let current = market.bar(
                    symbol, minutes: subscription.minutes, start: forming, nowMillis: wholeMinute * 60_000),
                last.map({ $0.start != current.start || !current.sameValues(as: $0) }) ?? true
            {
                var partial = current
                partial.isFinal = false
                out.append(partial)
                last = partial
            }
        }
        // 1. The previously forming bar, now closed: its final state.
        if !quiet, let previous = last, !previous.isFinal, previous.start < latest {
            if let final = market.bar(
                symbol, minutes: subscription.minutes, start: previous.start, nowMillis: nowMillis)
            {
                if charts.sendFinalBar || !final.sameValues(as: previous) { out.append(final) }
                last = final
            }
        }
        // 2. Bars that opened and closed since (a clock jump).
        if !quiet, let previous = last, latest - n > previous.start {
            let gap = market.history(
                symbol, minutes: subscription.minutes, newestStart: latest - n, oldestStart: previous.start + n,
                maxCount: max(1, charts.maxBarsPerResponse), nowMillis: nowMillis)
            out += gap
            last = gap.last ?? last
        }
        // 3. The newest bar.
        if !quiet, last == nil || latest > last!.start || !last!.isFinal {
            if let current = market.bar(symbol, minutes: subscription.minutes, start: latest, nowMillis: nowMillis) {
                if let previous = last, previous.start == current.start {
                    let changed = !current.sameValues(as: previous)
                    let finalCopy = current.isFinal && !previous.isFinal && charts.sendFinalBar
                    if changed || finalCopy { out.append(current) }
                } else {
                    out.append(current)
                }
                last = current
            }
        }
        // When to look again.
        let interval = max(0.001, charts.formingBarUpdateInterval.timeInterval)
        let nowMinute = CivilDate.floorDivide(nowMillis, 60_000)
        if let contract = symbol.contract {
            let stream = market.stream(for: contract, instrument: symbol.instrument)
            if nowMinute >= stream.endMinute { return (out, last, nil) }
        }
        let next: Date
        if let span = market.sessions.session(containing: nowMinute) {
            let boundary = (CivilDate.floorDivide(nowMinute, n) * n + n) * 60
            let candidates = [
                Double(nowMillis) / 1000 + interval, Double(boundary), Double(span.close * 60),
            ]
            next = Date(timeIntervalSince1970: candidates.min()!)
        } else if let span = market.sessions.nextSession(openingAtOrAfter: nowMinute + 1) {
            next = Date(timeIntervalSince1970: TimeInterval(span.open * 60))
        } else {
            return (out, last, nil)
        }
        return (out, last, next)
    }
}
