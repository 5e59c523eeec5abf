internal import Collectors
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import WSClient

/// One established WebSocket connection, as the client's session sees it: text messages in, text messages out.
struct WebSocketConnection: Sendable {
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    let maxFrameSize: Int

    /// Sends one text message.
    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// Sends a close frame with `code` (the connection ends once the server answers or the close timeout passes).
    func close(code: WebSocketErrorCode = .normalClosure, reason: String? = nil) async {
        try? await outbound.close(code, reason: reason)
    }

    /// The text messages received, in order (binary messages are decoded as UTF-8). Ends when the connection closes.
    func texts() -> AsyncMapSequence<WebSocketInboundMessageStream, String> {
        inbound.messages(maxSize: maxFrameSize).map { message in
            switch message {
            case .text(let text): return text
            case .binary(let buffer): return String(buffer: buffer)
            }
        }
    }
}

/// Connects to the market-data socket with hummingbird's `WSClient` (TLS with the system trust store or a CA file,
/// SNI name for IP hosts, large frames) and runs a session on the connection.
struct WebSocketTransport: Sendable {
    let configuration: MarketDataClientConfiguration
    let logger: Logger

    /// Connects, runs `session` while connected, and returns when the session returns (the connection is then
    /// closed normally) or the connection ends. Returns the server's close code when it sent a close frame.
    ///
    /// - Throws: the connection error (refused, TLS, handshake), or what the session throws.
    func run(_ session: @escaping @Sendable (WebSocketConnection) async throws -> Void) async throws -> Int? {
        var settings = WebSocketClientConfiguration()
        settings.maxFrameSize = configuration.maxFrameSize
        settings.closeTimeout = configuration.closeTimeout
        settings.sniHostname = configuration.tlsServerName
        var tls: TLSConfiguration? = nil
        if configuration.url.scheme?.lowercased() == "wss" {
            var made = TLSConfiguration.makeClientConfiguration()
            if let path = configuration.caBundlePath { made.trustRoots = .file(path) }
            tls = made
        }
        let maxFrameSize = configuration.maxFrameSize
        // WSClient traces frames at `trace`; keep it at `debug` or above so no payload (nor a token) can be logged.
        var socketLogger = logger
        socketLogger.logLevel = max(logger.logLevel, .debug)
        let close = try await WebSocketClient.connect(
            url: configuration.url.absoluteString, configuration: settings, tlsConfiguration: tls, logger: socketLogger
        ) { inbound, outbound, _ in
            try await session(WebSocketConnection(inbound: inbound, outbound: outbound, maxFrameSize: maxFrameSize))
        }
        return close.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }
    }
}
