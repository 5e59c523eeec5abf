public import CandleCore
public import Collectors
public import Foundation

/// The `CandleSource` backed by Tradovate's market-data socket (a ``MarketDataClient``).
///
/// - ``history(of:in:)`` pages backwards (protocol §5.8): `closestTimestamp` just below the range's upper bound and
///   `asFarAsTimestamp` = its lower bound; a page that does not reach the lower bound is followed by another with
///   `closestTimestamp` = the oldest bar received (that bar comes again and is de-duplicated), until no older bar
///   arrives. Bars are returned ascending, one per start, stamped with the chart's symbol, instrument and timeframe;
///   a bar whose end lies after the wall clock's now is still forming (`Candle.isFinal` `false`).
/// - ``live(_:)`` subscribes with a small `asMuchAsElements` and forwards the bars sent after the history's `eoh`.
///
/// The client must be running (``MarketDataClient/run()``, in a service group or through
/// ``MarketDataClient/withRunning(_:)``).
public struct TradovateCandleSource: CandleSource {
    /// The client carrying the requests.
    public let client: MarketDataClient
    /// Market time: decides whether a history bar is still forming.
    public let wallClock: any WallClock
    /// `asMuchAsElements` of a live subscription (the history sent before real time starts; it is skipped).
    public let liveHistoryElements: Int
    /// Most pages one ``history(of:in:)`` call requests before giving up with `CandleSourceError.Code.unavailable`.
    public let maximumPages: Int

    /// Creates a source on `client`.
    public init(
        client: MarketDataClient, wallClock: any WallClock = SystemWallClock(), liveHistoryElements: Int = 1,
        maximumPages: Int = 10_000
    ) {
        self.client = client
        self.wallClock = wallClock
        self.liveHistoryElements = max(1, liveHistoryElements)
        self.maximumPages = max(1, maximumPages)
    }

    public func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle] {
        guard !range.isEmpty else {
            throw CandleSourceError(.invalidRequest, "the history range is empty", chart: chart)
        }
        // Just below the upper bound: `closestTimestamp` is inclusive at the broker, the range is not.
        var closest = range.upperBound.addingTimeInterval(-0.001)
        var byStart: [Int64: ChartBar] = [:]
        var oldest: Int64? = nil
        let lower = Int64((range.lowerBound.timeIntervalSince1970 * 1000).rounded(.up))
        let upper = Int64((range.upperBound.timeIntervalSince1970 * 1000).rounded(.up))
        for _ in 0..<maximumPages {
            let page = try await client.historyPage(
                of: chart, closestTimestamp: closest, asFarAsTimestamp: range.lowerBound, asMuchAsElements: nil)
            var pageOldest: Int64? = nil
            for bar in page where bar.startMilliseconds >= lower && bar.startMilliseconds < upper {
                byStart[bar.startMilliseconds] = bar
                pageOldest = min(pageOldest ?? bar.startMilliseconds, bar.startMilliseconds)
            }
            guard let pageOldest, pageOldest < (oldest ?? .max) else { return candles(byStart, chart) }
            oldest = pageOldest
            if pageOldest <= lower { return candles(byStart, chart) }
            closest = Date(timeIntervalSince1970: Double(pageOldest) / 1000)
        }
        throw CandleSourceError(
            .unavailable, "history did not reach the range's start within \(maximumPages) pages", chart: chart)
    }

    public func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        try await client.live(chart, asMuchAsElements: liveHistoryElements)
    }

    private func candles(_ bars: [Int64: ChartBar], _ chart: ChartKey) -> [Candle] {
        let now = wallClock.now()
        return bars.keys.sorted().compactMap { start in
            guard let bar = bars[start] else { return nil }
            let end = chart.timeframe.barEnd(startingAt: bar.start)
            return bar.candle(of: chart, isFinal: end <= now)
        }
    }
}
