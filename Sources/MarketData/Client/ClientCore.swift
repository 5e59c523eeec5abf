import CandleCore
internal import Collectors
import Foundation
import Logging
import Synchronization

/// The I/O shell around ``MarketDataConnectionStateMachine``: it holds the machine behind one `Mutex` together with
/// what the machine must not own (the session's outbound queue, the callers' continuations and streams, the run
/// loop's command queue), feeds it events and carries out the actions it returns. Nothing here awaits while holding
/// the lock; frames are queued under the lock (so they keep the machine's order), continuations are resumed and
/// streams finished after it is released.
final class ClientCore: Sendable {
    typealias Machine = MarketDataConnectionStateMachine

    /// Work for ``MarketDataClient/run()``'s task group (child tasks of `run()`).
    enum Command: Sendable {
        /// Run a timer and report it with ``ClientCore/timerFired(_:)``.
        case schedule(Machine.Timer)
        /// Ask the token provider and report with ``ClientCore/tokenFetched(_:_:)``.
        case fetchToken(connection: Int)
        /// Call the `onTokenRefused` hook.
        case notifyTokenRefused(Token)
        /// Stop: cancel the connection loop and every child task.
        case stopConnecting
    }

    /// Who waits for a chart entry.
    private enum Waiter {
        case history(CheckedContinuation<[ChartBar], any Error>)
        case live(
            AsyncThrowingStream<LiveChartEvent, any Error>.Continuation,
            subscribed: CheckedContinuation<Void, any Error>?)
    }

    /// What is done once the lock is released.
    private enum Effect: Sendable {
        case resumeHistory(CheckedContinuation<[ChartBar], any Error>, Result<[ChartBar], any Error>)
        case resumeSubscription(CheckedContinuation<Void, any Error>, (any Error)?)
        case yieldLive(AsyncThrowingStream<LiveChartEvent, any Error>.Continuation, LiveChartEvent)
        case finishLive(AsyncThrowingStream<LiveChartEvent, any Error>.Continuation, (any Error)?)
        case finishQueue(AsyncStream<String>.Continuation)
        case command(Command)
        case unstructuredTimer(Machine.Timer)
    }

    private struct State {
        var machine: Machine
        var waiters: [Int: Waiter] = [:]
        /// The established connection's outbound queue.
        var outgoing: (id: Int, queue: AsyncStream<String>.Continuation)?
        /// `run()`'s command queue, while it runs.
        var commands: AsyncStream<Command>.Continuation?
    }

    let configuration: MarketDataClientConfiguration
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private let state: Mutex<State>

    init(
        configuration: MarketDataClientConfiguration, clock: any Clock<Duration>, wallClock: any WallClock,
        logger: Logger
    ) {
        self.configuration = configuration
        self.clock = clock
        self.wallClock = wallClock
        self.state = Mutex(State(machine: Machine(configuration: configuration, logger: logger)))
    }

    // MARK: - Driving the machine

    /// Runs `event` on the machine under the lock, carries out the actions it returns and hands back the ones only
    /// the caller can do (``Machine/Action/stopReading``, ``Machine/Action/cancelConnectionAttempt``,
    /// ``Machine/Action/reconnect(attempt:)``, ``Machine/Action/stopConnecting``).
    @discardableResult
    private func perform(_ event: (inout State) -> [Machine.Action]) -> [Machine.Action] {
        let (effects, control) = state.withLock { state -> ([Effect], [Machine.Action]) in
            let actions = event(&state)
            var effects: [Effect] = []
            var control: [Machine.Action] = []
            for action in actions { apply(action, to: &state, effects: &effects, control: &control) }
            return (effects, control)
        }
        for effect in effects { run(effect) }
        return control
    }

    private func apply(
        _ action: Machine.Action, to state: inout State, effects: inout [Effect], control: inout [Machine.Action]
    ) {
        switch action {
        case .send(let text):
            state.outgoing?.queue.yield(text)
        case .closeOutgoing:
            if let queue = state.outgoing?.queue { effects.append(.finishQueue(queue)) }
        case .noteError(let message):
            state.machine.statistics.lastError = message
            state.machine.statistics.lastErrorAt = wallClock.now()
        case .schedule(let timer):
            effects.append(state.commands == nil ? .unstructuredTimer(timer) : .command(.schedule(timer)))
        case .fetchToken(let id):
            effects.append(.command(.fetchToken(connection: id)))
        case .notifyTokenRefused(let token):
            effects.append(.command(.notifyTokenRefused(token)))
        case .deliverHistory(let handle, let bars):
            if case .history(let continuation) = state.waiters.removeValue(forKey: handle) {
                effects.append(.resumeHistory(continuation, .success(bars)))
            }
        case .confirmSubscription(let handle):
            if case .live(let events, let subscribed?) = state.waiters[handle] {
                state.waiters[handle] = .live(events, subscribed: nil)
                effects.append(.resumeSubscription(subscribed, nil))
            }
        case .deliverLive(let handle, let event):
            if case .live(let events, _) = state.waiters[handle] { effects.append(.yieldLive(events, event)) }
        case .fail(let handle, let error):
            switch state.waiters.removeValue(forKey: handle) {
            case .history(let continuation):
                effects.append(.resumeHistory(continuation, .failure(error)))
            case .live(let events, let subscribed?):
                effects.append(.resumeSubscription(subscribed, error))
                effects.append(.finishLive(events, nil))
            case .live(let events, nil):
                effects.append(.finishLive(events, error is CancellationError ? nil : error))
            case nil:
                break
            }
        case .stopReading, .cancelConnectionAttempt, .reconnect, .stopConnecting:
            control.append(action)
        }
    }

    private func run(_ effect: Effect) {
        switch effect {
        case .resumeHistory(let continuation, let result): continuation.resume(with: result)
        case .resumeSubscription(let continuation, let error):
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        case .yieldLive(let events, let event): events.yield(event)
        case .finishLive(let events, let error): events.finish(throwing: error)
        case .finishQueue(let queue): queue.finish()
        case .command(let command): _ = state.withLock { $0.commands }?.yield(command)
        case .unstructuredTimer(let timer):
            // A request made before run() started has no structured parent yet; its deadline must still fire
            // (connectionWaitTimeout), so this one timer runs unstructured. Timers made while run() runs are its
            // child tasks.
            Task { await self.runTimer(timer) }
        }
    }

    /// Sleeps for `timer` on its clock and reports it (nothing when cancelled first).
    func runTimer(_ timer: Machine.Timer) async {
        do {
            switch timer {
            case .chart(_, _, let duration), .reauthorization(_, _, let duration):
                try await clock.sleep(for: duration)
            case .penalty(_, _, let seconds):
                try await wallClock.sleep(for: seconds)
            }
        } catch {
            return
        }
        timerFired(timer)
    }

    /// A timer fired.
    func timerFired(_ timer: Machine.Timer) {
        perform { $0.machine.timerFired(timer) }
    }

    // MARK: - Lifecycle (called by the run loop)

    /// `run()` starts with its command queue. Returns false if it already runs or was stopped.
    func start(commands: AsyncStream<Command>.Continuation) -> Bool {
        state.withLock { state in
            guard state.machine.start() else { return false }
            state.commands = commands
            return true
        }
    }

    /// A snapshot of the counters.
    var statistics: MarketDataClientStatistics { state.withLock { $0.machine.statistics } }

    /// Starts a connection attempt; returns its id, or nil when the loop must stop.
    func connectionRequested() -> Int? {
        state.withLock { $0.machine.connectionRequested() }
    }

    /// The connect timeout of connection `id` passed. Returns whether its attempt must be cancelled.
    func connectTimeoutFired(_ id: Int) -> Bool {
        perform { $0.machine.connectTimeoutFired(id) }.contains {
            if case .cancelConnectionAttempt = $0 { return true }
            return false
        }
    }

    /// The handshake is done: the session hands its outbound queue over. Returns false when the connection is stale.
    func sessionStarted(_ id: Int, outgoing: AsyncStream<String>.Continuation) -> Bool {
        let started = state.withLock { state in
            guard state.machine.sessionStarted(id) else { return false }
            state.outgoing = (id, outgoing)
            return true
        }
        if !started { outgoing.finish() }
        return started
    }

    /// Connection `id` ended. Returns the number of failed connections in a row to back off for, or nil to stop.
    func connectionEnded(_ id: Int, error: (any Error)?, closeCode: Int?) -> Int? {
        let control = perform { state in
            let actions = state.machine.connectionEnded(id, error: error, closeCode: closeCode)
            if let outgoing = state.outgoing, outgoing.id == id {
                state.outgoing = nil
                outgoing.queue.finish()
            }
            return actions
        }
        for action in control {
            if case .reconnect(let attempt) = action { return attempt }
        }
        return nil
    }

    /// Failed connections in a row now (for the log).
    var failedConnections: Int { state.withLock { $0.machine.failedConnections } }

    /// Graceful shutdown: charts are cancelled and the socket closed normally; without an open socket the run loop
    /// is told to stop at once.
    func shutdown() {
        let control = perform { $0.machine.shutdownRequested() }
        let stop = control.contains {
            if case .stopConnecting = $0 { return true }
            return false
        }
        if stop { run(.command(.stopConnecting)) }
    }

    /// `run()` ended: fail everything still waiting.
    func stop() {
        perform { state in
            let actions = state.machine.stopped()
            state.commands?.finish()
            state.commands = nil
            return actions
        }
        let queue = state.withLock { state in
            defer { state.outgoing = nil }
            return state.outgoing?.queue
        }
        queue?.finish()
    }

    // MARK: - Session (called by the session's tasks)

    /// The token provider answered for connection `id`'s authorization.
    func tokenFetched(_ id: Int, _ result: Result<Token, any Error>) {
        perform { $0.machine.tokenFetched(id, result) }
    }

    /// The token connection `id` is authorized with, or nil.
    func authorizedToken(_ id: Int) -> Token? {
        state.withLock { $0.machine.authorizedToken(id) }
    }

    /// The token watcher read the provider's current token.
    func tokenRenewed(_ id: Int, token: Token) {
        perform { $0.machine.tokenRenewed(id, token: token) }
    }

    /// A frame arrived on connection `id`. Returns false when the session must stop reading.
    func frameReceived(_ frame: MarketDataFrame, on id: Int) -> Bool {
        !Self.stopsReading(perform { $0.machine.frameReceived(frame, on: id) })
    }

    /// A frame on connection `id` could not be parsed. Returns false when the connection is reset.
    func malformedFrame(_ error: any Error, on id: Int) -> Bool {
        !Self.stopsReading(perform { $0.machine.malformedFrame(error, on: id) })
    }

    private static func stopsReading(_ actions: [Machine.Action]) -> Bool {
        actions.contains {
            if case .stopReading = $0 { return true }
            return false
        }
    }

    /// Counts a heartbeat sent.
    func heartbeatSent() {
        state.withLock { $0.machine.heartbeatSent() }
    }

    // MARK: - Requests (called by MarketDataClient)

    /// Registers a history page and waits for its bars.
    func historyPage(
        of chart: ChartKey, closestTimestamp: Date?, asFarAsTimestamp: Date?, asMuchAsElements: Int?
    ) async throws -> [ChartBar] {
        let handle = try makeHandle(for: chart)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ChartBar], any Error>) in
                var cancelled = false
                self.perform { state in
                    // Checked under the lock: a cancellation after this check finds the entry registered.
                    if Task.isCancelled {
                        cancelled = true
                        return []
                    }
                    state.waiters[handle] = .history(continuation)
                    return state.machine.historyRequested(
                        handle: handle, chart: chart, closestTimestamp: closestTimestamp,
                        asFarAsTimestamp: asFarAsTimestamp, asMuchAsElements: asMuchAsElements)
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            self.cancel(handle)
        }
    }

    /// Registers a live subscription and waits for the broker's first answer.
    func live(
        _ chart: ChartKey, asMuchAsElements: Int
    ) async throws -> AsyncThrowingStream<LiveChartEvent, any Error> {
        let handle = try makeHandle(for: chart)
        let (stream, events) = AsyncThrowingStream.makeStream(of: LiveChartEvent.self)
        events.onTermination = { _ in self.cancel(handle) }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                var cancelled = false
                self.perform { state in
                    if Task.isCancelled {
                        cancelled = true
                        return []
                    }
                    state.waiters[handle] = .live(events, subscribed: continuation)
                    return state.machine.liveRequested(handle: handle, chart: chart, asMuchAsElements: asMuchAsElements)
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            self.cancel(handle)
        }
        return stream
    }

    private func makeHandle(for chart: ChartKey) throws -> Int {
        try state.withLock { state throws(CandleSourceError) -> Int in
            guard state.machine.acceptsRequests else { throw Machine.notRunning(chart) }
            return state.machine.makeHandle()
        }
    }

    /// The caller went away (task cancelled, or the live stream's consumer stopped).
    func cancel(_ handle: Int) {
        self.perform { $0.machine.cancelRequested(handle) }
    }
}
