import ArgumentParser
import Foundation
import Logging
import TradovateSimulator

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a local Tradovate simulator: REST auth and the market-data WebSocket over a synthetic market.",
        discussion: """
            The first line of output is the REST base URL and the WebSocket URL. Runs until SIGINT or SIGTERM. \
            Without --logins it accepts one demo login: name demo, password demo, cid 1, sec demo.

            CLOCK
              Real time by default. --start/--speed/--anchor make the simulated time \
            start + (wall - anchor) x speed, so processes started with the same flags agree on it. \
            --anchor defaults to 00:00 UTC of the current day; --start defaults to the anchor.

            EXAMPLES
              orca-run simulate --port 0 --seed 42
              orca-run simulate --start 2025-12-01T14:30:00Z --speed 60 --anchor 2026-01-01T00:00:00Z
              orca-run simulate --logins logins.json --token-lifetime 300 --bar-cap 500
              orca-run simulate --drop-after-messages 20 --penalize-next 3 --response-delay-ms 250

            See Docs/simulator.md for every behaviour and knob.
            """
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 = ephemeral).")
    var port = 0

    @Option(help: "Market seed: equal seeds give identical bars.")
    var seed: UInt64 = 42

    @Option(help: "Simulated instant at the anchor (ISO-8601).")
    var start: InstantArgument?

    @Option(help: "Simulated seconds per wall-clock second.")
    var speed: Double = 1

    @Option(help: "Wall-clock instant at which the simulated time equals --start (ISO-8601).")
    var anchor: InstantArgument?

    @Option(help: "Login table: a JSON array of {name, password, cid, sec[, userId, userStatus, hasLive]}.")
    var logins: String?

    @Option(help: "Token lifetime in simulated seconds.")
    var tokenLifetime: Int = 5_400

    @Option(help: "Close sockets silent for this many seconds (0 = never).")
    var heartbeatTimeout: Double = 30

    @Option(help: "Send 'h' after this many idle seconds (0 = never).")
    var serverHeartbeat: Double = 25

    @Option(help: "Most bars per md/getChart response.")
    var barCap = 10_000

    @Flag(help: "Use historicalId != realtimeId (history packets and eoh carry historicalId).")
    var distinctChartIDs = false

    @Option(help: "Frame batching: separate, frame or event.")
    var batching = "frame"

    @Option(help: "Socket behaviour at token expiry: close, keep-open or silence.")
    var tokenExpiry = "close"

    @Option(help: "Fault: drop every socket after it has sent N frames.")
    var dropAfterMessages: Int?

    @Option(help: "Fault: delay every response by this many milliseconds.")
    var responseDelayMs: Int?

    @Flag(help: "Fault: hold the eoh of every chart.")
    var stallCharts = false

    @Option(help: "Fault: answer the next K requests with a penalty ticket.")
    var penalizeNext = 0

    @Option(help: "Fault: send a malformed frame on every socket after N frames.")
    var malformedAfterMessages: Int?

    @Option(help: "Fault: refuse connections for this many seconds after start.")
    var refuseFor: Double?

    @Option(help: "Fault: restart the listener (dropping every socket) every this many seconds.")
    var restartEvery: Double?

    @Option(help: "Fault: drop every socket every this many seconds.")
    var dropEvery: Double?

    @Option(help: "Fault: revoke every token every this many seconds.")
    var revokeEvery: Double?

    @Flag(help: "Log debug messages to standard error.")
    var verbose = false

    func run() async throws {
        var configuration = SimulatorConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        do {
            configuration.clock = try VirtualClock.fromOptions(start: start?.date, speed: speed, anchor: anchor?.date)
            if let logins {
                configuration.logins = try SimulatorLogin.table(
                    fromJSON: try Data(contentsOf: URL(fileURLWithPath: logins)))
            }
        } catch let error as SimulatorError {
            throw ValidationError(error.description)
        }
        configuration.auth.tokenLifetime = .seconds(tokenLifetime)
        configuration.webSocket.heartbeatTimeout = heartbeatTimeout > 0 ? .seconds(heartbeatTimeout) : nil
        configuration.webSocket.serverHeartbeatInterval = serverHeartbeat > 0 ? .seconds(serverHeartbeat) : nil
        configuration.charts.maxBarsPerResponse = barCap
        if distinctChartIDs { configuration.charts.ids = .distinct(historyPacketsCarry: .historical) }
        switch batching {
        case "separate": configuration.webSocket.batching = .separateFrames
        case "frame": configuration.webSocket.batching = .messagesInOneFrame
        case "event": configuration.webSocket.batching = .chartsInOneEvent
        default: throw ValidationError("--batching must be separate, frame or event")
        }
        switch tokenExpiry {
        case "close": configuration.webSocket.tokenExpiry = .close
        case "keep-open": configuration.webSocket.tokenExpiry = .keepOpen
        case "silence": configuration.webSocket.tokenExpiry = .silence
        default: throw ValidationError("--token-expiry must be close, keep-open or silence")
        }
        var faults = SimulatorConfiguration.StartupFaults()
        faults.dropSocketsAfterMessages = dropAfterMessages
        faults.responseDelay = responseDelayMs.map { .milliseconds($0) }
        faults.stallCharts = stallCharts
        faults.penalizeNextRequests = penalizeNext
        faults.malformedFrameAfterMessages = malformedAfterMessages
        faults.refuseConnectionsFor = refuseFor.map { .seconds($0) }
        faults.restartEvery = restartEvery.map { .seconds($0) }
        faults.dropSocketsEvery = dropEvery.map { .seconds($0) }
        faults.revokeTokensEvery = revokeEvery.map { .seconds($0) }
        configuration.startupFaults = faults

        var logger = Logger(label: "orca.simulator", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = verbose ? .debug : .warning
        let server: SimulatorServer
        do {
            server = try await SimulatorServer.start(configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        print(server.banner)
        if configuration.logins.isEmpty {
            print("No login table configured: accepting the demo login (name demo, password demo, cid 1, sec demo).")
        } else {
            print("Accepting \(configuration.logins.count) login(s) from \(logins ?? "the table").")
        }
        print("Seed \(seed); simulated time now \(server.clock.now().formatted(.iso8601)). Stop with Ctrl-C.")
        fflush(nil)
        let signal = await SignalWaiter.waitForTermination()
        print("Received \(signal == SIGINT ? "SIGINT" : "SIGTERM"), shutting down.")
        await server.shutdown()
    }
}

/// Waits for SIGINT or SIGTERM.
enum SignalWaiter {
    static func waitForTermination() async -> Int32 {
        let queue = DispatchQueue(label: "orca.simulate.signals")
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = Once(continuation)
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { once.resume(number) }
                source.resume()
                once.keep(source)
            }
        }
    }

    /// Resumes the continuation once and keeps the signal sources alive until then (touched only on `queue`).
    private final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Int32, Never>?
        private var sources: [any DispatchSourceSignal] = []

        init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

        func keep(_ source: any DispatchSourceSignal) {
            lock.withLock { sources.append(source) }
        }

        func resume(_ number: Int32) {
            let pending = lock.withLock { () -> CheckedContinuation<Int32, Never>? in
                defer { continuation = nil }
                return continuation
            }
            pending?.resume(returning: number)
        }
    }
}
