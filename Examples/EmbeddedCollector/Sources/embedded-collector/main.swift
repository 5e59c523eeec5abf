// embedded-collector: Orca's collector inside your own program, writing into your own sink.
//
//   swift run embedded-collector [--seconds N] [--speed X] [--start 2026-11-27T15:00:00Z]
//
// A Tradovate simulator runs in-process on a clock `speed` times faster than real time, so 5-minute bars close every
// 5 s at the default 60×. After N real seconds (or SIGINT/SIGTERM) the service group shuts down gracefully.
import CandleCore
import CloseTracking
import Collectors
import Foundation
import Logging
import MarketData
import ServiceLifecycle
import TokenStore
import TradovateSimulator

// MARK: Arguments (plain CommandLine parsing)
func usage(_ status: Int32) -> Never {
    let text =
        "usage: embedded-collector [--seconds N (real, default 30)] [--speed X (default 60)] [--start ISO-8601]\n"
    (status == 0 ? FileHandle.standardOutput : FileHandle.standardError).write(Data(text.utf8))
    exit(status)
}
func positive(_ text: String) -> Double {
    guard let value = Double(text), value > 0 else { usage(64) }
    return value
}
var seconds = 30.0
var speed = 60.0
var start: Date?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    if flag == "--help" || flag == "-h" { usage(0) }
    guard let value = arguments.popFirst() else { usage(64) }
    switch flag {
    case "--seconds": seconds = positive(value)
    case "--speed": speed = positive(value)
    case "--start":
        guard let instant = try? Date(value, strategy: .iso8601) else { usage(64) }
        start = instant
    default: usage(64)
    }
}

// MARK: Market time: one clock for the simulator, the tokens, the client and the collector
let calendar = TradingCalendar.cmeEquityIndex
let realNow = Date()
/// Now when the market is open; otherwise (weekend, daily halt, holiday) 30 minutes into the latest session.
func marketStart(now: Date) -> Date {
    if calendar.isOpen(at: now) { return now }
    let sessions = calendar.sessions(from: now.addingTimeInterval(-10 * 86_400), to: now)
    return sessions.last(where: { $0.open <= now }).map { $0.open.addingTimeInterval(1_800) } ?? now
}
let clock = ScaledWallClock(start: start ?? marketStart(now: realNow), anchor: realNow, speed: speed)

// MARK: The parts
var simulatorConfiguration = SimulatorConfiguration()  // 127.0.0.1, ephemeral port, seed 42, demo login
simulatorConfiguration.clock = clock
let simulator = try await SimulatorServer.start(simulatorConfiguration)

let demo = SimulatorLogin.demo
let login = TradovateCredentials(name: demo.name, password: demo.password, cid: demo.cid, secret: demo.sec)
let auth = TradovateAuthClient(
    configuration: .init(baseURL: simulator.restBaseURL.absoluteString, deviceID: "embedded-collector-example"),
    clock: clock)
let refresher = TokenRefresher(
    logins: [login], auth: auth, store: InMemoryTokenProvider(clock: clock), locks: nil, clock: clock)

let client = try MarketDataClient(
    configuration: .init(url: simulator.webSocketURL),
    tokenProvider: { try await refresher.token(for: login.name) }, wallClock: clock)
let source = TradovateCandleSource(client: client, wallClock: clock)

let sink = LatestCloseSink()  // ← your sink
let series = [Series(.nq, .fiveMinutes), Series(.es, .fiveMinutes)]
let collector = try Collector(
    source: source, sink: sink,
    configuration: .init(series: series, healLookBack: .seconds(1_800)),  // heal the last 30 minutes at start
    clock: clock)

// MARK: Run until --seconds have passed (real time) or a signal arrives
var logger = Logger(label: "embedded-collector")
logger.logLevel = .warning
print("market time \(clock.now().formatted(.iso8601)) at \(speed.formatted())×, simulator \(simulator.restBaseURL)")
let group = ServiceGroup(
    services: [refresher, client, collector], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
let timer = Task {
    try await Task.sleep(for: .seconds(seconds))
    await group.triggerGracefulShutdown()  // stops the collector, then the client, then the refresher
}
try await group.run()
timer.cancel()

// MARK: After the graceful shutdown: the owner closes the sink and stops the simulator
let statistics = await collector.statistics
for series in series {
    let close = await sink.latestClose(of: series).map { String(format: "%.2f", $0) } ?? "none"
    print("\(series): \(statistics.series[series]?.barsWritten ?? 0) bars written, latest close \(close)")
}
print("market time \(clock.now().formatted(.iso8601)); shut down gracefully")
await sink.close()
await simulator.shutdown()
