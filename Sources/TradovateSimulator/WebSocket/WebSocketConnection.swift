import CandleCore
import Foundation
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One market-data WebSocket client: SockJS-style framing, authorization, heartbeats, chart subscriptions.
///
/// The I/O shell around ``WebSocketConnectionStateMachine``: every event (frame, timer, fault, close) goes through the
/// state machine under one lock, and the shell executes the action it returns. Everything runs as child tasks of
/// ``run(inbound:)``: the reader (requests, in the calling task), the writer (the only one that writes), the watchdog
/// (wall clock: heartbeat timeout, authorization timeout, server `h`) and the pump (simulation clock: forming bars,
/// new bars, token expiry). History for each `md/getChart` runs in its own child task.
final class WebSocketConnection: Sendable {
    private typealias Machine = WebSocketConnectionStateMachine

    let id: Int
    let channel: any Channel
    let remoteAddress: String
    private let core: SimulatorCore
    private let feed: ChartFeed
    private let assembler: FrameAssembler
    private let outbox = Outbox()
    private let pumpWake = WakeSignal()
    private let machine: Mutex<WebSocketConnectionStateMachine>

    private var settings: SimulatorConfiguration.WebSocket { core.configuration.webSocket }
    private var charts: SimulatorConfiguration.Charts { core.configuration.charts }

    init(id: Int, channel: any Channel, core: SimulatorCore) {
        self.id = id
        self.channel = channel
        self.core = core
        self.remoteAddress = channel.remoteAddress?.description ?? "unknown"
        self.feed = ChartFeed(market: core.market, charts: core.configuration.charts)
        self.assembler = FrameAssembler(core.configuration.webSocket)
        self.machine = Mutex(
            WebSocketConnectionStateMachine(
                configuration: .init(webSocket: core.configuration.webSocket, charts: core.configuration.charts),
                firstChartID: 10_000 + id * 1_000, now: core.wallClock.now(),
                dropAtFrame: core.faults.dropAfterMessages, malformedAtFrame: core.faults.malformedAfterMessages))
    }

    // MARK: - Control (faults, revocation, shutdown)

    /// The token this socket was last authorized with.
    var authorizedToken: String? { machine.withLock { $0.authorizedToken } }

    /// Sends `c[code,"reason"]` and a close frame, then closes.
    func close(code: Int, reason: String) {
        execute(machine.withLock { $0.closeRequested(code: code, reason: reason) })
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
        execute(machine.withLock { $0.dropRequested(reason: reason) })
    }

    /// Drops the socket once it has sent `count` more frames.
    func drop(afterFrames count: Int) {
        machine.withLock { $0.dropArmed(afterFrames: count) }
    }

    /// Sends a malformed frame once the socket has sent `count` more frames.
    func sendMalformed(afterFrames count: Int) {
        machine.withLock { $0.malformedArmed(afterFrames: count) }
    }

    /// Sends a malformed frame now.
    func sendMalformed(_ text: String) {
        outbox.push(.raw(text))
    }

    /// Executes the actions that need no context from the event that produced them.
    private func execute(_ action: Machine.Action) {
        switch action {
        case .write(let item):
            outbox.push(item)
        case .close(let code, let reason):
            outbox.push(.close(code: code, reason: reason))
        case .drop:
            outbox.push(.drop)
            channel.close(promise: nil)
        case .wakePump:
            pumpWake.signal()
        case .none, .stopTimers, .heartbeatReceived, .malformedRequest, .requestReceived, .authorize, .checkAccess,
            .dispatch, .startChart, .chartCancelled, .scheduleWatchdog, .sendServerHeartbeat, .streamCharts:
            // Handled where the event is fed (they need its context), or nothing to do.
            break
        }
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
            machine.withLock { $0.inputEnded() }
            outbox.finish()
            group.cancelAll()
        }
        channel.close(promise: nil)
        core.registry.remove(webSocket: id)
        let reason = machine.withLock { $0.closeReason }
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
            let now = core.wallClock.now()
            let action = machine.withLock { $0.textReceived(bytes, fin: frame.fin, now: now) }
            switch action {
            case .heartbeatReceived:
                core.stats.update { $0.heartbeatsReceived += 1 }
                core.stats.socket(id) { $0.heartbeatsReceived += 1 }
            case .malformedRequest(let response):
                core.stats.socket(id) { $0.requestsReceived += 1 }
                core.stats.update { $0.malformedRequests += 1 }
                if let response { outbox.push(response) }
            case .requestReceived(let request):
                core.stats.socket(id) { $0.requestsReceived += 1 }
                core.stats.request(request.endpoint)
                start(request, group: &group)
            default:
                execute(action)
            }
        case .ping:
            var data = frame.unmaskedData
            outbox.push(.pong(data.readBytes(length: data.readableBytes) ?? []))
        case .connectionClose:
            execute(machine.withLock { $0.clientClosed() })
        default:
            break
        }
    }

    /// Processes a request now, or after the response-delay fault; a chart's history runs in its own child task.
    private func start(_ request: WebSocketRequest, group: inout DiscardingTaskGroup) {
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

    // MARK: - Requests

    private func respond(_ requestID: Int, status: Int, _ payload: JSONValue? = nil) {
        execute(machine.withLock { $0.respond(requestID, status: status, payload) })
    }

    private func respond(_ requestID: Int, status: Int, _ message: String) {
        respond(requestID, status: status, JSONValue.string(message))
    }

    /// Handles a request; returns the history job of a chart request, to run in its own task.
    private func process(_ request: WebSocketRequest) -> (@Sendable () async -> Void)? {
        let now = core.clock.now()
        let action = machine.withLock { $0.requestStarted(request, now: now) }
        switch action {
        case .authorize(let requestID, let token):
            authorize(requestID: requestID, token: token, now: now)
            return nil
        case .checkAccess(let request, let endpoint, let token):
            return serve(request, endpoint: endpoint, token: token, now: now)
        default:
            execute(action)
            return nil
        }
    }

    /// Access checks (audit, rate limit, penalty tickets, forced penalties), then the endpoint.
    private func serve(
        _ request: WebSocketRequest, endpoint: String, token: String, now: Date
    ) -> (@Sendable () async -> Void)? {
        let check = core.auth.check(token, now: now)
        core.auditTokenUse(check, transport: "websocket", endpoint: request.endpoint, socketID: id, now: now)
        let user = check.record?.login.name ?? "anonymous"
        var body: JSONValue? = nil
        var ticket = AuthService.TicketStatus.none
        let verdict: Machine.AccessVerdict
        if !core.auth.admit(key: user, now: now) {
            core.stats.update { $0.rateLimited += 1 }
            verdict = .rateLimited
        } else {
            body = request.body.isEmpty ? nil : JSONValue.parse(request.body)
            ticket = core.auth.checkTicket(body?["p-ticket"]?.stringValue, now: now)
            switch ticket {
            case .wait(let penalty):
                core.stats.update { $0.penaltiesIssued += 1 }
                verdict = .penalty(penalty.json)
            case .honoured:
                core.stats.update { $0.penaltyTicketsHonoured += 1 }
                verdict = .granted
            case .none:
                if let terms = core.faults.takeForcedPenalty() {
                    let penalty = core.auth.issuePenalty(terms, now: now)
                    core.stats.update { $0.penaltiesIssued += 1 }
                    verdict = .penalty(penalty.json)
                } else {
                    verdict = .granted
                }
            }
        }
        let action = machine.withLock {
            $0.accessChecked(request, endpoint: endpoint, token: token, verdict: verdict)
        }
        guard case .dispatch(let request, let endpoint, let token) = action else {
            execute(action)
            return nil
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

    private func authorize(requestID: Int, token: String, now: Date) {
        let check = core.auth.check(token, now: now)
        if case .valid(let record) = check, accepts(record) {
            let session = Machine.Session(token: token, expiresAt: record.expiresAt, user: record.login.name)
            let action = machine.withLock { $0.authorizeSucceeded(requestID: requestID, session: session) }
            core.stats.update { $0.authorizationsSucceeded += 1 }
            core.stats.socket(id) { $0.user = record.login.name }
            execute(action)
            pumpWake.signal()
        } else {
            core.stats.update { $0.authorizationsFailed += 1 }
            core.auditTokenUse(check, transport: "websocket", endpoint: "authorize", socketID: id, now: now)
            execute(machine.withLock { $0.authorizeFailed(requestID: requestID) })
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
        let target = body?["subscriptionId"]?.intValue
        let action = machine.withLock { $0.chartCancelled(requestID: request.id, subscriptionID: target) }
        guard case .chartCancelled(let remaining, let response) = action else { return execute(action) }
        if let remaining { core.stats.socket(id) { $0.activeCharts = remaining } }
        if let response { outbox.push(response) }
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
        let nowMinute = CivilDate.floorDivide(SimulatedMarket.millis(now), 60_000)
        guard let symbol = core.market.resolveSymbol(symbolText, atMinute: nowMinute) else {
            chartError(request.id, code: "UnknownSymbol", text: "Unknown symbol: \(symbolText)")
            return nil
        }
        let action = machine.withLock { $0.chartRequested(requestID: request.id, symbol: symbol, minutes: size) }
        guard case .startChart(let subscription, let active, let response) = action else {
            execute(action)
            return nil
        }
        core.stats.update { $0.chartRequests += 1 }
        core.stats.socket(id) { $0.activeCharts = active }
        if let response { outbox.push(response) }
        let range = ChartFeed.HistoryRange(closest: closest, asFarAs: far, count: count)
        return { [self] in await self.sendHistory(subscription, range: range) }
    }

    private func isStreaming(_ subscription: Machine.Subscription) -> Bool {
        machine.withLock { $0.isStreaming(realtimeID: subscription.realtimeId) }
    }

    private func sendHistory(_ subscription: Machine.Subscription, range: ChartFeed.HistoryRange) async {
        let nowMillis = SimulatedMarket.millis(core.clock.now())
        let bars = feed.historyBars(subscription, range: range, nowMillis: nowMillis)
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
            guard isStreaming(subscription), !Task.isCancelled else { return }
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
            guard isStreaming(subscription), !Task.isCancelled else { return }
            outbox.push(.messages([.chart([ChartEncoder.endOfHistory(id: packetID)])]))
        }
        let n = Int64(subscription.minutes)
        let latest = CivilDate.floorDivide(CivilDate.floorDivide(nowMillis - 1, 60_000), n) * n
        let recent = bars.last.flatMap { $0.start + n >= latest ? $0 : nil }
        execute(machine.withLock { $0.historySent(realtimeID: subscription.realtimeId, lastSent: recent) })
    }

    // MARK: - Real time (simulation clock)

    private func pump() async {
        while !Task.isCancelled {
            let now = core.clock.now()
            let action = machine.withLock { $0.pumpFired(now: now) }
            guard case .streamCharts(let subscriptions, let expiry) = action else {
                execute(action)
                return
            }
            let wake = stream(subscriptions, now: now, wake: expiry)
            await withTaskGroup(of: Void.self) { group in
                if let wake {
                    group.addTask { try? await self.core.clock.sleep(until: wake) }
                }
                group.addTask { await self.pumpWake.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Sends the real-time updates due at `now`; returns when to look again.
    private func stream(_ subscriptions: [Machine.Subscription], now: Date, wake: Date?) -> Date? {
        var wake = wake
        let nowMillis = SimulatedMarket.millis(now)
        var messages: [OutboundMessage] = []
        var sent = 0
        for subscription in subscriptions {
            let (bars, lastSent, next) = feed.updates(
                for: subscription, nowMillis: nowMillis, quiet: core.faults.quietCharts)
            if let next { wake = wake.map { min($0, next) } ?? next }
            machine.withLock { $0.realtimeBarsSent(realtimeID: subscription.realtimeId, lastSent: lastSent) }
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
        return wake
    }

    // MARK: - Watchdog (wall clock)

    private func watchdog() async {
        while !Task.isCancelled {
            let action = machine.withLock { $0.watchdogFired(now: core.wallClock.now()) }
            let deadline: Date
            switch action {
            case .scheduleWatchdog(let due):
                deadline = due
            case .sendServerHeartbeat(let next):
                outbox.push(.heartbeat)
                deadline = next
            default:
                execute(action)
                return
            }
            do {
                try await core.wallClock.sleep(until: deadline)
            } catch {
                return
            }
        }
    }

    // MARK: - Writing

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
            for action in assembler.assemble(items) {
                do {
                    switch action {
                    case .text(let bytes, let isServerHeartbeat):
                        if try await sendCounted(bytes, isServerHeartbeat: isServerHeartbeat) { return }
                    case .pong(let data):
                        try await write(.pong, data)
                    case .close(let code, let reason):
                        var text = "c[\(code),"
                        JSONString.append(reason, to: &text)
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
    private func sendCounted(_ bytes: [UInt8], isServerHeartbeat: Bool) async throws -> Bool {
        let now = core.wallClock.now()
        let decision = machine.withLock { $0.frameWillBeSent(now: now) }
        core.stats.socket(id) { socket in
            socket.framesSent += 1
            if isServerHeartbeat { socket.serverHeartbeatsSent += 1 }
        }
        try await write(.text, bytes)
        switch decision {
        case .send:
            return false
        case .sendThenDrop:
            machine.withLock { $0.frameDropped() }
            try? await channel.close()
            outbox.finish()
            return true
        case .sendThenMalformed:
            return try await sendCounted(Array(MalformedFrame.truncatedJSON.text.utf8), isServerHeartbeat: false)
        }
    }
}
