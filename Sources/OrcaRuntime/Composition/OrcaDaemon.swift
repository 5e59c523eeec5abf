import CandleCore
public import Collectors
import Foundation
public import Logging
public import MarketData
import NIOPosix
import ServiceLifecycle
import TokenStore
import UnixSignals

/// `orca-run run`: the token refresher, the market-data client, the collector, the buffered sink, the HTTP endpoint
/// (`/health`, `/metrics`) and the metrics poller, in one `ServiceGroup`.
///
/// Build it with ``make(environment:prometheus:logger:)`` (a tested function: `orca-run` only calls it) and
/// ``run(duration:onStarted:)`` it. SIGTERM and SIGINT shut it down gracefully: the collector stops fetching, the client cancels its
/// charts and closes the socket, the refresher releases its Redis locks, the buffer drains (or spills) and the sink is
/// closed.
public struct OrcaDaemon: Sendable {
    /// The shared parts (clock, simulator, tokens).
    public let environment: OrcaEnvironment
    /// The buffer in front of the backend sink; the collector writes here.
    public let sink: BufferedCandleSink
    /// The market-data socket.
    public let client: MarketDataClient
    /// The candle source on ``client``.
    public let source: TradovateCandleSource
    /// The collector.
    public let collector: Collector
    /// Bars the broker has no trades for.
    public let ledger: FileConfirmedEmptyLedger
    /// Builds `/health` reports (and `orca-run health`).
    public let health: HealthChecker
    /// Metrics registry and names.
    public let prometheus: OrcaPrometheus
    /// The HTTP endpoint, when `http.enabled`.
    public let http: OrcaHTTPServer?
    /// Samples the components into ``prometheus``.
    public let poller: MetricsPoller
    /// The collector's events, after they were recorded in the metrics (bar close → commit latency); read it for a
    /// status line per bar. Finishes when the collector stops.
    public let events: AsyncStream<CollectorEvent>
    private let eventPump: EventPump
    private let logger: Logger

    /// Builds every part from `environment`. Nothing runs until ``run(duration:onStarted:)``.
    ///
    /// - Throws: ``ConfigurationError``, `CandleSinkError`, `CollectorError` or `CandleSourceError` for a
    ///   configuration the parts refuse.
    public static func make(
        environment: OrcaEnvironment, prometheus: OrcaPrometheus = OrcaPrometheus(), logger: Logger
    ) async throws -> OrcaDaemon {
        let configuration = environment.configuration
        let backend = try environment.makeBackendSink()
        let bufferConfiguration = configuration.buffer.sinkConfiguration(
            stateDirectory: configuration.stateDirectory)
        if let spill = bufferConfiguration.spillFile {
            try FileManager.default.createDirectory(
                at: spill.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let sink = try BufferedCandleSink(
            wrapping: backend, configuration: bufferConfiguration, logger: Logger(label: "orca.sink.buffer"))

        let refresher = environment.refresher
        let (client, source) = try environment.makeMarketData()
        let ledger = try await environment.makeLedger()
        let settings = configuration.collector
        let collector = try Collector(
            source: source, sink: sink, ledger: ledger, configuration: settings.collectorConfiguration,
            clock: environment.clock, logger: Logger(label: "orca.collector"))

        let marketDataProbe: @Sendable () async -> MarketDataObservation = {
            let stats = client.statistics
            let quiet = await collector.quietSeries.map(\.description)
            return MarketDataObservation(
                connected: stats.isConnected, lastError: stats.lastError, reconnects: stats.reconnects,
                quietCharts: quiet)
        }
        let probes = HealthProbes(
            tokens: HealthProbes.tokens(from: refresher), redis: environment.redis.map(HealthProbes.redis), sink: sink,
            sinkName: configuration.database.url == nil ? "files" : "postgres", marketData: marketDataProbe,
            buffer: HealthProbes.buffer(sink))
        let health = HealthChecker(
            series: settings.series, probes: probes,
            thresholds: .init(lookback: min(settings.healLookBack, .seconds(86_400))), clock: environment.clock)

        let http: OrcaHTTPServer? =
            configuration.http.enabled
            ? OrcaHTTPServer(
                configuration: .init(host: configuration.http.host, port: configuration.http.port),
                health: { await health.check() }, prometheus: prometheus, logger: Logger(label: "orca.http"))
            : nil
        let poller = MetricsPoller(
            metrics: prometheus.metrics, interval: .seconds(5), clock: SystemWallClock(),
            logger: Logger(label: "orca.metrics"),
            sources: [
                {
                    let tokens = await refresher.statistics
                    let buffer = await sink.stats
                    let collected = await collector.statistics
                    let md = client.statistics
                    return MetricsSample(
                        tokens: .init(tokens),
                        buffer: .init(
                            pendingCandles: buffer.pendingCandles, spilledCandles: buffer.spilledCandles,
                            spillBytes: buffer.spillBytes, failedWrites: buffer.failedWrites),
                        collector: .init(
                            barsWritten: collected.series.mapValues(\.barsWritten), socketReconnects: md.reconnects,
                            malformedFrames: md.malformedFrames, penalties: md.penalties, connected: md.isConnected,
                            barsRecovered: collected.barsRecovered, chartResubscriptions: collected.resubscriptions))
                },
                // Token expiries, freshness per series (last bar, lag, missing — judged against the calendar), health
                // and components: one health check per poll.
                { MetricsSample(report: await health.check()) },
            ])
        let (events, continuation) = AsyncStream.makeStream(
            of: CollectorEvent.self, bufferingPolicy: .bufferingNewest(10_000))
        let pump = EventPump(collector: collector, metrics: prometheus.metrics, output: continuation)
        return OrcaDaemon(
            environment: environment, sink: sink, client: client, source: source, collector: collector,
            ledger: ledger, health: health, prometheus: prometheus, http: http, poller: poller, events: events,
            eventPump: pump, logger: logger)
    }

    /// Runs every service until SIGTERM/SIGINT (graceful shutdown) or cancellation, then closes the sink and stops
    /// the embedded simulator.
    ///
    /// - Parameters:
    ///   - duration: real time after which the daemon shuts down gracefully by itself (`nil`: until a signal).
    ///   - onStarted: called once the HTTP endpoint is bound (with its port) and every service is starting.
    public func run(
        duration: Duration? = nil, onStarted: @escaping @Sendable (Int?) async -> Void = { _ in }
    ) async throws {
        var port: Int?
        if let http { port = try await http.start() }
        // Shut down in reverse order: HTTP and metrics first, then the collector stops fetching, the client closes
        // its socket, the refresher releases its locks, and the buffer drains or spills last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: BufferService(sink)),
            .init(service: environment.refresher),
            .init(service: client),
            // Before the collector, so it stops after it: it ends when the collector's event stream finishes.
            .init(service: eventPump),
            .init(service: collector),
            .init(service: poller),
            .init(
                service: StateDirectoryKeeper(
                    deviceID: environment.deviceID, deviceIDPath: environment.configuration.deviceIDPath,
                    logger: Logger(label: "orca.state"))),
        ]
        if let http { services.append(.init(service: http)) }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        await onStarted(port)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                if let duration {
                    // Ends the run by itself after `duration`; cancelled when the group stops first.
                    tasks.addTask {
                        do { try await Task.sleep(for: duration) } catch { return }
                        await group.triggerGracefulShutdown()
                    }
                }
                try await group.run()
                tasks.cancelAll()
            }
        } catch {
            await finish()
            throw error
        }
        await finish()
    }

    private func finish() async {
        do { try await sink.close() } catch {
            logger.error("closing the sink failed", metadata: ["error": "\(error)"])
        }
        await ledger.close()
        await environment.shutdown()
    }
}

/// Reads the collector's events, records bar close → commit latency, and passes every event on.
struct EventPump: Service {
    let collector: Collector
    let metrics: OrcaMetrics
    let output: AsyncStream<CollectorEvent>.Continuation

    func run() async throws {
        defer { output.finish() }
        for await event in collector.events {
            if case .barWritten(let series, _, _, true, let latency?) = event {
                metrics.barCommitLatency(seconds: latency, series: series)
            }
            output.yield(event)
        }
    }
}
