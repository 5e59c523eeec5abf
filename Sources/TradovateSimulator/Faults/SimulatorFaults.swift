import Foundation
import Logging

/// A frame that breaks the protocol, for testing a client's parser.
public enum MalformedFrame: Sendable, Hashable, CaseIterable {
    /// An `a[...]` frame cut off in the middle of its JSON.
    case truncatedJSON
    /// A frame whose first letter is not `o`, `h`, `a` or `c`.
    case unknownFrameType
    /// An `a` frame whose payload is not JSON at all.
    case invalidJSON
    /// A chart event whose bars are not an array.
    case wrongShape

    /// The frame's text.
    public var text: String {
        switch self {
        case .truncatedJSON: return #"a[{"e":"chart","d":{"charts":[{"id":1,"td":20250101,"bars":[{"timestamp":"2025-"#
        case .unknownFrameType: return #"x["unexpected"]"#
        case .invalidJSON: return "a[this is not json]"
        case .wrongShape: return #"a[{"e":"chart","d":{"charts":[{"id":1,"bars":"none"}]}}]"#
        }
    }
}

/// Which sockets a frame-count fault applies to.
public enum FaultScope: Sendable, Hashable {
    /// Only the sockets open now.
    case openSockets
    /// The sockets open now and every socket opened later (until ``SimulatorFaults/clearAll()``).
    case allSockets
}

/// Faults on demand: every misbehaviour a Tradovate client must survive.
///
/// Obtain it from ``SimulatorServer/faults``. Time spans are on the wall clock
/// (``SimulatorConfiguration/wallClock``); penalty waits on the simulation clock.
public final class SimulatorFaults: Sendable {
    private let core: SimulatorCore
    private let listener: Listener

    init(core: SimulatorCore, listener: Listener) {
        self.core = core
        self.listener = listener
    }

    /// Closes every open WebSocket at once, without a close frame (as a network failure would).
    public func dropAllSockets() {
        for connection in core.registry.webSockets() { connection.drop() }
    }

    /// Drops sockets after they have sent `count` more frames (`o`, `h`, `a[...]` each count as one).
    public func dropSockets(afterMessages count: Int, scope: FaultScope = .openSockets) {
        if scope == .allSockets { core.faults.dropAfterMessages = count }
        for connection in core.registry.webSockets() { connection.drop(afterFrames: count) }
    }

    /// Delays every REST response and every WebSocket response by `delay` (wall clock); `nil` or zero clears it.
    /// Heartbeats are still read meanwhile.
    public func delayResponses(by delay: Duration?) {
        core.faults.responseDelay = delay.flatMap { $0 > .zero ? $0 : nil }
    }

    /// While enabled, chart requests get their response and history but no `eoh` (and so no real-time updates);
    /// disabling releases every held `eoh`.
    public func stallCharts(_ enabled: Bool) {
        core.faults.setStallCharts(enabled)
    }

    /// While enabled, real-time chart updates behave like a server that sends a forming bar only with its completed
    /// minutes: the state as of the last whole minute, while the bar is still forming, and nothing once it has
    /// closed — a 1-minute chart gets no real-time update at all, and a longer bar never gets its last minute live.
    /// History is unaffected. A client must fetch such bars from history at their close.
    public func quietCharts(_ enabled: Bool) {
        core.faults.quietCharts = enabled
    }

    /// Revokes a token: REST answers 401, `authorize` answers 401; with `closingSockets`, sockets authorized with it
    /// receive `c[3004,"Access token revoked"]` and close. Returns `false` when the token was unknown or already dead.
    @discardableResult
    public func revokeToken(_ token: String, closingSockets: Bool = true) -> Bool {
        let revoked = core.auth.revoke(token, now: core.clock.now())
        if revoked, closingSockets {
            core.closeSockets(authorizedWith: [token], code: CloseCode.tokenRevoked, reason: "Access token revoked")
        }
        return revoked
    }

    /// Revokes every live token (see ``revokeToken(_:closingSockets:)``).
    public func revokeAllTokens(closingSockets: Bool = true) {
        let tokens = core.auth.revokeAll(now: core.clock.now())
        if closingSockets {
            core.closeSockets(authorizedWith: tokens, code: CloseCode.tokenRevoked, reason: "Access token revoked")
        }
    }

    /// Answers the next `count` requests — REST (except `_sim/stats`) and WebSocket (except `authorize` and
    /// heartbeats) — with a penalty ticket. Resending with the ticket after `seconds` (simulation clock) goes through.
    public func forcePenalties(nextRequests count: Int, seconds: Int = 5, captcha: Bool = false) {
        core.faults.forcePenalties(count, terms: PenaltyTerms(seconds: seconds, captcha: captcha))
    }

    /// Sends one malformed frame on every open socket now.
    public func sendMalformedFrame(_ kind: MalformedFrame = .truncatedJSON) {
        for connection in core.registry.webSockets() { connection.sendMalformed(kind.text) }
    }

    /// Sends a malformed frame (``MalformedFrame/truncatedJSON``) on sockets once they have sent `count` more frames.
    public func sendMalformedFrame(afterMessages count: Int, scope: FaultScope = .openSockets) {
        if scope == .allSockets { core.faults.malformedAfterMessages = count }
        for connection in core.registry.webSockets() { connection.sendMalformed(afterFrames: count) }
    }

    /// Sends every open socket a `shutdown` event (`reasonCode` ∈ Maintenance, ConnectionQuotaReached,
    /// IPQuotaReached) and closes it with `c[closeCode,"reason"]`.
    public func sendShutdown(reasonCode: String = "Maintenance", reason: String? = nil, closeCode: Int = 1000) {
        for connection in core.registry.webSockets() {
            connection.shutdown(reasonCode: reasonCode, reason: reason, code: closeCode)
        }
    }

    /// Stops listening now (new connections are refused by the OS) and listens again on the same port after
    /// `duration` (wall clock). Open sockets are not touched. Returns once the port is closed.
    public func refuseConnections(for duration: Duration) async {
        await listener.refuse(for: duration)
    }

    /// Listens again at once, ending a ``refuseConnections(for:)`` window early.
    ///
    /// - Throws: ``SimulatorError`` with code `bindFailed`.
    public func acceptConnections() async throws(SimulatorError) {
        try await listener.resume()
    }

    /// Restarts the server: drops every socket and HTTP connection, closes the port, waits `downtime` (wall clock),
    /// and listens again on the same port. Tokens, stats and the market survive (as a front-end restart would).
    ///
    /// - Throws: ``SimulatorError`` with code `bindFailed`.
    public func restart(downtime: Duration = .zero) async throws(SimulatorError) {
        await listener.stop()
        dropAllSockets()
        for channel in core.registry.httpChannels() { channel.close(promise: nil) }
        if downtime > .zero { try? await core.wallClock.sleep(for: downtime) }
        try await listener.resume()
    }

    /// Disarms every fault: delays, stalls (releasing held charts), forced penalties, frame-count faults.
    public func clearAll() {
        core.faults.clear()
    }

    /// Forced penalties still armed.
    public var remainingForcedPenalties: Int { core.faults.remainingForcedPenalties }
}
