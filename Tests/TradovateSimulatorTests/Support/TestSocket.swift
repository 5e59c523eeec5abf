import Foundation
import Logging
import Synchronization
import WSClient

/// A plain WebSocket client for the tests (hummingbird's WSClient), with a frame queue and timeouts that only guard
/// against hangs.
final class TestSocket: Sendable {
    private struct State {
        var frames: [String] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
        var writer: WebSocketOutboundWriter?
        var connected: CheckedContinuation<Void, any Error>?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let leftovers = Mutex<[JSON]>([])

    struct NotConnected: Error {}
    struct Timeout: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Connects and returns once the handshake is done.
    static func connect(_ url: URL) async throws -> TestSocket {
        let socket = TestSocket()
        try await socket.start(url)
        return socket
    }

    private func start(_ url: URL) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.connected = continuation }
            let running = Task {
                var configuration = WebSocketClientConfiguration()
                configuration.maxFrameSize = 1 << 26
                do {
                    try await WebSocketClient.connect(
                        url: url.absoluteString, configuration: configuration,
                        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
                    ) { inbound, outbound, _ in
                        let connected = self.state.withLock { state in
                            state.writer = outbound
                            defer { state.connected = nil }
                            return state.connected
                        }
                        connected?.resume()
                        for try await message in inbound.messages(maxSize: 1 << 26) {
                            if case .text(let text) = message { self.enqueue(text) }
                        }
                    }
                    self.fail(NotConnected())
                } catch {
                    self.fail(error)
                }
                self.finish()
            }
            task.withLock { $0 = running }
            // A guard, not a measurement: a handshake the server never answers (a listener going away mid-accept)
            // fails the connect after 60 s instead of leaving the test waiting for ever.
            Task {
                try? await Task.sleep(for: .seconds(60))
                if self.state.withLock({ $0.connected != nil }) {
                    self.fail(Timeout(what: "the WebSocket handshake"))
                    running.cancel()
                }
            }
        }
    }

    private func enqueue(_ text: String) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.frames.append(text)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func fail(_ error: any Error) {
        let connected = state.withLock { state in
            defer { state.connected = nil }
            return state.connected
        }
        connected?.resume(throwing: error)
    }

    private func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether the connection has ended (and every frame was read).
    var isClosed: Bool { state.withLock { $0.closed && $0.frames.isEmpty } }

    /// Sends a text frame.
    func send(_ text: String) async throws {
        guard let writer = state.withLock({ $0.writer }) else { throw NotConnected() }
        try await writer.write(.text(text))
    }

    /// Sends a request `endpoint\nid\nquery\nbody`.
    func request(_ endpoint: String, id: Int, query: String = "", body: String = "") async throws {
        try await send("\(endpoint)\n\(id)\n\(query)\n\(body)")
    }

    /// The next frame, or `nil` when the connection closed.
    func nextFrame(timeout: Duration = .seconds(60)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (frame, closed) = state.withLock { state -> (String?, Bool) in
                if !state.frames.isEmpty { return (state.frames.removeFirst(), false) }
                return (nil, state.closed)
            }
            if let frame { return frame }
            if closed { return nil }
            if ContinuousClock.now >= deadline { throw Timeout(what: "a frame") }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resume = self.state.withLock { state -> Bool in
                            if !state.frames.isEmpty || state.closed { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resume { continuation.resume() }
                    }
                }
                group.addTask { try? await Task.sleep(for: .milliseconds(50)) }
                await group.next()
                group.cancelAll()
                // Wake a pending waiter so the first child can finish.
                let waiter = self.state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }

    /// Reads frames until one satisfies `predicate`; returns every frame read, the matching one last.
    func frames(
        until predicate: (SimFrame) -> Bool, timeout: Duration = .seconds(60)
    ) async throws -> [SimFrame] {
        var seen: [SimFrame] = []
        while true {
            guard let text = try await nextFrame(timeout: timeout) else {
                throw Timeout(what: "a matching frame before the socket closed (saw \(seen.count))")
            }
            let frame = SimFrame(text)
            seen.append(frame)
            if predicate(frame) { return seen }
        }
    }

    /// Reads messages (elements of `a[...]` frames) until one satisfies `predicate`; returns all, matching last.
    /// Messages after the matching one in the same frame are kept for the next call.
    func messages(
        until predicate: (JSON) -> Bool, timeout: Duration = .seconds(60)
    ) async throws -> [JSON] {
        var seen: [JSON] = []
        while true {
            var batch = leftovers.withLock { leftovers in
                defer { leftovers.removeAll() }
                return leftovers
            }
            if batch.isEmpty {
                guard let text = try await nextFrame(timeout: timeout) else {
                    throw Timeout(what: "a matching message before the socket closed (saw \(seen.count))")
                }
                batch = SimFrame(text).messages
            }
            for (index, message) in batch.enumerated() {
                seen.append(message)
                if predicate(message) {
                    let rest = Array(batch[(index + 1)...])
                    leftovers.withLock { $0 = rest + $0 }
                    return seen
                }
            }
        }
    }

    /// Waits for the connection to end; returns the frames received meanwhile.
    func waitForClose(timeout: Duration = .seconds(60)) async throws -> [SimFrame] {
        var seen: [SimFrame] = []
        while let text = try await nextFrame(timeout: timeout) { seen.append(SimFrame(text)) }
        return seen
    }

    /// Closes the connection.
    func close() async {
        if let writer = state.withLock({ $0.writer }) { try? await writer.close(.normalClosure, reason: nil) }
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }
}

/// A server frame, decoded.
enum SimFrame: Sendable, CustomStringConvertible {
    case open
    case heartbeat
    case array([JSON])
    case close(code: Int, reason: String)
    case other(String)

    init(_ text: String) {
        if text == "o" {
            self = .open
        } else if text == "h" {
            self = .heartbeat
        } else if text.hasPrefix("a["), let value = JSON.parse(String(text.dropFirst())), case .array(let items) = value
        {
            self = .array(items)
        } else if text.hasPrefix("c["), let value = JSON.parse(String(text.dropFirst())),
            case .array(let items) = value,
            items.count == 2, let code = items[0].int, let reason = items[1].string
        {
            self = .close(code: code, reason: reason)
        } else {
            self = .other(text)
        }
    }

    var messages: [JSON] {
        if case .array(let items) = self { return items }
        return []
    }

    var isClose: Bool {
        if case .close = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .open: return "o"
        case .heartbeat: return "h"
        case .array(let items): return "a\(items)"
        case .close(let code, let reason): return "c[\(code),\(reason)]"
        case .other(let text): return "other(\(text.prefix(80)))"
        }
    }
}
