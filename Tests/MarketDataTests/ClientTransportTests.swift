import CandleCore
import Collectors
import Foundation
import Logging
import Testing
import TradovateSimulator

@testable import MarketData

@Suite("Market-data client: WebSocket transport", .timeLimit(.minutes(10)))
struct ClientTransportTests {
    @Test("connects, reads o, sends authorize raw and reads the answer; large frames pass")
    func roundTrip() async throws {
        var configuration = SimulatorConfiguration()
        configuration.clock = ManualWallClock(now: ClientFixtures.marketNow)
        let sim = try await SimulatorServer.start(configuration)
        let grant = try sim.grantToken()
        let transport = WebSocketTransport(
            configuration: .init(url: sim.webSocketURL),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let frames = try await transport.runCollecting { connection in
            var received: [String] = []
            var iterator = connection.texts().makeAsyncIterator()
            while let text = try await iterator.next() {
                received.append(text)
                if text == "o" {
                    try await connection.send(MarketDataWire.authorize(id: 1, token: grant.mdAccessToken ?? ""))
                } else if text.contains("\"i\":1") {
                    let body = MarketDataWire.getChartBody(
                        symbol: "NQZ5", minutes: 1, closestTimestamp: ClientFixtures.marketNow, asFarAsTimestamp: nil,
                        asMuchAsElements: 5_000)
                    try await connection.send(MarketDataWire.request(endpoint: "md/getChart", id: 2, body: body))
                } else if text.contains("\"eoh\":true") {
                    break
                }
            }
            return received
        }
        #expect(frames.first == "o")
        #expect(frames.contains { $0.hasPrefix("a[") && $0.contains("\"i\":1") && $0.contains("\"s\":200") })
        // 5 000 one-minute bars arrive in frames far larger than WSClient's 16 KiB default.
        #expect((frames.map(\.utf8.count).max() ?? 0) > 100_000)
        #expect(sim.stats.snapshot().authorizationsSucceeded == 1)
        try await eventually("the socket closed") { sim.stats.snapshot().openSockets == 0 }
        await sim.shutdown()
    }

    @Test("wss: TLS is attempted (SNI name for an IP host); a plain server fails the handshake")
    func tlsAgainstPlainServer() async throws {
        let sim = try await SimulatorServer.start(SimulatorConfiguration())
        var components = URLComponents(url: sim.webSocketURL, resolvingAgainstBaseURL: false)!
        components.scheme = "wss"
        let transport = WebSocketTransport(
            configuration: .init(url: components.url!, tlsServerName: "localhost"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        await #expect(throws: (any Error).self) {
            _ = try await transport.run { _ in }
        }
        #expect(sim.stats.snapshot().socketsOpened == 0)
        await sim.shutdown()
    }

    @Test("a refused connection throws")
    func refused() async throws {
        let sim = try await SimulatorServer.start(SimulatorConfiguration())
        let url = sim.webSocketURL
        await sim.shutdown()
        let transport = WebSocketTransport(
            configuration: .init(url: url), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        await #expect(throws: (any Error).self) {
            _ = try await transport.run { _ in }
        }
    }
}

extension WebSocketTransport {
    /// Runs a session that returns a value.
    func runCollecting<T: Sendable>(_ session: @escaping @Sendable (WebSocketConnection) async throws -> T) async throws
        -> T
    {
        let box = ResultBox<T>()
        _ = try await run { connection in box.set(try await session(connection)) }
        return try #require(box.value)
    }
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? { lock.withLock { stored } }
    func set(_ value: T) { lock.withLock { stored = value } }
}
