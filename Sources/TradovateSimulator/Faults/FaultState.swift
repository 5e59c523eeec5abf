import Synchronization

/// The armed faults every request and socket consults.
final class FaultState: Sendable {
    private struct State {
        var responseDelay: Duration?
        var stallCharts = false
        var quietCharts = false
        var stallWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var forcedPenalties = 0
        var forcedTerms = PenaltyTerms(seconds: 5)
        var dropAfterMessages: Int?
        var malformedAfterMessages: Int?
    }

    private let state = Mutex(State())

    init(startup: SimulatorConfiguration.StartupFaults) {
        state.withLock { state in
            state.responseDelay = startup.responseDelay
            state.stallCharts = startup.stallCharts
            state.quietCharts = startup.quietCharts
            state.forcedPenalties = startup.penalizeNextRequests
            state.forcedTerms = startup.forcedPenalty
            state.dropAfterMessages = startup.dropSocketsAfterMessages
            state.malformedAfterMessages = startup.malformedFrameAfterMessages
        }
    }

    var responseDelay: Duration? {
        get { state.withLock { $0.responseDelay } }
        set { state.withLock { $0.responseDelay = newValue } }
    }

    /// Frames after which every socket (present and future) is dropped.
    var dropAfterMessages: Int? {
        get { state.withLock { $0.dropAfterMessages } }
        set { state.withLock { $0.dropAfterMessages = newValue } }
    }

    /// Frames after which every socket (present and future) gets one malformed frame.
    var malformedAfterMessages: Int? {
        get { state.withLock { $0.malformedAfterMessages } }
        set { state.withLock { $0.malformedAfterMessages = newValue } }
    }

    /// Arms K forced penalties.
    func forcePenalties(_ count: Int, terms: PenaltyTerms) {
        state.withLock { state in
            state.forcedPenalties = max(0, count)
            state.forcedTerms = terms
        }
    }

    /// Takes one forced penalty, if any is armed.
    func takeForcedPenalty() -> PenaltyTerms? {
        state.withLock { state in
            guard state.forcedPenalties > 0 else { return nil }
            state.forcedPenalties -= 1
            return state.forcedTerms
        }
    }

    var remainingForcedPenalties: Int { state.withLock { $0.forcedPenalties } }

    /// Holds or releases `eoh` of every chart.
    func setStallCharts(_ enabled: Bool) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.stallCharts = enabled
            guard !enabled else { return [] }
            let all = Array(state.stallWaiters.values)
            state.stallWaiters.removeAll()
            return all
        }
        for waiter in waiters { waiter.resume() }
    }

    var stallCharts: Bool { state.withLock { $0.stallCharts } }

    /// Whether real-time chart updates carry only completed minutes (``SimulatorFaults/quietCharts(_:)``).
    var quietCharts: Bool {
        get { state.withLock { $0.quietCharts } }
        set { state.withLock { $0.quietCharts = newValue } }
    }

    /// Returns when charts are not stalled (at once if they are not), or when the task is cancelled.
    func waitWhileStalled() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.stallCharts || Task.isCancelled { return true }
                    state.stallWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.stallWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Clears every fault (releasing stalled charts).
    func clear() {
        state.withLock { state in
            state.responseDelay = nil
            state.forcedPenalties = 0
            state.dropAfterMessages = nil
            state.malformedAfterMessages = nil
        }
        setStallCharts(false)
    }
}
