import CandleCore
internal import Collectors
import Foundation

/// One chart the client has asked for: a history page or a live subscription, with everything needed to send it again
/// (after a penalty, or a reconnect) and to route its packets.
struct ChartEntry {
    /// Where the entry is in its life.
    enum Phase: Equatable {
        /// Waiting for a connected, authorized socket.
        case waitingForConnection
        /// `md/getChart` sent; waiting for its response.
        case awaitingResponse
        /// The broker answered with subscription ids; packets are flowing.
        case streaming
        /// Waiting out a penalty ticket before sending again.
        case penaltyWait
    }

    /// What the entry delivers.
    enum Kind: Equatable {
        /// A history page: bars are collected until `eoh`, then delivered at once.
        case history
        /// A live subscription: bars after `eoh` are delivered as they come.
        case live
    }

    let handle: Int
    let chart: ChartKey
    var kind: Kind
    let closestTimestamp: Date?
    let asFarAsTimestamp: Date?
    let asMuchAsElements: Int?

    var phase: Phase = .waitingForConnection
    /// The id of the `md/getChart` request in flight.
    var requestID: Int?
    /// `historicalId` and `realtimeId` of the current subscription (either may be nil).
    var historicalID: Int?
    var realtimeID: Int?
    /// The penalty ticket to resend with, if the last answer was a penalty.
    var penaltyTicket: String?
    var penaltiesInARow = 0
    /// Sends of this page lost to a broken connection.
    var attempts = 0
    /// Bars of a history page so far.
    var bars: [ChartBar] = []
    /// Live: the first response has not come yet (``MarketDataClient/live(_:asMuchAsElements:)`` is waiting).
    var awaitingFirstAnswer = false
    /// Live: `eoh` seen on the current subscription (bars after it are real time).
    var pastEndOfHistory = false
    /// Live: `.interrupted` was delivered and `.resumed` is due.
    var interrupted = false
    /// The generation of the entry's deadline or penalty wait (a fired timer of an older generation is ignored).
    var timerGeneration = 0

    init(
        handle: Int, chart: ChartKey, kind: Kind, closestTimestamp: Date?, asFarAsTimestamp: Date?,
        asMuchAsElements: Int?
    ) {
        self.handle = handle
        self.chart = chart
        self.kind = kind
        self.closestTimestamp = closestTimestamp
        self.asFarAsTimestamp = asFarAsTimestamp
        self.asMuchAsElements = asMuchAsElements
    }

    var isLive: Bool { kind == .live }

    /// The subscription ids known for this entry.
    var subscriptionIDs: [Int] {
        var ids: [Int] = []
        if let historicalID { ids.append(historicalID) }
        if let realtimeID, realtimeID != historicalID { ids.append(realtimeID) }
        return ids
    }

    /// The `md/getChart` body, with the penalty ticket when one is due.
    var requestBody: String {
        MarketDataWire.getChartBody(
            symbol: chart.symbol, minutes: chart.timeframe.minutes, closestTimestamp: closestTimestamp,
            asFarAsTimestamp: asFarAsTimestamp, asMuchAsElements: asMuchAsElements, penaltyTicket: penaltyTicket)
    }
}
