import CandleCore
internal import Collectors
import Foundation
import Logging

/// Request multiplexing: chart entries (history pages and live subscriptions), their `md/getChart` answers, packets,
/// penalties, per-entry deadlines and cancellation.
extension MarketDataConnectionStateMachine {
    // MARK: - Requests

    /// A history page was asked for under `handle` (from ``makeHandle()``).
    mutating func historyRequested(
        handle: Int, chart: ChartKey, closestTimestamp: Date?, asFarAsTimestamp: Date?, asMuchAsElements: Int?
    ) -> [Action] {
        guard acceptsRequests else {
            emit(.fail(handle: handle, error: Self.notRunning(chart)))
            return flush()
        }
        charts[handle] = ChartEntry(
            handle: handle, chart: chart, kind: .history, closestTimestamp: closestTimestamp,
            asFarAsTimestamp: asFarAsTimestamp, asMuchAsElements: asMuchAsElements)
        submit(handle)
        return flush()
    }

    /// A live subscription was asked for under `handle` (from ``makeHandle()``); its first answer is awaited.
    mutating func liveRequested(handle: Int, chart: ChartKey, asMuchAsElements: Int) -> [Action] {
        guard acceptsRequests else {
            emit(.fail(handle: handle, error: Self.notRunning(chart)))
            return flush()
        }
        var entry = ChartEntry(
            handle: handle, chart: chart, kind: .live, closestTimestamp: nil, asFarAsTimestamp: nil,
            asMuchAsElements: asMuchAsElements)
        entry.awaitingFirstAnswer = true
        charts[handle] = entry
        submit(handle)
        return flush()
    }

    /// The caller went away (task cancelled, or the live stream's consumer stopped).
    mutating func cancelRequested(_ handle: Int) -> [Action] {
        guard let entry = charts[handle] else { return [] }
        if entry.phase == .streaming { sendCancel(entry) }
        if entry.phase == .awaitingResponse, let id = entry.requestID { abandoned.insert(id) }
        fail(handle, CancellationError())
        return flush()
    }

    static func notRunning(_ chart: ChartKey) -> CandleSourceError {
        CandleSourceError(.closed, "the market-data client is not running", chart: chart)
    }

    // MARK: - Sending

    mutating func submit(_ handle: Int) {
        guard charts[handle] != nil else { return }
        if phase == .ready, connection?.established == true {
            sendChartRequest(handle)
        } else {
            charts[handle]?.phase = .waitingForConnection
            // Live subscriptions wait for the connection as long as it takes once they were made; a first
            // subscription and history pages give up after connectionWaitTimeout.
            if charts[handle]?.isLive == false || charts[handle]?.awaitingFirstAnswer == true {
                startTimer(handle, after: configuration.connectionWaitTimeout)
            } else {
                stopTimer(handle)
            }
        }
    }

    mutating func sendChartRequest(_ handle: Int) {
        guard var entry = charts[handle], connection?.established == true else { return }
        let id = makeRequestID()
        requests[id] = .chart(handle: handle)
        entry.requestID = id
        entry.phase = .awaitingResponse
        entry.historicalID = nil
        entry.realtimeID = nil
        entry.pastEndOfHistory = false
        entry.bars.removeAll(keepingCapacity: true)
        charts[handle] = entry
        emit(.send(MarketDataWire.request(endpoint: "md/getChart", id: id, body: entry.requestBody)))
        statistics.chartRequests += 1
        startTimer(handle, after: configuration.requestTimeout)
    }

    mutating func sendCancel(_ entry: ChartEntry) {
        var ids: [Int] = []
        switch configuration.cancelChartID {
        case .realtime: ids = [entry.realtimeID ?? entry.historicalID].compactMap { $0 }
        case .historical: ids = [entry.historicalID ?? entry.realtimeID].compactMap { $0 }
        case .both: ids = entry.subscriptionIDs
        }
        for subscription in entry.subscriptionIDs { subscriptions.removeValue(forKey: subscription) }
        for subscription in ids { sendCancel(subscriptionID: subscription) }
    }

    mutating func sendCancel(subscriptionID: Int) {
        guard connection?.established == true else { return }
        let id = makeRequestID()
        requests[id] = .cancel
        emit(
            .send(
                MarketDataWire.request(
                    endpoint: "md/cancelChart", id: id,
                    body: MarketDataWire.cancelChartBody(subscriptionId: subscriptionID))))
        statistics.chartCancels += 1
    }

    // MARK: - Receiving

    mutating func handleChartResponse(_ response: MarketDataResponse, handle: Int) {
        guard var entry = charts[handle], entry.requestID == response.id else { return }
        let chart = entry.chart
        switch (response.status, response.payload) {
        case (200, .penalty(let ticket)):
            statistics.penalties += 1
            if ticket.captcha {
                fail(
                    handle,
                    CandleSourceError(
                        .rateLimited, "the server asked for a captcha (penalty ticket): wait about an hour",
                        chart: chart))
                return
            }
            let wait = ClientTime.duration(ticket.seconds)
            guard entry.penaltiesInARow < configuration.maximumPenaltyRetries, wait <= configuration.maximumPenaltyWait
            else {
                fail(
                    handle,
                    CandleSourceError(
                        .rateLimited,
                        "penalty ticket (p-time \(ticket.seconds) s) after \(entry.penaltiesInARow) waited out; "
                            + "giving up", chart: chart))
                return
            }
            entry.penaltiesInARow += 1
            entry.penaltyTicket = ticket.ticket
            entry.phase = .penaltyWait
            entry.requestID = nil
            entry.timerGeneration += 1
            charts[handle] = entry
            logger.debug(
                "penalty ticket: waiting", metadata: ["orca_chart": "\(chart)", "orca_p_time": "\(ticket.seconds)"])
            emit(.schedule(.penalty(handle: handle, generation: entry.timerGeneration, seconds: ticket.seconds)))
        case (200, .chartSubscription(let result)):
            if let code = result.errorCode, code != "Success" {
                fail(handle, Self.chartError(code: code, text: result.errorText, chart: chart))
                return
            }
            guard result.historicalId != nil || result.realtimeId != nil else {
                let text = result.errorText.map { ": \(Self.excerpt($0))" } ?? ""
                fail(
                    handle,
                    CandleSourceError(
                        .unavailable, "md/getChart answered without subscription ids\(text)", chart: chart))
                return
            }
            entry.historicalID = result.historicalId
            entry.realtimeID = result.realtimeId
            entry.phase = .streaming
            entry.penaltiesInARow = 0
            entry.penaltyTicket = nil
            for id in entry.subscriptionIDs { subscriptions[id] = handle }
            let wasInterrupted = entry.interrupted
            entry.interrupted = false
            let wasAwaitingFirstAnswer = entry.awaitingFirstAnswer
            entry.awaitingFirstAnswer = false
            charts[handle] = entry
            if entry.isLive {
                stopTimer(handle)
                if wasAwaitingFirstAnswer { emit(.confirmSubscription(handle: handle)) }
                if wasInterrupted { emit(.deliverLive(handle: handle, event: .resumed)) }
            } else {
                startTimer(handle, after: configuration.historyInactivityTimeout)
            }
            publishCounts()
        case (200, _):
            fail(
                handle,
                CandleSourceError(
                    .protocolViolation,
                    "md/getChart answered 200 with an unexpected payload: "
                        + Self.payloadText(response.payload), chart: chart))
        case (429, _):
            statistics.rateLimited += 1
            fail(handle, CandleSourceError(.rateLimited, "the server rate-limited md/getChart (429)", chart: chart))
        case (401, _):
            // The socket lost its authorization (e.g. the token expired with `silence`): reconnect and resend.
            if let id = connection?.id {
                if let used = connection?.authorizedWith { refuse(used) }
                reset(id, reason: "md/getChart answered 401: the socket is no longer authorized")
            }
        case (400, _):
            fail(
                handle,
                CandleSourceError(
                    .invalidRequest, "md/getChart refused (400): \(Self.payloadText(response.payload))", chart: chart))
        case (404, _):
            fail(
                handle,
                CandleSourceError(
                    .notSupported, "md/getChart not found (404): \(Self.payloadText(response.payload))", chart: chart))
        default:
            fail(
                handle,
                CandleSourceError(
                    .unavailable, "md/getChart answered \(response.status): \(Self.payloadText(response.payload))",
                    chart: chart))
        }
    }

    mutating func penaltyWaitOver(_ handle: Int, generation: Int) {
        guard let entry = charts[handle], entry.timerGeneration == generation, entry.phase == .penaltyWait else {
            return
        }
        submit(handle)
    }

    mutating func handlePackets(_ packets: [ChartPacket]) {
        var bars = 0
        for packet in packets {
            bars += packet.bars.count
            guard let handle = subscriptions[packet.id], var entry = charts[handle] else { continue }
            switch entry.kind {
            case .history:
                entry.bars.append(contentsOf: packet.bars)
                if packet.endOfHistory {
                    let collected = entry.bars
                    entry.bars = []
                    sendCancel(entry)
                    charts[handle] = entry
                    remove(handle)
                    emit(.deliverHistory(handle: handle, bars: collected))
                } else {
                    charts[handle] = entry
                    startTimer(handle, after: configuration.historyInactivityTimeout)
                }
            case .live:
                if entry.pastEndOfHistory {
                    for bar in packet.bars {
                        emit(.deliverLive(handle: handle, event: .bar(bar.candle(of: entry.chart, isFinal: false))))
                    }
                } else if packet.endOfHistory {
                    entry.pastEndOfHistory = true
                    charts[handle] = entry
                }
            }
        }
        if bars > 0 { statistics.barsReceived += bars }
    }

    // MARK: - Entries

    mutating func connectionLost(_ handle: Int, reason: String) {
        guard var entry = charts[handle] else { return }
        switch entry.phase {
        case .waitingForConnection, .penaltyWait:
            return
        case .awaitingResponse, .streaming:
            break
        }
        stopTimer(handle)
        entry = charts[handle] ?? entry
        entry.historicalID = nil
        entry.realtimeID = nil
        entry.requestID = nil
        entry.bars = []
        switch entry.kind {
        case .history:
            entry.attempts += 1
            charts[handle] = entry
            if entry.attempts >= configuration.historyAttempts {
                fail(
                    handle,
                    CandleSourceError(
                        .unavailable, "the connection broke \(entry.attempts) time(s) during the request: \(reason)",
                        chart: entry.chart))
                return
            }
        case .live:
            if !entry.awaitingFirstAnswer, !entry.interrupted {
                entry.interrupted = true
                emit(.deliverLive(handle: handle, event: .interrupted(reason: reason)))
            }
            charts[handle] = entry
        }
        submit(handle)
    }

    /// Starts the entry's deadline (a new generation: the previous timer, still running in the shell, is ignored).
    mutating func startTimer(_ handle: Int, after duration: Duration) {
        guard charts[handle] != nil else { return }
        charts[handle]?.timerGeneration += 1
        let generation = charts[handle]?.timerGeneration ?? 0
        emit(.schedule(.chart(handle: handle, generation: generation, after: duration)))
    }

    /// Invalidates the entry's running deadline.
    mutating func stopTimer(_ handle: Int) {
        charts[handle]?.timerGeneration += 1
    }

    mutating func chartTimerFired(_ handle: Int, generation: Int, after duration: Duration) {
        guard let entry = charts[handle], entry.timerGeneration == generation else { return }
        let chart = entry.chart
        switch entry.phase {
        case .waitingForConnection:
            noteError("no market-data connection within \(duration)")
            fail(
                handle,
                CandleSourceError(
                    .unavailable, "no connected, authorized market-data socket within \(duration)", chart: chart))
        case .awaitingResponse:
            statistics.timeouts += 1
            if let id = entry.requestID { abandoned.insert(id) }
            requests.removeValue(forKey: entry.requestID ?? -1)
            noteError("md/getChart not answered within \(duration) (\(chart))")
            if entry.isLive, !entry.awaitingFirstAnswer, let id = connection?.id {
                // A re-subscription the server does not answer: the socket is unhealthy; start over.
                reset(id, reason: "a re-subscription was not answered within \(duration)")
                return
            }
            fail(handle, CandleSourceError(.timeout, "md/getChart not answered within \(duration)", chart: chart))
        case .streaming:
            statistics.timeouts += 1
            noteError("history stalled for \(duration) before its end (\(chart))")
            sendCancel(entry)
            fail(
                handle,
                CandleSourceError(
                    .timeout, "history data stalled for \(duration) before its end (eoh)", chart: chart))
        case .penaltyWait:
            break
        }
    }

    /// Ends an entry with `error`.
    mutating func fail(_ handle: Int, _ error: any Error) {
        guard charts[handle] != nil else { return }
        remove(handle)
        emit(.fail(handle: handle, error: error))
    }

    mutating func remove(_ handle: Int) {
        guard let entry = charts.removeValue(forKey: handle) else { return }
        for id in entry.subscriptionIDs where subscriptions[id] == handle { subscriptions.removeValue(forKey: id) }
        if let id = entry.requestID, case .chart(let owner) = requests[id], owner == handle {
            requests.removeValue(forKey: id)
            if entry.phase == .awaitingResponse { abandoned.insert(id) }
        }
        publishCounts()
    }

    mutating func publishCounts() {
        var active = 0
        var live = 0
        for entry in charts.values {
            if entry.phase == .streaming { active += 1 }
            if entry.isLive { live += 1 }
        }
        statistics.activeCharts = active
        statistics.liveSubscriptions = live
    }

    static func chartError(code: String, text: String?, chart: ChartKey) -> CandleSourceError {
        let detail = text.map { ": \(excerpt($0))" } ?? ""
        switch code {
        case "UnknownSymbol":
            return CandleSourceError(.unknownSymbol, "the broker does not know the symbol\(detail)", chart: chart)
        case "NoServicePlan", "OperationNotSupported":
            return CandleSourceError(.notSupported, "the broker refused the chart (\(code))\(detail)", chart: chart)
        default:
            return CandleSourceError(
                .unavailable, "the broker could not serve the chart (\(code))\(detail)", chart: chart)
        }
    }
}
