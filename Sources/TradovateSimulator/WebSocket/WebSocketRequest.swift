import Synchronization

/// A client request frame: `endpoint\nid\nquery\nbody` (all three separators present, fields may be empty).
struct WebSocketRequest: Sendable {
    let endpoint: String
    let id: Int
    let query: String
    let body: String

    /// Parses a request; `nil` when the text is not four `\n`-separated fields with an integer id.
    init?(parsing text: String) {
        let parts = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let id = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
        self.endpoint = parts[0].trimmingCharacters(in: .whitespaces)
        self.id = id
        self.query = String(parts[2])
        self.body = String(parts[3])
    }

    /// The id of a frame that has one, even if the rest is malformed.
    static func id(in text: String) -> Int? {
        let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count >= 2 ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
    }
}

/// A one-slot wake-up: ``signal()`` wakes the current (or next) ``wait()``.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
