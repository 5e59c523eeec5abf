public import CandleCore
public import Foundation

/// One chart a ``CandleSource`` serves: a contract (e.g. `NQZ5`) of an instrument, at one timeframe.
///
/// The collector picks the contract for every bar with CandleCore's front-month rule (`ContractCalendar`), so a
/// chart always names a concrete contract; candles a source returns carry ``symbol`` as their
/// `Candle.symbol`.
public struct ChartKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The contract symbol as the broker names it, e.g. `NQZ5` (one-digit year, protocol §6).
    public var symbol: String
    /// The product the contract belongs to.
    public var instrument: Instrument
    /// The bar length.
    public var timeframe: Timeframe

    /// Creates a chart key.
    public init(symbol: String, instrument: Instrument, timeframe: Timeframe) {
        self.symbol = symbol
        self.instrument = instrument
        self.timeframe = timeframe
    }

    /// The chart of `contract` (of `instrument`) at `timeframe`.
    public init(contract: Contract, instrument: Instrument, timeframe: Timeframe) {
        self.init(symbol: contract.symbol, instrument: instrument, timeframe: timeframe)
    }

    /// The series (instrument × timeframe) the chart's bars belong to.
    public var series: Series { Series(instrument, timeframe) }

    /// `NQZ5 5min`.
    public var description: String { "\(symbol) \(timeframe.label)" }
}

/// What a live chart subscription delivers.
public enum LiveChartEvent: Sendable, Hashable {
    /// A state of one bar as the source sent it. The forming bar arrives again and again with the same start and
    /// updated values; the collector decides when a bar is closed (a newer bar arrives, or the bar's end plus a settle
    /// time passes). `Candle.isFinal` is `false` unless the source itself knows the bar is closed.
    case bar(Candle)
    /// The connection carrying the subscription was lost; updates may be missing until ``resumed``.
    case interrupted(reason: String)
    /// The subscription is live again after a reconnect (re-authorized and re-subscribed). Bars that closed while it
    /// was down are not replayed: the collector heals them from history.
    case resumed
}

/// Where bars come from: Tradovate's market-data socket (`MarketData.TradovateCandleSource`), or a scripted source in tests
/// (`CandleTesting.ScriptedCandleSource`).
///
/// The collector and the backfill depend only on this protocol.
public protocol CandleSource: Sendable {
    /// The bars of `chart` whose start lies in `range` (`[lowerBound, upperBound)`), ascending by start, one per start.
    ///
    /// Implementations page through the broker's size limits themselves. A bar whose end lies after the source's
    /// current time is still forming and is returned with `Candle.isFinal` `false`; every other bar is final.
    /// A range with no trades returns an empty array.
    ///
    /// - Throws: ``CandleSourceError`` (or `CancellationError`).
    func history(of chart: ChartKey, in range: Range<Date>) async throws -> [Candle]

    /// Subscribes to live updates of `chart`. The stream ends when the consuming task is cancelled or the source is
    /// closed (then it finishes with `closed`); it survives reconnects, reporting them with
    /// ``LiveChartEvent/interrupted(reason:)`` and ``LiveChartEvent/resumed``. Ending the iteration cancels the
    /// subscription at the broker.
    ///
    /// - Throws: ``CandleSourceError`` when the subscription cannot be made at all (unknown symbol, no data plan).
    func live(_ chart: ChartKey) async throws -> AsyncThrowingStream<LiveChartEvent, any Error>
}

/// A ``CandleSource`` failure: a code to branch on, a message for people (never a token), and the chart if any.
public struct CandleSourceError: CodedError, Sendable, Hashable {
    /// What went wrong.
    public typealias Code = StableCode<CandleSourceError>

    /// What went wrong.
    public let code: Code
    /// A description for people; never contains a token or password.
    public let message: String
    /// The chart concerned, when there is one.
    public let chart: ChartKey?

    /// Creates an error.
    public init(_ code: Code, _ message: String, chart: ChartKey? = nil) {
        self.code = code
        self.message = message
        self.chart = chart
    }

    /// Whether trying again later may succeed (timeouts, lost connections, rate limits).
    public var isTransient: Bool {
        code == .timeout || code == .unavailable || code == .rateLimited || code == .protocolViolation
    }

    public var description: String {
        if let chart { return "\(chart): \(message) [\(code)]" }
        return "\(message) [\(code)]"
    }
}

extension CandleSourceError.Code {
    /// The broker does not know the symbol (`UnknownSymbol`), or the contract is not listed yet.
    public static var unknownSymbol: Self { Self("unknownSymbol") }
    /// The broker refuses the chart type or the user has no data plan (`OperationNotSupported`, `NoServicePlan`).
    public static var notSupported: Self { Self("notSupported") }
    /// The token was refused (401) even after renewal.
    public static var unauthorized: Self { Self("unauthorized") }
    /// A user-level limit (429) or a captcha penalty: wait before trying again.
    public static var rateLimited: Self { Self("rateLimited") }
    /// No answer within the request timeout.
    public static var timeout: Self { Self("timeout") }
    /// The server cannot be reached or the connection broke; the request may be retried.
    public static var unavailable: Self { Self("unavailable") }
    /// The server broke the protocol (malformed frame, unexpected shape).
    public static var protocolViolation: Self { Self("protocolViolation") }
    /// The source was closed.
    public static var closed: Self { Self("closed") }
    /// The request itself is wrong (empty range, a status 400 from the server).
    public static var invalidRequest: Self { Self("invalidRequest") }
}
