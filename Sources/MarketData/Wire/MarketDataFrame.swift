public import CandleCore
public import Collectors
public import Foundation

/// One server frame of the Tradovate market-data WebSocket (protocol §4.1): the first byte of a text message names its
/// type.
public enum MarketDataFrame: Sendable, Hashable {
    /// `o`: sent once right after connect; the client authorizes after it.
    case open
    /// `h`: a server heartbeat (no payload).
    case heartbeat
    /// `a[...]`: responses and events, in the order the server sent them.
    case messages([MarketDataMessage])
    /// `c[code,"reason"]`: the server closes the connection.
    case close(code: Int, reason: String)
}

/// One element of an `a[...]` frame (protocol §4.5): a response (has `i`) or an event (has `e`).
public enum MarketDataMessage: Sendable, Hashable {
    /// `{"i":..,"s":..,"d":..}`: the answer to a request.
    case response(MarketDataResponse)
    /// `{"e":"chart","d":{"charts":[...]}}`: chart packets, in order.
    case chart([ChartPacket])
    /// `{"e":"shutdown","d":{"reasonCode":..,"reason":..}}`: the server is about to close the connection.
    case shutdown(reasonCode: String, reason: String?)
    /// Any other event kind (`md`, `props`, `clock`, …); its payload was checked to be JSON and skipped.
    case event(kind: String)
}

/// The answer to a request: `{"i":<request id>,"s":<HTTP-like status>,"d":<payload>}`.
public struct MarketDataResponse: Sendable, Hashable {
    /// The request id (`i`).
    public var id: Int
    /// The HTTP-like status (`s`), e.g. 200, 401, 404, 429.
    public var status: Int
    /// The payload (`d`).
    public var payload: MarketDataPayload

    /// Creates a response.
    public init(id: Int, status: Int, payload: MarketDataPayload = .none) {
        self.id = id
        self.status = status
        self.payload = payload
    }
}

/// The `d` of a response, classified.
public enum MarketDataPayload: Sendable, Hashable {
    /// No `d` (or `"d":null`), e.g. the answer to `authorize`.
    case none
    /// `d` is a string: the error text of a non-2xx status (e.g. `Access is denied`).
    case text(String)
    /// `d` is a penalty ticket (it has `p-ticket`, protocol §3.2): wait, then resend with the ticket.
    case penalty(PenaltyTicket)
    /// `d` is an `md/getChart` result (it has `historicalId`, `realtimeId`, `errorCode`, `errorText` or `mode`).
    case chartSubscription(ChartSubscription)
    /// Any other JSON value, as compact JSON text (whitespace outside strings removed, otherwise as sent).
    case json(String)
}

/// A throttled request's answer (protocol §3.2): `{"p-ticket":..,"p-time":..,"p-captcha":..}`.
public struct PenaltyTicket: Sendable, Hashable {
    /// Opaque; resend it as `"p-ticket"` in the otherwise identical body.
    public var ticket: String
    /// How long to wait before resending (`p-time`), in seconds.
    public var seconds: Double
    /// Whether a captcha is required (`p-captcha`; missing or null → `false`). A program cannot solve it: stop for
    /// about an hour.
    public var captcha: Bool

    /// Creates a penalty ticket.
    public init(ticket: String, seconds: Double, captcha: Bool = false) {
        self.ticket = ticket
        self.seconds = seconds
        self.captcha = captcha
    }
}

/// The result of `md/getChart` (protocol §5.2, `ChartSubscriptionResult`). Every field is optional on the wire.
public struct ChartSubscription: Sendable, Hashable {
    /// The id of the historical part of the subscription.
    public var historicalId: Int?
    /// The id of the real-time part of the subscription.
    public var realtimeId: Int?
    /// `NoServicePlan`, `OperationNotSupported`, `Success`, `UnknownReason` or `UnknownSymbol`.
    public var errorCode: String?
    /// A description of the error, when there is one.
    public var errorText: String?
    /// `RealTime`, `Delayed` or `None`.
    public var mode: String?

    /// Creates a chart subscription result.
    public init(
        historicalId: Int? = nil, realtimeId: Int? = nil, errorCode: String? = nil, errorText: String? = nil,
        mode: String? = nil
    ) {
        self.historicalId = historicalId
        self.realtimeId = realtimeId
        self.errorCode = errorCode
        self.errorText = errorText
        self.mode = mode
    }
}

/// One item of a chart event's `charts` (protocol §5.3): bars of one subscription, or its end-of-history mark.
public struct ChartPacket: Sendable, Hashable {
    /// The subscription: its `historicalId` or its `realtimeId` (servers use either).
    public var id: Int
    /// The trade date (`td`) as the integer YYYYMMDD, when sent.
    public var tradeDate: Int?
    /// The bars, in the order sent (may be empty).
    public var bars: [ChartBar]
    /// Whether the item carries `"eoh":true`: history is complete, later packets are real-time updates.
    public var endOfHistory: Bool

    /// Creates a chart packet.
    public init(id: Int, tradeDate: Int? = nil, bars: [ChartBar] = [], endOfHistory: Bool = false) {
        self.id = id
        self.tradeDate = tradeDate
        self.bars = bars
        self.endOfHistory = endOfHistory
    }
}

/// One bar of a chart packet, exactly as sent (prices are decimal numbers, not ticks).
public struct ChartBar: Sendable, Hashable {
    /// The bar's `timestamp` (ISO-8601 UTC) as Unix epoch milliseconds.
    public var startMilliseconds: Int64
    /// First trade price.
    public var open: Double
    /// Highest trade price.
    public var high: Double
    /// Lowest trade price.
    public var low: Double
    /// Last trade price.
    public var close: Double
    /// Volume traded on up-ticks (missing → 0).
    public var upVolume: Int64
    /// Volume traded on down-ticks (missing → 0).
    public var downVolume: Int64
    /// Number of up-ticks (missing → 0).
    public var upTicks: Int64
    /// Number of down-ticks (missing → 0).
    public var downTicks: Int64
    /// Volume traded at the bid (missing or null → `nil`).
    public var bidVolume: Int64?
    /// Volume traded at the offer (missing or null → `nil`).
    public var offerVolume: Int64?

    /// Creates a bar.
    public init(
        startMilliseconds: Int64, open: Double, high: Double, low: Double, close: Double, upVolume: Int64 = 0,
        downVolume: Int64 = 0, upTicks: Int64 = 0, downTicks: Int64 = 0, bidVolume: Int64? = nil,
        offerVolume: Int64? = nil
    ) {
        self.startMilliseconds = startMilliseconds
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.upVolume = upVolume
        self.downVolume = downVolume
        self.upTicks = upTicks
        self.downTicks = downTicks
        self.bidVolume = bidVolume
        self.offerVolume = offerVolume
    }

    /// The bar's `timestamp` as a `Date`.
    public var start: Date {
        Date(timeIntervalSince1970: Double(startMilliseconds) / 1000)
    }

    /// The bar as a `Candle` of `chart`: symbol, instrument and timeframe come from the key, every other field from
    /// the bar (``bidVolume`` and ``offerVolume`` stay `nil` when the server did not send them).
    public func candle(of chart: ChartKey, isFinal: Bool) -> Candle {
        Candle(
            symbol: chart.symbol, instrument: chart.instrument, timeframe: chart.timeframe, start: start, open: open,
            high: high, low: low, close: close, upVolume: upVolume, downVolume: downVolume, upTicks: upTicks,
            downTicks: downTicks, bidVolume: bidVolume, offerVolume: offerVolume, isFinal: isFinal)
    }
}
