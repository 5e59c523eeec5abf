public import Foundation
import Synchronization

/// The one source of "now" and of waiting that Orca's libraries use: wall-clock instants (`Date`, UTC) plus a way to
/// sleep until one.
///
/// Every scheduler, refresher and collector takes a `WallClock`; none reads `Date()` or calls `Task.sleep` itself.
/// Three implementations ship:
/// - ``SystemWallClock``: real time.
/// - ``ScaledWallClock``: a virtual clock that is a pure function of real time and three numbers (start, anchor,
///   speed), so two processes started with the same flags agree on the simulated time.
/// - ``ManualWallClock``: moved by hand in tests; sleepers wake only when a test advances it, so schedulers are
///   tested deterministically and without real waiting.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date

    /// Suspends until ``now()`` is at or after `deadline`.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled while waiting.
    func sleep(until deadline: Date) async throws
}

extension WallClock {
    /// Suspends for `seconds` of this clock's time.
    public func sleep(for seconds: TimeInterval) async throws {
        try await sleep(until: now().addingTimeInterval(seconds))
    }

    /// Suspends for `duration` of this clock's time.
    public func sleep(for duration: Duration) async throws {
        let parts = duration.components
        try await sleep(for: TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) * 1e-18)
    }
}

/// Real time: `Date()` and `Task.sleep`.
public struct SystemWallClock: WallClock {
    /// Creates the real-time clock.
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        while true {
            let interval = deadline.timeIntervalSinceNow
            guard interval > 0 else {
                try Task.checkCancellation()
                return
            }
            // Sleep in chunks of at most a day so that far deadlines (`Date.distantFuture`) cannot overflow.
            try await Task.sleep(nanoseconds: UInt64((min(interval, 86_400) * 1e9).rounded(.up)))
        }
    }
}

/// Virtual time that runs `speed` times faster than real time: `simulated = start + (real − anchor) × speed`.
///
/// The mapping depends only on real time and the three parameters, so a restarted process, or a second process given
/// the same `start`, `anchor` and `speed`, computes the same simulated instant.
public struct ScaledWallClock: WallClock {
    /// The simulated instant at real instant ``anchor``.
    public let start: Date
    /// The real instant at which simulated time equals ``start``.
    public let anchor: Date
    /// Simulated seconds per real second (> 0).
    public let speed: Double
    private let base: SystemWallClock

    /// Creates a scaled clock.
    ///
    /// - Precondition: `speed` is finite and positive.
    public init(start: Date, anchor: Date, speed: Double) {
        precondition(speed.isFinite && speed > 0, "speed must be a positive number")
        self.start = start
        self.anchor = anchor
        self.speed = speed
        self.base = SystemWallClock()
    }

    /// The simulated instant for a real instant.
    public func simulated(atReal real: Date) -> Date {
        start.addingTimeInterval(real.timeIntervalSince(anchor) * speed)
    }

    /// The real instant at which the simulated clock reaches `simulated`.
    public func real(atSimulated simulated: Date) -> Date {
        anchor.addingTimeInterval(simulated.timeIntervalSince(start) / speed)
    }

    public func now() -> Date { simulated(atReal: base.now()) }

    public func sleep(until deadline: Date) async throws {
        try await base.sleep(until: real(atSimulated: deadline))
    }
}

/// A clock that only moves when told to. Sleepers wake, in deadline order, when `advance(by:)` or ``set(to:)``
/// reaches their deadline. It may also be set backwards (to test clock jumps); sleepers then keep waiting.
///
/// ```swift
/// let clock = ManualWallClock(now: start)
/// async let fired: Void = clock.sleep(until: start + 60)
/// await clock.waitForSleepers(1)   // the task is parked on the clock
/// clock.advance(by: 60)            // and wakes now
/// ```
public final class ManualWallClock: WallClock, Sendable {
    private struct State {
        var current: Date
        var sleepers: [UInt64: (deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = [:]
        var nextID: UInt64 = 0
        var sleeperWaiters: [(id: UInt64, count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        mutating func takeDue() -> [CheckedContinuation<Void, any Error>] {
            let due = sleepers.filter { $0.value.deadline <= current }.sorted { $0.value.deadline < $1.value.deadline }
            for (id, _) in due { sleepers.removeValue(forKey: id) }
            return due.map(\.value.continuation)
        }

        /// Removes and returns the waiters whose count of sleepers is reached.
        mutating func readySleeperWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            let ready = sleeperWaiters.filter { $0.count <= count }
            sleeperWaiters.removeAll { $0.count <= count }
            return ready.map(\.continuation)
        }
    }

    private let state: Mutex<State>

    /// Creates a manual clock showing `now`.
    public init(now: Date) {
        self.state = Mutex(State(current: now))
    }

    /// Creates a manual clock showing `start`.
    public convenience init(start: Date) {
        self.init(now: start)
    }

    public func now() -> Date {
        state.withLock { $0.current }
    }

    /// The number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone is sleeping until, if any.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Every deadline tasks are sleeping until, earliest first — to wait for one particular sleeper (say, a
    /// component's 5 s back-off: `clock.deadlines.contains(clock.now() + 5)`) when others sleep on the clock too.
    public var deadlines: [Date] { state.withLock { $0.sleepers.values.map(\.deadline).sorted() } }

    public func sleep(until deadline: Date) async throws {
        let id: UInt64 = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, ready) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if Task.isCancelled || deadline <= state.current { return (true, []) }
                    state.sleepers[id] = (deadline, continuation)
                    return (false, state.readySleeperWaiters())
                }
                for waiter in ready { waiter.resume() }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let continuation = state.withLock { $0.sleepers.removeValue(forKey: id)?.continuation }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock by `seconds` (forward, or back for a negative value) and wakes every sleeper whose deadline is
    /// reached.
    public func advance(by seconds: TimeInterval) {
        let due = state.withLock { state in
            state.current = state.current.addingTimeInterval(seconds)
            return state.takeDue()
        }
        due.forEach { $0.resume() }
    }

    /// Moves the clock by `duration`.
    public func advance(by duration: Duration) {
        advance(by: duration.timeInterval)
    }

    /// Sets the clock to `instant` and wakes every sleeper whose deadline is reached.
    public func set(to instant: Date) {
        let due = state.withLock { state in
            state.current = instant
            return state.takeDue()
        }
        due.forEach { $0.resume() }
    }

    /// Moves the clock to the earliest sleeper's deadline (if any) and wakes it. Returns that deadline.
    @discardableResult
    public func advanceToNextDeadline() -> Date? {
        guard let deadline = nextDeadline else { return nil }
        set(to: max(deadline, now()))
        return deadline
    }

    /// Suspends until at least `count` tasks are sleeping on this clock (a test's way to know a component reached its
    /// wait before advancing time), or until the calling task is cancelled — so a test whose component never goes to
    /// sleep fails at its time limit instead of hanging the run.
    public func waitForSleepers(_ count: Int) async {
        let id: UInt64 = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready: Bool = state.withLock { state in
                    if state.sleepers.count >= count || Task.isCancelled { return true }
                    state.sleeperWaiters.append((id, count, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.sleeperWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleeperWaiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
