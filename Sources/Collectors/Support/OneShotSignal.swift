import Synchronization

/// A signal that fires once: ``wait()`` returns when ``fire()`` was called (before or after), or when the waiting
/// task is cancelled. Structured code uses it to end one child of a task group from outside — race the child's work
/// against `wait()` in an inner group and cancel the loser (``runUntil(_:_:)``).
final class OneShotSignal: Sendable {
    private struct State {
        var fired = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Fires the signal: every current and later ``wait()`` returns. Firing again does nothing.
    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the signal has fired or the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}

/// Runs `operation` until it returns or `stop` fires, whichever comes first; the other is then cancelled.
func runUntil(_ stop: OneShotSignal, _ operation: @escaping @Sendable () async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await operation() }
        group.addTask { await stop.wait() }
        _ = await group.next()
        group.cancelAll()
    }
}
