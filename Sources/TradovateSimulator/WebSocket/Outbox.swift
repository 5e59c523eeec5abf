import Synchronization

/// One message inside an `a[...]` frame.
enum OutboundMessage: Sendable, Hashable {
    /// A response or a non-chart event, as compact JSON.
    case json(String)
    /// A chart event: the JSON of each item of its `charts` array.
    case chart([[UInt8]])
}

/// What the connection's writer is asked to send.
enum OutboundItem: Sendable, Hashable {
    /// `o`.
    case open
    /// `h`.
    case heartbeat
    /// Messages for `a[...]` frames (batched per the configuration).
    case messages([OutboundMessage])
    /// A text frame sent exactly as given (malformed-frame fault).
    case raw(String)
    /// A WebSocket pong answering a ping.
    case pong([UInt8])
    /// `c[code,"reason"]`, a WebSocket close frame, then the connection closes.
    case close(code: Int, reason: String)
    /// Close the TCP connection at once (no close frame).
    case drop
    /// Answer a client's close frame with a close frame, then close.
    case acknowledgeClose
}

/// A multi-producer, single-consumer queue; the consumer takes everything pending at once, which is what lets the
/// writer batch messages ready at the same time into one frame.
final class Outbox: Sendable {
    private struct State {
        var items: [OutboundItem] = []
        var waiter: CheckedContinuation<[OutboundItem]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Queues an item (ignored after ``finish()``).
    func push(_ item: OutboundItem) {
        let waiter: CheckedContinuation<[OutboundItem]?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: [item])
    }

    /// Ends the queue: pending and future items are discarded, the consumer gets `nil`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[OutboundItem]?, Never>? in
            state.finished = true
            state.items.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Everything pending, waiting for at least one item; `nil` once finished or cancelled.
    func takeAll() async -> [OutboundItem]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[OutboundItem]?, Never>) in
                let ready: [OutboundItem]?? = state.withLock { state in
                    if state.finished || Task.isCancelled { return .some(nil) }
                    if !state.items.isEmpty {
                        defer { state.items.removeAll(keepingCapacity: true) }
                        return .some(state.items)
                    }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }
}
