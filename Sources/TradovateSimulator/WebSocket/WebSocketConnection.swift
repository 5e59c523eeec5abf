import CandleCore
import Foundation
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One market-data WebSocket client: SockJS-style framing, authorization, heartbeats, chart subscriptions.
///
/// Four tasks per socket: the reader (requests, in the calling task), the writer (the only one that writes), the
/// watchdog (wall clock: heartbeat timeout, authorization timeout, server `h`) and the pump (simulation clock: forming
/// bars, new bars, token expiry). History for each `md/getChart` runs in its own child task.
final class WebSocketConnection: Sendable {
    let id: Int
    let channel: any Channel
    let remoteAddress: String
    private let core: SimulatorCore
    private let outbox = Outbox()
    private let pumpWake = WakeSignal()
    private let state: Mutex<State>

    struct Subscription: Sendable {
        let historicalId: Int
        let realtimeId: Int
        let symbol: SimulatedMarket.ResolvedSymbol
        let minutes: Int
        var realtime = false
        var lastSent: AggregateBar?
    }

    private struct State {
        var token: String?
        var tokenExpiresAt: Date?
        var user: String?
        var silenced = false
        var closing = false
        var closeReason: String?
        var lastInbound: Date
        var lastOutbound: Date
        let openedAt: Date
        var framesSent = 0
        var dropAtFrame: Int?
        var malformedAtFrame: Int?
        var subscriptions: [Int: Subscription] = [:]
        var nextChartID: Int
        var textBuffer: [UInt8] = []
    }

    private var settings: SimulatorConfiguration.WebSocket { core.configuration.webSocket }
    private var charts: SimulatorConfiguration.Charts { core.configuration.charts }

    init(id: Int, channel: any Channel, core: SimulatorCore) {
        self.id = id
        self.channel = channel
        self.core = core
        self.remoteAddress = channel.remoteAddress?.description ?? "unknown"
        let now = core.wallClock.now()
        var initial = State(lastInbound: now, lastOutbound: now, openedAt: now, nextChartID: 10_000 + id * 1_000)
        initial.dropAtFrame = core.faults.dropAfterMessages
        initial.malformedAtFrame = core.faults.malformedAfterMessages
        self.state = Mutex(initial)
    }

    // MARK: - Control (faults, revocation, shutdown)

    /// The token this socket was last authorized with.
    var authorizedToken: String? { state.withLock { $0.token } }

    /// Sends `c[code,"reason"]` and a close frame, then closes.
    func close(code: Int, reason: String) {
        let first = state.withLock { state -> Bool in
            guard !state.closing else { return false }
            state.closing = true
            state.closeReason = state.closeReason ?? reason
            return true
        }
        if first { outbox.push(.close(code: code, reason: reason)) }
    }

    /// Sends a `shutdown` event, then closes with `code`.
    func shutdown(reasonCode: String, reason: String?, code: Int) {
        var payload: [String: JSONValue] = ["reasonCode": .string(reasonCode)]
        if let reason { payload["reason"] = .string(reason) }
        let event = JSONValue.object(["e": "shutdown", "d": .object(payload)]).serialized
        outbox.push(.messages([.json(event)]))
        close(code: code, reason: reason ?? reasonCode)
    }

    /// Closes the TCP connection at once, without a close frame.
    func drop(reason: String = "dropped") {
        state.withLock { state in
            state.closing = true
            state.closeReason = state.closeReason ?? reason
        }
        outbox.push(.drop)
        channel.close(promise: nil)
    }

    /// Drops the socket once it has sent `count` more frames.
    func drop(afterFrames count: Int) {
        state.withLock { $0.dropAtFrame = $0.framesSent + max(0, count) }
    }

    /// Sends a malformed frame once the socket has sent `count` more frames.
    func sendMalformed(afterFrames count: Int) {
        state.withLock { $0.malformedAtFrame = $0.framesSent + max(0, count) }
    }

    /// Sends a malformed frame now.
    func sendMalformed(_ text: String) {
        outbox.push(.raw(text))
    }

    // MARK: - Lifecycle

    /// Serves the socket until it closes.
    func run(inbound: NIOAsyncChannelInboundStream<WebSocketFrame>) async {
        core.registry.add(self)
        core.stats.openSocket(id, remoteAddress: remoteAddress)
        core.logger.debug("socket opened", metadata: ["sim_socket": "\(id)", "sim_remote": "\(remoteAddress)"])
        outbox.push(.open)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.writeLoop() }
            group.addTask { await self.watchdog() }
            group.addTask { await self.pump() }
            do {
                for try await frame in inbound {
                    receive(frame, group: &group)
                }
            } catch {
                core.logger.debug("socket read failed", metadata: ["sim_socket": "\(id)", "sim_error": "\(error)"])
            }
            state.withLock { $0.closeReason = $0.closeReason ?? "client" }
            outbox.finish()
            group.cancelAll()
        }
        channel.close(promise: nil)
        core.registry.remove(webSocket: id)
        let reason = state.withLock { $0.closeReason }
        core.stats.socket(id) { socket in
            socket.isOpen = false
            socket.closeReason = reason
            socket.activeCharts = 0
        }
        core.logger.debug("socket closed", metadata: ["sim_socket": "\(id)", "sim_reason": "\(reason ?? "")"])
    }

    // MARK: - Reading

    private func receive(_ frame: WebSocketFrame, group: inout DiscardingTaskGroup) {
        switch frame.opcode {
        case .text, .continuation:
            var data = frame.unmaskedData
            let bytes = data.readBytes(length: data.readableBytes) ?? []
            let complete: [UInt8]? = state.withLock { state in
                state.textBuffer.append(contentsOf: bytes)
                guard frame.fin else { return nil }
                defer { state.textBuffer.removeAll() }
                return state.textBuffer
            }
            if let complete { handleText(String(decoding: complete, as: UTF8.self), group: &group) }
        case .ping:
            var data = frame.unmaskedData
            outbox.push(.pong(data.readBytes(length: data.readableBytes) ?? []))
        case .connectionClose:
            state.withLock { $0.closeReason = $0.closeReason ?? "client" }
            outbox.push(.acknowledgeClose)
        default:
            break
        }
    }

    private func handleText(_ text: String, group: inout DiscardingTaskGroup) {
        let wallNow = core.wallClock.now()
        state.withLock { $0.lastInbound = wallNow }
        if text.trimmingCharacters(in: .whitespacesAndNewlines) == "[]" {
            core.stats.update { $0.heartbeatsReceived += 1 }
            core.stats.socket(id) { $0.heartbeatsReceived += 1 }
            return
        }
        core.stats.socket(id) { $0.requestsReceived += 1 }
        guard let request = WebSocketRequest(parsing: text) else {
            core.stats.update { $0.malformedRequests += 1 }
            if let id = WebSocketRequest.id(in: text) {
                respond(id, status: 400, "Malformed request: expected endpoint, id, query and body separated by \\n")
            }
            return
        }
        core.stats.request(request.endpoint)
        if let delay = core.faults.responseDelay, delay > .zero {
            group.addTask {
                try? await self.core.wallClock.sleep(for: delay)
                guard !Task.isCancelled else { return }
                if let job = self.process(request) { await job() }
            }
        } else if let job = process(request) {
            group.addTask { await job() }
        }
    }

    // MARK: - Responses

    private func respond(_ requestID: Int, status: Int, _ payload: JSONValue? = nil) {
        if state.withLock({ $0.silenced }) { return }
        var text = "{\"s\":\(status),\"i\":\(requestID)"
        if let payload {
            text += ",\"d\":"
            payload.write(into: &text)
        }
        text += "}"
        outbox.push(.messages([.json(text)]))
    }

    private func respond(_ requestID: Int, status: Int, _ message: String) {
        respond(requestID, status: status, JSONValue.string(message))
    }

    private func endpointKey(_ endpoint: String) -> String {
        let canonical = ["authorize", "md/getChart", "md/cancelChart", "auth/renewAccessToken"]
        if settings.caseInsensitiveEndpoints {
            return canonical.first { $0.lowercased() == endpoint.lowercased() } ?? endpoint
        }
        return endpoint
    }

    /// Handles a request; returns the history job of a chart request, to run in its own task.
    private func process(_ request: WebSocketRequest) -> (@Sendable () async -> Void)? {
        let now = core.clock.now()
        let endpoint = endpointKey(request.endpoint)
        if endpoint == "authorize" {
            authorize(request, now: now)
            return nil
        }
        guard let token = state.withLock({ $0.token }) else {
            respond(request.id, status: 401, "Access is denied")
            return nil
        }
        if enforceTokenExpiry(now: now) { return nil }
        let check = core.auth.check(token, now: now)
        core.auditTokenUse(check, transport: "websocket", endpoint: request.endpoint, socketID: id, now: now)
        let user = check.record?.login.name ?? "anonymous"
        guard core.auth.admit(key: user, now: now) else {
            core.stats.update { $0.rateLimited += 1 }
            respond(request.id, status: 429)
            return nil
        }
        let body = request.body.isEmpty ? nil : JSONValue.parse(request.body)
        let ticket = core.auth.checkTicket(body?["p-ticket"]?.stringValue, now: now)
        switch ticket {
        case .wait(let penalty):
            core.stats.update { $0.penaltiesIssued += 1 }
            respond(request.id, status: 200, penalty.json)
            return nil
        case .honoured:
            core.stats.update { $0.penaltyTicketsHonoured += 1 }
        case .none:
            if let terms = core.faults.takeForcedPenalty() {
                let penalty = core.auth.issuePenalty(terms, now: now)
                core.stats.update { $0.penaltiesIssued += 1 }
                respond(request.id, status: 200, penalty.json)
                return nil
            }
        }
        switch endpoint {
        case "md/getChart":
            return getChart(request, body: body, now: now)
        case "md/cancelChart":
            cancelChart(request, body: body)
        case "auth/renewAccessToken":
            renew(request, token: token, ticket: ticket, now: now)
        default:
            core.stats.update { $0.webSocketNotFound += 1 }
            respond(request.id, status: 404, "Not found: \(request.endpoint)")
        }
        return nil
    }

    private func authorize(_ request: WebSocketRequest, now: Date) {
        var token = request.body.trimmingCharacters(in: .whitespacesAndNewlines)
        if settings.acceptQuotedToken, token.count >= 2, token.hasPrefix("\""), token.hasSuffix("\"") {
            token = String(token.dropFirst().dropLast())
        }
        let check = core.auth.check(token, now: now)
        if case .valid(let record) = check, accepts(record) {
            state.withLock { state in
                state.token = token
                state.tokenExpiresAt = record.expiresAt
                state.user = record.login.name
                state.silenced = false
            }
            core.stats.update { $0.authorizationsSucceeded += 1 }
            core.stats.socket(id) { $0.user = record.login.name }
            respond(request.id, status: 200)
            pumpWake.signal()
        } else {
            core.stats.update { $0.authorizationsFailed += 1 }
            core.auditTokenUse(check, transport: "websocket", endpoint: "authorize", socketID: id, now: now)
            respond(request.id, status: 401, "Access is denied")
        }
    }

    private func accepts(_ record: AuthService.TokenRecord) -> Bool {
        switch settings.acceptedTokens {
        case .either: return true
        case .accessToken: return !record.isMD
        case .mdAccessToken: return record.isMD || core.configuration.auth.mdAccessToken != .distinct
        }
    }

    private func renew(_ request: WebSocketRequest, token: String, ticket: AuthService.TicketStatus, now: Date) {
        switch core.auth.renew(token: token, ticket: ticket, now: now) {
        case .granted(let grant, _):
            core.stats.update { $0.renewalsSucceeded += 1 }
            respond(request.id, status: 200, grant.json)
        case .rejected:
            core.stats.update { $0.renewalsRejected += 1 }
            respond(request.id, status: 401, "Access is denied")
        case .penalty(let penalty):
            core.stats.update { $0.penaltiesIssued += 1 }
            respond(request.id, status: 200, penalty.json)
        }
    }

    private func cancelChart(_ request: WebSocketRequest, body: JSONValue?) {
        core.stats.update { $0.chartCancels += 1 }
        if let target = body?["subscriptionId"]?.intValue {
            let remaining = state.withLock { state -> Int in
                if let key = state.subscriptions.first(where: {
                    $0.value.historicalId == target || $0.value.realtimeId == target
                })?.key {
                    state.subscriptions[key] = nil
                }
                return state.subscriptions.count
            }
            core.stats.socket(id) { $0.activeCharts = remaining }
        }
        respond(request.id, status: 200)
    }

    // MARK: - Charts

    private func chartError(_ requestID: Int, code: String, text: String) {
        respond(
            requestID, status: 200, .object(["errorText": .string(text), "errorCode": .string(code), "mode": "None"]))
    }

    private func getChart(_ request: WebSocketRequest, body: JSONValue?, now: Date) -> (@Sendable () async -> Void)? {
        guard let body, case .object = body else {
            respond(request.id, status: 400, "md/getChart needs a JSON body")
            return nil
        }
        let folding = charts.caseInsensitiveFields
        let description = body.member("chartDescription", caseInsensitive: folding)
        let underlying = description?.member("underlyingType", caseInsensitive: folding)?.stringValue ?? ""
        guard underlying.lowercased() == "minutebar" else {
            chartError(
                request.id, code: "OperationNotSupported",
                text: "The simulator serves MinuteBar charts only (got '\(underlying)')")
            return nil
        }
        let unit = description?.member("elementSizeUnit", caseInsensitive: folding)?.stringValue ?? "UnderlyingUnits"
        let size = description?.member("elementSize", caseInsensitive: folding)?.intValue ?? 1
        guard unit.lowercased() == "underlyingunits", (1...1440).contains(size) else {
            chartError(
                request.id, code: "OperationNotSupported",
                text: "MinuteBar charts need elementSizeUnit UnderlyingUnits and elementSize 1…1440")
            return nil
        }
        guard let timeRange = body.member("timeRange", caseInsensitive: folding) else {
            respond(request.id, status: 400, "md/getChart needs a timeRange")
            return nil
        }
        let closestText = timeRange.member("closestTimestamp", caseInsensitive: folding)
        let farText = timeRange.member("asFarAsTimestamp", caseInsensitive: folding)
        let count = timeRange.member("asMuchAsElements", caseInsensitive: folding)?.intValue
        let tickID = timeRange.member("closestTickId", caseInsensitive: folding)
        guard closestText != nil || farText != nil || count != nil || tickID != nil else {
            respond(
                request.id, status: 400,
                "timeRange needs closestTimestamp, closestTickId, asFarAsTimestamp or asMuchAsElements")
            return nil
        }
        var closest: Date? = nil
        var far: Date? = nil
        if let closestText {
            guard let text = closestText.stringValue, let date = ISOTime.parse(text) else {
                respond(request.id, status: 400, "closestTimestamp is not an ISO-8601 instant")
                return nil
            }
            closest = date
        }
        if let farText {
            guard let text = farText.stringValue, let date = ISOTime.parse(text) else {
                respond(request.id, status: 400, "asFarAsTimestamp is not an ISO-8601 instant")
                return nil
            }
            far = date
        }
        let symbolText: String
        switch body["symbol"] {
        case .string(let text)?: symbolText = text
        case .int(let number)?: symbolText = String(number)
        default:
            respond(request.id, status: 400, "md/getChart needs a symbol")
            return nil
        }
        let nowMinute = NewYorkTime.floorDiv(SimulatedMarket.millis(now), 60_000)
        guard let symbol = core.market.resolveSymbol(symbolText, atMinute: nowMinute) else {
            chartError(request.id, code: "UnknownSymbol", text: "Unknown symbol: \(symbolText)")
            return nil
        }

        let (historicalID, realtimeID): (Int, Int) = state.withLock { state in
            let base = state.nextChartID
            switch charts.ids {
            case .equal:
                state.nextChartID += 1
                return (base, base)
            case .distinct:
                state.nextChartID += 2
                return (base + 1, base)
            }
        }
        let subscription = Subscription(
            historicalId: historicalID, realtimeId: realtimeID, symbol: symbol, minutes: size)
        let active = state.withLock { state -> Int in
            state.subscriptions[realtimeID] = subscription
            return state.subscriptions.count
        }
        core.stats.update { $0.chartRequests += 1 }
        core.stats.socket(id) { $0.activeCharts = active }
        respond(request.id, status: 200, .object(["historicalId": .int(historicalID), "realtimeId": .int(realtimeID)]))
        let range = HistoryRange(closest: closest, asFarAs: far, count: count)
        return { [self] in await self.sendHistory(subscription, range: range) }
    }

    private struct HistoryRange: Sendable {
        let closest: Date?
        let asFarAs: Date?
        let count: Int?
    }

    private func isActive(_ subscription: Subscription) -> Bool {
        state.withLock { $0.subscriptions[subscription.realtimeId] != nil && !$0.closing }
    }

    private func historyBars(_ subscription: Subscription, range: HistoryRange, nowMillis: Int64) -> [AggregateBar] {
        let n = Int64(subscription.minutes)
        let market = core.market
        if let contract = subscription.symbol.contract, !charts.expiredContractsHaveHistory {
            let stream = market.stream(for: contract, instrument: subscription.symbol.instrument)
            if nowMillis >= stream.endMinute * 60_000 { return [] }
        }
        var newest = NewYorkTime.floorDiv(NewYorkTime.floorDiv(nowMillis - 1, 60_000), n) * n
        if let closest = range.closest {
            let millis = SimulatedMarket.millis(closest)
            let minute =
                charts.closestTimestampInclusive
                ? NewYorkTime.floorDiv(millis, 60_000) : NewYorkTime.floorDiv(millis + 59_999, 60_000) - 1
            newest = min(newest, NewYorkTime.floorDiv(minute, n) * n)
        }
        var oldest = SimulatedMarket.earliestMinute
        if let far = range.asFarAs {
            let minute = NewYorkTime.floorDiv(SimulatedMarket.millis(far) + 59_999, 60_000)
            oldest = max(oldest, NewYorkTime.floorDiv(minute + n - 1, n) * n)
        }
        if let depth = charts.historyDepth {
            let minute = NewYorkTime.floorDiv(nowMillis - Int64(depth.timeInterval * 1000) + 59_999, 60_000)
            oldest = max(oldest, NewYorkTime.floorDiv(minute + n - 1, n) * n)
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

    private func sendHistory(_ subscription: Subscription, range: HistoryRange) async {
        let nowMillis = SimulatedMarket.millis(core.clock.now())
        let bars = historyBars(subscription, range: range, nowMillis: nowMillis)
        let packetID: Int
        switch charts.ids {
        case .equal, .distinct(historyPacketsCarry: .historical): packetID = subscription.historicalId
        case .distinct(historyPacketsCarry: .realtime): packetID = subscription.realtimeId
        }
        let price = core.priceFormatter(for: subscription.symbol.instrument)
        let stalled = core.faults.stallCharts
        let perPacket = max(1, charts.barsPerPacket)
        var start = bars.startIndex
        var sentEOH = false
        while start < bars.endIndex {
            guard isActive(subscription), !Task.isCancelled else { return }
            let end = min(bars.endIndex, start + perPacket)
            var items = ChartEncoder.items(id: packetID, bars: bars[start..<end], price: price)
            if end == bars.endIndex && !stalled {
                items.append(ChartEncoder.endOfHistory(id: packetID))
                sentEOH = true
            }
            let count = end - start
            core.stats.update { $0.historyBarsSent += count }
            outbox.push(.messages([.chart(items)]))
            start = end
            await Task.yield()
        }
        if !sentEOH {
            if stalled { await core.faults.waitWhileStalled() }
            guard isActive(subscription), !Task.isCancelled else { return }
            outbox.push(.messages([.chart([ChartEncoder.endOfHistory(id: packetID)])]))
        }
        let n = Int64(subscription.minutes)
        let latest = NewYorkTime.floorDiv(NewYorkTime.floorDiv(nowMillis - 1, 60_000), n) * n
        state.withLock { state in
            state.subscriptions[subscription.realtimeId]?.realtime = true
            if let last = bars.last, last.start + n >= latest {
                state.subscriptions[subscription.realtimeId]?.lastSent = last
            }
        }
        pumpWake.signal()
    }

    // MARK: - Real time (simulation clock)

    private func pump() async {
        while !Task.isCancelled {
            guard let deadline = pumpStep(now: core.clock.now()) else { return }
            await withTaskGroup(of: Void.self) { group in
                if let wake = deadline.wake {
                    group.addTask { try? await self.core.clock.sleep(until: wake) }
                }
                group.addTask { await self.pumpWake.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private struct PumpDeadline {
        let wake: Date?
    }

    /// One pass: token expiry, then every real-time chart. Returns `nil` when the socket is closing.
    /// Applies the token-expiry behaviour at `now`; returns `true` when the socket closed or went silent.
    private func enforceTokenExpiry(now: Date) -> Bool {
        guard settings.tokenExpiry != .keepOpen, let expiry = state.withLock({ $0.tokenExpiresAt }), expiry <= now
        else { return state.withLock { $0.silenced || $0.closing } }
        switch settings.tokenExpiry {
        case .close:
            state.withLock { $0.closeReason = $0.closeReason ?? "tokenExpired" }
            close(code: CloseCode.tokenExpired, reason: "Access token expired")
        case .silence, .keepOpen:
            state.withLock { $0.silenced = true }
        }
        return true
    }

    private func pumpStep(now: Date) -> PumpDeadline? {
        let (expiry, closing) = state.withLock { ($0.tokenExpiresAt, $0.closing) }
        if closing { return nil }
        var wake: Date? = nil
        if let expiry, settings.tokenExpiry != .keepOpen {
            if expiry <= now {
                if enforceTokenExpiry(now: now), settings.tokenExpiry == .close { return nil }
            } else {
                wake = expiry
            }
        }
        if state.withLock({ $0.silenced }) { return PumpDeadline(wake: wake) }
        let nowMillis = SimulatedMarket.millis(now)
        let subscriptions = state.withLock { $0.subscriptions.values.filter(\.realtime) }.sorted {
            $0.realtimeId < $1.realtimeId
        }
        var messages: [OutboundMessage] = []
        var sent = 0
        for subscription in subscriptions {
            let (bars, lastSent, next) = updates(for: subscription, nowMillis: nowMillis)
            if let next { wake = wake.map { min($0, next) } ?? next }
            state.withLock { state in
                if state.subscriptions[subscription.realtimeId] != nil {
                    state.subscriptions[subscription.realtimeId]?.lastSent = lastSent
                }
            }
            guard !bars.isEmpty else { continue }
            let price = core.priceFormatter(for: subscription.symbol.instrument)
            messages.append(.chart(ChartEncoder.items(id: subscription.realtimeId, bars: bars[...], price: price)))
            sent += bars.count
        }
        if !messages.isEmpty {
            let count = sent
            core.stats.update { $0.realtimeBarsSent += count }
            outbox.push(.messages(messages))
        }
        return PumpDeadline(wake: wake)
    }

    /// The bars to send for one subscription at `nowMillis`, its new last-sent bar, and when to look again.
    private func updates(
        for subscription: Subscription, nowMillis: Int64
    ) -> ([AggregateBar], AggregateBar?, Date?) {
        let market = core.market
        let n = Int64(subscription.minutes)
        let symbol = subscription.symbol
        let latest = NewYorkTime.floorDiv(NewYorkTime.floorDiv(nowMillis - 1, 60_000), n) * n
        var out: [AggregateBar] = []
        var last = subscription.lastSent
        // 1. The previously forming bar, now closed: its final state.
        if let previous = last, !previous.isFinal, previous.start < latest {
            if let final = market.bar(
                symbol, minutes: subscription.minutes, start: previous.start, nowMillis: nowMillis)
            {
                if charts.sendFinalBar || !final.sameValues(as: previous) { out.append(final) }
                last = final
            }
        }
        // 2. Bars that opened and closed since (a clock jump).
        if let previous = last, latest - n > previous.start {
            let gap = market.history(
                symbol, minutes: subscription.minutes, newestStart: latest - n, oldestStart: previous.start + n,
                maxCount: max(1, charts.maxBarsPerResponse), nowMillis: nowMillis)
            out += gap
            last = gap.last ?? last
        }
        // 3. The newest bar.
        if last == nil || latest > last!.start || !last!.isFinal {
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
        let nowMinute = NewYorkTime.floorDiv(nowMillis, 60_000)
        if let contract = symbol.contract {
            let stream = market.stream(for: contract, instrument: symbol.instrument)
            if nowMinute >= stream.endMinute { return (out, last, nil) }
        }
        let next: Date
        if let span = market.sessions.session(containing: nowMinute) {
            let boundary = (NewYorkTime.floorDiv(nowMinute, n) * n + n) * 60
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

    // MARK: - Watchdog (wall clock)

    private func watchdog() async {
        let heartbeatTimeout = settings.heartbeatTimeout?.timeInterval
        let authorizationTimeout = settings.authorizationTimeout?.timeInterval
        let serverHeartbeat = settings.serverHeartbeatInterval?.timeInterval
        while !Task.isCancelled {
            let now = core.wallClock.now()
            let snapshot = state.withLock {
                ($0.lastInbound, $0.lastOutbound, $0.openedAt, $0.token != nil, $0.closing)
            }
            let (lastInbound, lastOutbound, openedAt, authorized, closing) = snapshot
            if closing { return }
            var deadlines: [Date] = []
            if let heartbeatTimeout {
                let due = lastInbound.addingTimeInterval(heartbeatTimeout)
                if now >= due {
                    state.withLock { $0.closeReason = $0.closeReason ?? "heartbeatTimeout" }
                    close(code: CloseCode.heartbeatTimeout, reason: "Heartbeat timeout")
                    return
                }
                deadlines.append(due)
            }
            if let authorizationTimeout, !authorized {
                let due = openedAt.addingTimeInterval(authorizationTimeout)
                if now >= due {
                    state.withLock { $0.closeReason = $0.closeReason ?? "authorizationTimeout" }
                    close(code: CloseCode.authorizationTimeout, reason: "Not authorized")
                    return
                }
                deadlines.append(due)
            }
            if let serverHeartbeat {
                let due = lastOutbound.addingTimeInterval(serverHeartbeat)
                if now >= due {
                    state.withLock { $0.lastOutbound = now }
                    outbox.push(.heartbeat)
                    deadlines.append(now.addingTimeInterval(serverHeartbeat))
                } else {
                    deadlines.append(due)
                }
            }
            do {
                try await core.wallClock.sleep(until: deadlines.min() ?? .distantFuture)
            } catch {
                return
            }
        }
    }

    // MARK: - Writing

    private enum WireAction {
        case text([UInt8], isServerHeartbeat: Bool)
        case pong([UInt8])
        case close(code: Int, reason: String)
        case acknowledgeClose
        case drop
    }

    private func messageSize(_ message: OutboundMessage) -> Int {
        switch message {
        case .json(let text): return text.utf8.count
        case .chart(let items): return items.reduce(32) { $0 + $1.count + 1 }
        }
    }

    private func frameBytes(_ messages: [OutboundMessage]) -> [UInt8] {
        var bytes: [UInt8] = [97, 91]  // a[
        bytes.reserveCapacity(messages.reduce(4) { $0 + messageSize($1) + 1 })
        for (i, message) in messages.enumerated() {
            if i > 0 { bytes.append(44) }
            switch message {
            case .json(let text):
                bytes.append(contentsOf: text.utf8)
            case .chart(let items):
                bytes.append(contentsOf: Array("{\"e\":\"chart\",\"d\":{\"charts\":[".utf8))
                for (j, item) in items.enumerated() {
                    if j > 0 { bytes.append(44) }
                    bytes.append(contentsOf: item)
                }
                bytes.append(contentsOf: [93, 125, 125])  // ]}}
            }
        }
        bytes.append(93)
        return bytes
    }

    /// Groups pending items into wire frames per the batching setting.
    private func assemble(_ items: [OutboundItem]) -> [WireAction] {
        var actions: [WireAction] = []
        var pending: [OutboundMessage] = []
        var pendingBytes = 0
        func flush() {
            if !pending.isEmpty { actions.append(.text(frameBytes(pending), isServerHeartbeat: false)) }
            pending.removeAll()
            pendingBytes = 0
        }
        for item in items {
            switch item {
            case .messages(let messages):
                for message in messages {
                    let size = messageSize(message)
                    switch settings.batching {
                    case .separateFrames:
                        actions.append(.text(frameBytes([message]), isServerHeartbeat: false))
                    case .messagesInOneFrame:
                        if pendingBytes + size > settings.maxFrameBytes { flush() }
                        pending.append(message)
                        pendingBytes += size
                    case .chartsInOneEvent:
                        if pendingBytes + size > settings.maxFrameBytes { flush() }
                        if case .chart(let items) = message, case .chart(let previous)? = pending.last {
                            pending[pending.count - 1] = .chart(previous + items)
                        } else {
                            pending.append(message)
                        }
                        pendingBytes += size
                    }
                }
            case .open:
                flush()
                actions.append(.text([111], isServerHeartbeat: false))
            case .heartbeat:
                flush()
                actions.append(.text([104], isServerHeartbeat: true))
            case .raw(let text):
                flush()
                actions.append(.text(Array(text.utf8), isServerHeartbeat: false))
            case .pong(let data):
                flush()
                actions.append(.pong(data))
            case .close(let code, let reason):
                flush()
                actions.append(.close(code: code, reason: reason))
            case .acknowledgeClose:
                flush()
                actions.append(.acknowledgeClose)
            case .drop:
                flush()
                actions.append(.drop)
            }
        }
        flush()
        return actions
    }

    private func write(_ opcode: WebSocketOpcode, _ bytes: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: opcode, data: buffer)).get()
    }

    private func writeClose(code: Int, reason: String) async {
        var buffer = channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        let wireCode = (1000...1003).contains(code) || (3000...4999).contains(code) ? code : 1000
        buffer.writeInteger(UInt16(wireCode))
        buffer.writeString(reason)
        try? await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: buffer)).get()
    }

    private func writeLoop() async {
        while let items = await outbox.takeAll() {
            for action in assemble(items) {
                do {
                    switch action {
                    case .text(let bytes, let isServerHeartbeat):
                        if try await sendCounted(bytes, isServerHeartbeat: isServerHeartbeat) { return }
                    case .pong(let data):
                        try await write(.pong, data)
                    case .close(let code, let reason):
                        var text = "c[\(code),"
                        JSONValue.writeString(reason, into: &text)
                        text += "]"
                        try? await write(.text, Array(text.utf8))
                        core.stats.socket(id) { $0.framesSent += 1 }
                        await writeClose(code: code, reason: reason)
                        try? await channel.close()
                        outbox.finish()
                        return
                    case .acknowledgeClose:
                        await writeClose(code: 1000, reason: "")
                        try? await channel.close()
                        outbox.finish()
                        return
                    case .drop:
                        try? await channel.close()
                        outbox.finish()
                        return
                    }
                } catch {
                    outbox.finish()
                    channel.close(promise: nil)
                    return
                }
            }
        }
    }

    /// Sends one counted text frame and applies the frame-count faults; returns `true` when the socket was dropped.
    /// The frame is counted before it is written, so a fault armed after the client saw it counts from the next one.
    private func sendCounted(_ bytes: [UInt8], isServerHeartbeat: Bool) async throws -> Bool {
        let wallNow = core.wallClock.now()
        let (drop, malformed) = state.withLock { state -> (Bool, Bool) in
            state.framesSent += 1
            state.lastOutbound = wallNow
            let malformed = state.malformedAtFrame.map { state.framesSent >= $0 } ?? false
            if malformed { state.malformedAtFrame = nil }
            return (state.dropAtFrame.map { state.framesSent >= $0 } ?? false, malformed)
        }
        core.stats.socket(id) { socket in
            socket.framesSent += 1
            if isServerHeartbeat { socket.serverHeartbeatsSent += 1 }
        }
        try await write(.text, bytes)
        if drop {
            state.withLock { state in
                state.closing = true
                state.closeReason = state.closeReason ?? "dropped"
            }
            try? await channel.close()
            outbox.finish()
            return true
        }
        if malformed {
            return try await sendCounted(Array(MalformedFrame.truncatedJSON.text.utf8), isServerHeartbeat: false)
        }
        return false
    }
}
