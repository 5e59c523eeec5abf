import CandleCore
import Foundation
import Logging
import NIOCore
import Synchronization

/// Everything the REST router and the WebSocket connections share.
final class SimulatorCore: Sendable {
    let configuration: SimulatorConfiguration
    let clock: any SimulationClock
    let wallClock: any SimulationClock
    let market: SimulatedMarket
    let auth: AuthService
    let stats: SimulatorStats
    let faults: FaultState
    let registry = ConnectionRegistry()
    let logger: Logger
    private let priceFormatters: [String: PriceFormatter]

    init(configuration: SimulatorConfiguration, logger: Logger) {
        self.configuration = configuration
        self.clock = configuration.clock
        self.wallClock = configuration.wallClock
        self.market = SimulatedMarket(seed: configuration.seed, configuration: configuration.market)
        self.auth = AuthService(settings: configuration.auth, logins: configuration.effectiveLogins)
        self.stats = SimulatorStats()
        self.faults = FaultState(startup: configuration.startupFaults)
        self.logger = logger
        var formatters: [String: PriceFormatter] = [:]
        for instrument in configuration.market.instruments {
            formatters[instrument.root] = PriceFormatter(tickSize: instrument.tickSize)
        }
        self.priceFormatters = formatters
    }

    func priceFormatter(for instrument: Instrument) -> PriceFormatter {
        priceFormatters[instrument.root] ?? PriceFormatter(tickSize: instrument.tickSize)
    }

    /// Records a request made with a token that is no longer valid.
    func auditTokenUse(_ check: AuthService.TokenCheck, transport: String, endpoint: String, socketID: Int?, now: Date)
    {
        switch check {
        case .expired(let record):
            let use = SimulatorStats.TokenUse(
                transport: transport, endpoint: endpoint, tokenPrefix: String(record.token.prefix(6)),
                invalidSince: record.expiresAt, usedAt: now, socketID: socketID)
            stats.update { snapshot in
                snapshot.expiredTokenUses.append(use)
                if snapshot.expiredTokenUses.count > 1_000 { snapshot.expiredTokenUses.removeFirst() }
            }
        case .revoked(let record):
            let use = SimulatorStats.TokenUse(
                transport: transport, endpoint: endpoint, tokenPrefix: String(record.token.prefix(6)),
                invalidSince: record.revokedAt ?? now, usedAt: now, socketID: socketID)
            stats.update { snapshot in
                snapshot.revokedTokenUses.append(use)
                if snapshot.revokedTokenUses.count > 1_000 { snapshot.revokedTokenUses.removeFirst() }
            }
        case .valid, .unknown:
            break
        }
    }

    /// Closes the sockets authorized with any of `tokens` (after a revocation or an evicted session).
    func closeSockets(authorizedWith tokens: [String], code: Int, reason: String) {
        guard !tokens.isEmpty else { return }
        let set = Set(tokens)
        for connection in registry.webSockets() where connection.authorizedToken.map(set.contains) ?? false {
            connection.close(code: code, reason: reason)
        }
    }
}

/// The open connections, for faults and shutdown.
final class ConnectionRegistry: Sendable {
    private struct State {
        var nextID = 1
        var webSockets: [Int: WebSocketConnection] = [:]
        var http: [Int: any Channel] = [:]
    }

    private let state = Mutex(State())

    func makeID() -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    func add(_ connection: WebSocketConnection) { state.withLock { $0.webSockets[connection.id] = connection } }
    func remove(webSocket id: Int) { state.withLock { _ = $0.webSockets.removeValue(forKey: id) } }
    func add(http channel: any Channel, id: Int) { state.withLock { $0.http[id] = channel } }
    func remove(http id: Int) { state.withLock { _ = $0.http.removeValue(forKey: id) } }

    func webSockets() -> [WebSocketConnection] {
        state.withLock { $0.webSockets.values.sorted { $0.id < $1.id } }
    }

    func httpChannels() -> [any Channel] { state.withLock { Array($0.http.values) } }
}

/// Close codes the simulator uses in `c[code,"reason"]` frames (Tradovate's own are not documented).
enum CloseCode {
    /// Server shutting down or the shutdown fault.
    static let shutdown = 1000
    /// No `[]` heartbeat or request within the heartbeat timeout.
    static let heartbeatTimeout = 3001
    /// Not authorized within the authorization timeout.
    static let authorizationTimeout = 3002
    /// The token the socket was authorized with expired.
    static let tokenExpired = 3003
    /// The token was revoked or its session ended by a newer login.
    static let tokenRevoked = 3004
}
