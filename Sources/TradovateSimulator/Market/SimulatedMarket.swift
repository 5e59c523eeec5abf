public import CandleCore
public import Foundation
import Synchronization

/// One simulated trade.
public struct SimulatedTrade: Sendable, Hashable {
    /// When it happened (UTC).
    public let time: Date
    /// Trade price, on the instrument's tick grid.
    public let price: Double
    /// Contracts traded.
    public let size: Int64
    /// `true` for a buyer-initiated trade (counted in up-volume / up-ticks and offer volume), `false` for a
    /// seller-initiated one (down-volume / down-ticks and bid volume).
    public let isUp: Bool
}

/// The deterministic synthetic market behind the simulator.
///
/// For a given ``seed`` every (root, contract) has a price and trade stream that exists only while
/// ``MarketConfiguration/tradingCalendar`` is open and the contract is listed (from ``MarketConfiguration/listingPeriod``
/// before its last trade until the last trade). One-minute bars are the atomic unit, computed in O(1) from
/// hash(seed, root, contract, minute); bars of N minutes are the aggregate of their one-minute bars, so a 15-minute bar
/// always equals the aggregate of its three 5-minute bars; trades inside a minute are derived from its bar (first trade
/// = open, last = close, high and low touched, sizes summing to the up/down volumes). Bars are keyed by their **start**
/// on the UTC epoch grid of their timeframe (`Timeframe`).
///
/// Symbols: a contract (`NQZ5`, `NQZ25`), a numeric contract id (see ``ContractDirectory``), or a continuous root
/// (`@NQ`) that maps every session to the front month per ``MarketConfiguration/contractCalendar``.
public final class SimulatedMarket: Sendable {
    /// The seed: equal seeds give byte-identical markets.
    public let seed: UInt64
    /// What trades and when.
    public let configuration: MarketConfiguration
    /// Contract and product ids and entities.
    public let directory: ContractDirectory
    let sessions: SessionTable
    private let streams = Mutex<[Contract: ContractStream]>([:])

    /// No bar exists before 2000-01-01 (bounds backward searches of continuous symbols).
    static let earliestMinute: Int64 = 10_957 * 1440

    /// Creates a market.
    public init(seed: UInt64, configuration: MarketConfiguration = .init()) {
        self.seed = seed
        self.configuration = configuration
        self.directory = ContractDirectory(configuration: configuration)
        self.sessions = SessionTable(calendar: configuration.tradingCalendar)
    }

    // MARK: - Symbols

    /// A symbol the market knows: one contract, or a root's continuous front month.
    struct ResolvedSymbol: Hashable, Sendable {
        let instrument: Instrument
        /// `nil` for a continuous symbol.
        let contract: Contract?
    }

    /// Resolves a contract name, numeric contract id or `@ROOT` at `minute` (contracts listed after it are unknown).
    func resolveSymbol(_ text: String, atMinute minute: Int64) -> ResolvedSymbol? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@") {
            let root = String(trimmed.dropFirst()).uppercased()
            guard let instrument = configuration.instruments.first(where: { $0.root == root }) else { return nil }
            return ResolvedSymbol(instrument: instrument, contract: nil)
        }
        let contract: Contract
        if let id = Int(trimmed) {
            guard let found = directory.contract(id: id) else { return nil }
            contract = found
        } else {
            let reference = Date(timeIntervalSince1970: TimeInterval(minute * 60))
            guard let parsed = try? Contract(parsing: trimmed, reference: reference) else { return nil }
            contract = parsed
        }
        guard let instrument = configuration.instruments.first(where: { $0.root == contract.root }),
            instrument.contractMonths.contains(contract.month)
        else { return nil }
        guard stream(for: contract, instrument: instrument).listedMinute <= minute else { return nil }
        return ResolvedSymbol(instrument: instrument, contract: contract)
    }

    func stream(for contract: Contract, instrument: Instrument) -> ContractStream {
        if let cached = streams.withLock({ $0[contract] }) { return cached }
        let made = ContractStream(seed: seed, contract: contract, instrument: instrument, configuration: configuration)
        streams.withLock { $0[contract] = made }
        return made
    }

    /// The contract a symbol trades in a session.
    func contract(for symbol: ResolvedSymbol, in span: SessionSpan) -> Contract {
        if let contract = symbol.contract { return contract }
        return configuration.contractCalendar.frontMonth(
            symbol.instrument, at: Date(timeIntervalSince1970: TimeInterval(span.open * 60)))
    }

    /// The contract a symbol trades at a minute.
    func contract(for symbol: ResolvedSymbol, atMinute minute: Int64) -> Contract {
        if let contract = symbol.contract { return contract }
        return configuration.contractCalendar.frontMonth(
            symbol.instrument, at: Date(timeIntervalSince1970: TimeInterval(minute * 60)))
    }

    // MARK: - Bars

    /// Appends the bars of `[lo, hi)` minutes of one session, ascending, to `output`; the minute containing
    /// `nowMillis` is cut at it.
    private func appendBars(
        stream: ContractStream, span: SessionSpan, minutes n: Int, lo: Int64, hi: Int64, nowMillis: Int64,
        into output: inout [AggregateBar]
    ) {
        guard lo < hi else { return }
        let n64 = Int64(n)
        let partialMinute: Int64? = hi * 60_000 > nowMillis ? hi - 1 : nil
        let fullHi = partialMinute ?? hi
        var days = NewYorkDayCache()
        let firstIndex = output.count
        var current: AggregateBar? = nil
        // Adds the minute starting at epoch minute `minute` to its grid bar, starting a new bar when it is the first.
        func add(_ bar: MinuteBar, at minute: Int64) {
            let start = CivilDate.floorDivide(minute, n64) * n64
            if current?.start == start {
                current!.absorb(bar)
            } else {
                if let done = current { output.append(done) }
                current = AggregateBar(
                    start: start, minutes: n, tradeDate: span.tradeDate, contract: stream.contract, first: bar)
            }
        }
        var previousClose = stream.closeTicks(lo - 1, minuteOfDay: days.minuteOfDay(epochMinute: lo - 1))
        var m = lo
        while m < fullHi {
            let tod = days.minuteOfDay(epochMinute: m)
            let close = stream.closeTicks(m, minuteOfDay: tod)
            let bar = stream.bar(m, minuteOfDay: tod, open: previousClose, close: close)
            previousClose = close
            add(bar, at: m)
            m += 1
        }
        if let partialMinute {
            let full = stream.bar(partialMinute)
            if let bar = stream.partialBar(
                partialMinute, bar: full, beforeMillis: Int(nowMillis - partialMinute * 60_000))
            {
                add(bar, at: partialMinute)
            }
        }
        if let done = current { output.append(done) }
        // Only the newest bar can still be forming: it is final once the bar or the session is over.
        if output.count > firstIndex {
            let last = output.count - 1
            let end = min(output[last].start + n64, span.close)
            output[last].isFinal = nowMillis >= end * 60_000
        }
    }

    /// The newest bars of `n` minutes with a start in `[oldestStart, newestStart]` (epoch minutes, grid-aligned) that
    /// have at least one trade before `nowMillis`, at most `maxCount`, ascending.
    func history(
        _ symbol: ResolvedSymbol, minutes n: Int, newestStart: Int64, oldestStart: Int64, maxCount: Int,
        nowMillis: Int64
    ) -> [AggregateBar] {
        guard maxCount > 0, newestStart >= oldestStart else { return [] }
        let nowMinuteCeil = (nowMillis + 59_999) / 60_000
        var upper = min(newestStart + Int64(n), nowMinuteCeil)
        let lower = max(oldestStart, Self.earliestMinute)
        var collected: [AggregateBar] = []  // descending by start
        var extraSessions = n > 60 ? 1 : 0
        var sessionBars: [AggregateBar] = []
        search: while upper > lower {
            let chunkFrom = max(lower, upper - 14 * 1440)
            let spans = sessions.sessions(from: chunkFrom, to: upper)
            var nextUpper = chunkFrom
            for span in spans.reversed() {
                nextUpper = min(nextUpper, span.open)
                let contract = contract(for: symbol, in: span)
                let stream = stream(for: contract, instrument: symbol.instrument)
                if symbol.contract != nil && span.close <= stream.listedMinute { break search }
                let lo = max(span.open, lower, stream.listedMinute)
                let hi = min(span.close, upper, stream.endMinute)
                sessionBars.removeAll(keepingCapacity: true)
                appendBars(
                    stream: stream, span: span, minutes: n, lo: lo, hi: hi, nowMillis: nowMillis, into: &sessionBars)
                for bar in sessionBars.reversed() {
                    if let newest = collected.last, newest.start == bar.start {
                        var merged = bar
                        merged.absorb(later: newest)
                        collected[collected.count - 1] = merged
                    } else {
                        collected.append(bar)
                    }
                }
                if collected.count >= maxCount {
                    if extraSessions == 0 { break search }
                    extraSessions -= 1
                }
            }
            upper = nextUpper
        }
        return Array(collected.prefix(maxCount).reversed())
    }

    /// The bar of `n` minutes starting at `start` (epoch minutes) as of `nowMillis`, or `nil` when it has no trade yet.
    func bar(_ symbol: ResolvedSymbol, minutes n: Int, start: Int64, nowMillis: Int64) -> AggregateBar? {
        history(symbol, minutes: n, newestStart: start, oldestStart: start, maxCount: 1, nowMillis: nowMillis).first
    }

    // MARK: - Public API

    private func resolvePublic(_ symbol: String, at instant: Date) throws(SimulatorError) -> ResolvedSymbol {
        guard let resolved = resolveSymbol(symbol, atMinute: Int64((instant.timeIntervalSince1970 / 60).rounded(.down)))
        else {
            throw SimulatorError(.unknownSymbol, "'\(symbol)' is not a listed contract, contract id or @ROOT")
        }
        return resolved
    }

    /// The contract a symbol means at `instant`: the contract itself, or the front month for `@ROOT`.
    ///
    /// - Throws: ``SimulatorError`` with code `unknownSymbol`.
    public func contract(for symbol: String, at instant: Date) throws(SimulatorError) -> Contract {
        let resolved = try resolvePublic(symbol, at: instant)
        return resolved.contract ?? configuration.contractCalendar.frontMonth(resolved.instrument, at: instant)
    }

    /// Every bar of `timeframe` with a start in `[from, to)` as the market stands at `asOf`: closed bars are final, the
    /// bar containing `asOf` holds the trades before it and is not final, later bars do not exist. Ascending.
    ///
    /// - Throws: ``SimulatorError`` with code `unknownSymbol`.
    public func candles(
        symbol: String, timeframe: Timeframe, from: Date, to: Date, asOf: Date
    ) throws(SimulatorError) -> [Candle] {
        let resolved = try resolvePublic(symbol, at: asOf)
        let n = Int64(timeframe.minutes)
        let fromMinute = Int64((from.timeIntervalSince1970 / 60).rounded(.up))
        let toMinute = Int64((to.timeIntervalSince1970 / 60).rounded(.up))
        let oldest = CivilDate.floorDivide(fromMinute + n - 1, n) * n
        let newest = CivilDate.floorDivide(toMinute - 1, n) * n
        let bars = history(
            resolved, minutes: timeframe.minutes, newestStart: newest, oldestStart: oldest, maxCount: .max,
            nowMillis: Self.millis(asOf))
        return bars.map { candle($0, instrument: resolved.instrument, timeframe: timeframe) }
    }

    /// The bar of `timeframe` starting at `start` as the market stands at `asOf`, or `nil` when it has no trade.
    ///
    /// - Throws: ``SimulatorError`` with code `unknownSymbol`.
    public func candle(
        symbol: String, timeframe: Timeframe, start: Date, asOf: Date
    ) throws(SimulatorError) -> Candle? {
        let resolved = try resolvePublic(symbol, at: asOf)
        let startMinute = Int64((timeframe.barStart(containing: start).timeIntervalSince1970 / 60).rounded(.down))
        return bar(resolved, minutes: timeframe.minutes, start: startMinute, nowMillis: Self.millis(asOf))
            .map { candle($0, instrument: resolved.instrument, timeframe: timeframe) }
    }

    /// The trades of `contract` in the minute starting at `minute` (empty when the market is closed or the contract
    /// does not trade then).
    public func trades(contract: Contract, minuteStarting minute: Date) -> [SimulatedTrade] {
        guard let instrument = configuration.instruments.first(where: { $0.root == contract.root }) else { return [] }
        let m = Int64((minute.timeIntervalSince1970 / 60).rounded(.down))
        let stream = stream(for: contract, instrument: instrument)
        guard stream.trades(at: m), sessions.session(containing: m) != nil else { return [] }
        return stream.ticks(m, bar: stream.bar(m)).map { tick in
            SimulatedTrade(
                time: Date(timeIntervalSince1970: TimeInterval(m * 60) + TimeInterval(tick.offsetMillis) / 1000),
                price: Double(tick.price) * instrument.tickSize, size: tick.size, isUp: tick.isUp)
        }
    }

    func candle(_ bar: AggregateBar, instrument: Instrument, timeframe: Timeframe) -> Candle {
        let tick = instrument.tickSize
        return Candle(
            symbol: bar.contract.symbol, instrument: instrument, timeframe: timeframe,
            start: Date(timeIntervalSince1970: TimeInterval(bar.start * 60)),
            open: Double(bar.open) * tick, high: Double(bar.high) * tick, low: Double(bar.low) * tick,
            close: Double(bar.close) * tick, upVolume: bar.upVolume, downVolume: bar.downVolume,
            upTicks: bar.upTicks, downTicks: bar.downTicks, bidVolume: bar.downVolume, offerVolume: bar.upVolume,
            isFinal: bar.isFinal)
    }

    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
