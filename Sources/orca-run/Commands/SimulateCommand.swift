import ArgumentParser
import Foundation
import Logging
import OrcaRuntime
import ServiceLifecycle
import TradovateSimulator

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a local Tradovate simulator: REST auth and the market-data WebSocket over a synthetic market.",
        discussion: """
            The first line of output is the REST base URL and the WebSocket URL. Runs until SIGINT or SIGTERM. \
            Without --logins it accepts one demo login: name demo, password demo, cid 1, sec demo.

            CONFIGURATION
              --config FILE reads the simulator section (simulator.seed, .speed, .start, .anchor, .port) and the \
            logins of the shared configuration (tradovate.credentialsFile) as the accepted logins, so a daemon and \
            its simulator can share one file; the flags below override it.

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

    @Option(name: .customLong("config"), help: "YAML configuration file: its simulator section and logins.")
    var configFile: String?

    @Option(help: "Port to bind (simulator.port; default 0 = ephemeral).")
    var port: Int?

    @Option(help: "Market seed: equal seeds give identical bars (simulator.seed; default 42).")
    var seed: UInt64?

    @Option(help: "Simulated instant at the anchor, ISO-8601 (simulator.start).")
    var start: InstantArgument?

    @Option(help: "Simulated seconds per wall-clock second (simulator.speed; default 1).")
    var speed: Double?

    @Option(help: "Wall-clock instant at which the simulated time equals --start, ISO-8601 (simulator.anchor).")
    var anchor: InstantArgument?

    @Option(help: "Login table: a JSON array of {name, password, cid, sec[, userId, userStatus, hasLive]}.")
    var logins: String?

    @Option(help: "Token lifetime in simulated time: 5400, 90m.")
    var tokenLifetime = DurationArgument(.seconds(5_400))

    @Option(help: "Close sockets silent for this long (0 = never): 30, 30s.")
    var heartbeatTimeout = DurationArgument(.seconds(30))

    @Option(help: "Send 'h' after this long idle (0 = never): 25, 25s.")
    var serverHeartbeat = DurationArgument(.seconds(25))

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

    @Flag(
        help: """
            Fault: real-time chart updates carry only completed minutes (1-minute charts get none, a bar's last \
            minute never comes live), as a quiet subscription does.
            """)
    var quietCharts = false

    @Option(help: "Fault: answer the next K requests with a penalty ticket.")
    var penalizeNext = 0

    @Option(help: "Fault: send a malformed frame on every socket after N frames.")
    var malformedAfterMessages: Int?

    @Option(help: "Fault: refuse connections for this long after start: 5, 5s.")
    var refuseFor: DurationArgument?

    @Option(help: "Fault: restart the listener (dropping every socket) this often: 30, 30s.")
    var restartEvery: DurationArgument?

    @Option(help: "Fault: drop every socket this often: 8, 8s.")
    var dropEvery: DurationArgument?

    @Option(help: "Fault: revoke every token this often: 60, 1m.")
    var revokeEvery: DurationArgument?

    @Flag(help: "Log debug messages to standard error.")
    var verbose = false

    func run() async throws {
        var overrides: [String: String] = [:]
        overrides["simulator.port"] = port.map { String($0) }
        overrides["simulator.seed"] = seed.map { String($0) }
        overrides["simulator.speed"] = speed.map { String($0) }
        overrides["simulator.start"] = start.map { $0.date.formatted(.iso8601) }
        overrides["simulator.anchor"] = anchor.map { $0.date.formatted(.iso8601) }
        let shared: OrcaConfiguration
        do {
            shared = try await OrcaConfiguration.load(
                file: configFile, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("orca-run: configuration error: \(error)\n".utf8))
            throw ExitCode(78)
        }
        var configuration: SimulatorConfiguration
        do {
            // The one adapter: the simulator section, and the configured logins as the accepted ones.
            let configured = shared.tradovate.environment == .simulator ? [] : shared.tradovate.logins
            configuration = try shared.simulator.serverConfiguration(host: host, logins: configured)
            if let logins {
                configuration.logins = try SimulatorLogin.table(
                    fromJSON: try Data(contentsOf: URL(fileURLWithPath: logins)))
            }
        } catch let error as SimulatorError {
            throw ValidationError(error.description)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        configuration.auth.tokenLifetime = tokenLifetime.duration
        configuration.webSocket.heartbeatTimeout = heartbeatTimeout.duration > .zero ? heartbeatTimeout.duration : nil
        configuration.webSocket.serverHeartbeatInterval =
            serverHeartbeat.duration > .zero ? serverHeartbeat.duration : nil
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
        faults.quietCharts = quietCharts
        faults.penalizeNextRequests = penalizeNext
        faults.malformedFrameAfterMessages = malformedAfterMessages
        faults.refuseConnectionsFor = refuseFor?.duration
        faults.restartEvery = restartEvery?.duration
        faults.dropSocketsEvery = dropEvery?.duration
        faults.revokeTokensEvery = revokeEvery?.duration
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
        print(
            "Seed \(configuration.seed); simulated time now \(server.clock.now().formatted(.iso8601)). Stop with Ctrl-C."
        )
        fflush(nil)
        // ServiceLifecycle's signal handling: SIGINT or SIGTERM ends the service group gracefully.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: SimulatorService(server: server))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        print("Shut down.")
    }
}

/// The simulator as a `Service`: runs until graceful shutdown, then shuts the server down.
struct SimulatorService: Service {
    let server: SimulatorServer

    func run() async throws {
        try? await gracefulShutdown()
        await server.shutdown()
    }
}
