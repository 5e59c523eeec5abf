import CandleCore
import CandleTesting
import Collectors
import Foundation
import OrcaRuntime
import Testing
import TokenStore

private let redisURL = ProcessInfo.processInfo.environment["ORCA_TEST_REDIS_URL"]

/// A sink whose every query fails, as an unreachable PostgreSQL would.
private struct UnreachableSink: CandleSink {
    struct Down: Error, CustomStringConvertible {
        var description: String { "connection refused (postgres at 127.0.0.1:1)" }
    }
    func write(_ candles: [Candle]) async throws -> CandleWriteReport { throw Down() }
    func latestCandleStart(of series: Series) async throws -> Date? { throw Down() }
    func candleStarts(of series: Series, in range: Range<Date>, finalOnly: Bool) async throws -> [Date] { throw Down() }
    func candles(of series: Series, in range: Range<Date>) async throws -> [Candle] { throw Down() }
    func flush() async throws {}
    func close() async throws {}
}

private struct RedisDown: Error, CustomStringConvertible {
    var description: String { "Redis at 127.0.0.1:1: connection refused" }
}

@Suite("Health checker: staged situations", .timeLimit(.minutes(10)))
struct HealthCheckerTests {
    /// Wednesday 2026-11-18, 10:02:30 New York: the market is open.
    let weekday = instant("2026-11-18T15:02:30Z")
    /// Saturday 2026-11-21, 07:00 New York: the market is closed since Friday 17:00 (22:00 UTC).
    let weekend = instant("2026-11-21T12:00:00Z")
    let nq5 = Series(.nq, .fiveMinutes)
    let es15 = Series(.es, .fifteenMinutes)

    /// A memory sink holding bars of `series` from `from` up to and including `through`.
    func sink(_ bars: [(Series, Date, Date)]) async throws -> MemoryCandleSink {
        let sink = MemoryCandleSink()
        for (series, from, through) in bars {
            let starts = TradingCalendar.cmeEquityIndex.expectedBars(
                series.instrument, series.timeframe, from: from, to: through.addingTimeInterval(1))
            _ = try await sink.write(
                starts.map { Candle.fixture(instrument: series.instrument, timeframe: series.timeframe, start: $0) })
        }
        return sink
    }

    func tokens(expiringIn seconds: TimeInterval, at now: Date, login: String = "demo")
        -> @Sendable () async throws -> [TokenObservation]
    {
        let expiry = now.addingTimeInterval(seconds)
        return { [TokenObservation(login: login, expirationTime: expiry, source: "renewal")] }
    }

    func checker(_ probes: HealthProbes, at now: Date, series: [Series]? = nil) -> HealthChecker {
        HealthChecker(series: series ?? [nq5, es15], probes: probes, clock: ManualWallClock(now: now))
    }

    @Test func everythingFineIsHealthy() async throws {
        let sink = try await sink([
            (nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z")),
            (es15, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:45:00Z")),
        ])
        let report = await checker(
            HealthProbes(
                tokens: tokens(expiringIn: 3600, at: weekday), redis: {}, sink: sink, sinkName: "memory",
                marketData: { MarketDataObservation(connected: true) }),
            at: weekday
        ).check()
        #expect(report.status == .healthy, "\(report.reasons)")
        #expect(report.exitCode == 0)
        #expect(report.reasons.isEmpty)
        let nq = try #require(report.series(nq5))
        #expect(nq.marketOpen)
        #expect(nq.missingBars == 0)
        #expect(nq.lagSeconds == 0)
        #expect(nq.expectedLastBarStart == instant("2026-11-18T14:55:00Z"))
        #expect(report.series(es15)?.expectedLastBarStart == instant("2026-11-18T14:45:00Z"))
        #expect(report.component("redis")?.reachable == true)
        #expect(report.component("memory")?.status == .healthy)
        #expect(report.tokens.first?.secondsToExpiry == 3600)
    }

    @Test func aBarInsideTheGraceIsNotMissingYet() async throws {
        // 15:00:30: the 14:55 bar closed 30 s ago, within the 120 s grace; the 14:50 bar must be there.
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:50:00Z"))])
        let report = await checker(HealthProbes(sink: sink), at: instant("2026-11-18T15:00:30Z"), series: [nq5]).check()
        #expect(report.status == .healthy, "\(report.reasons)")
        #expect(report.series(nq5)?.expectedLastBarStart == instant("2026-11-18T14:50:00Z"))
    }

    @Test func closedMarketWithOldBarsIsNotStale() async throws {
        // The last bars CME traded: Friday 16:55 New York (21:55 UTC) for 5 minutes, 16:45 for 15 minutes.
        let sink = try await sink([
            (nq5, instant("2026-11-20T18:00:00Z"), instant("2026-11-20T21:55:00Z")),
            (es15, instant("2026-11-20T18:00:00Z"), instant("2026-11-20T21:45:00Z")),
        ])
        let report = await checker(
            HealthProbes(
                tokens: tokens(expiringIn: 3600, at: weekend), sink: sink, sinkName: "memory",
                marketData: { MarketDataObservation(connected: false) }),
            at: weekend
        ).check()
        #expect(report.status == .healthy, "\(report.reasons)")
        let nq = try #require(report.series(nq5))
        #expect(!nq.marketOpen)
        #expect(nq.missingBars == 0)
        #expect(nq.lagSeconds == 0)
        #expect(nq.lastBarStart == instant("2026-11-20T21:55:00Z"))
        #expect(nq.expectedLastBarStart == instant("2026-11-20T21:55:00Z"))
        #expect(report.component("market_data")?.detail == "disconnected (market closed)")
    }

    @Test func laggingSeriesIsDegraded() async throws {
        let sink = try await sink([
            (nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:30:00Z")),
            (es15, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:45:00Z")),
        ])
        let report = await checker(
            HealthProbes(tokens: tokens(expiringIn: 3600, at: weekday), sink: sink, sinkName: "memory"), at: weekday
        ).check()
        #expect(report.status == .degraded)
        #expect(report.exitCode == 1)
        let nq = try #require(report.series(nq5))
        #expect(nq.status == .degraded)
        #expect(nq.missingBars == 5)  // 14:35, 14:40, 14:45, 14:50, 14:55
        #expect(nq.lagSeconds == TimeInterval(25 * 60))
        #expect(report.series(es15)?.status == .healthy)
        #expect(report.reasons.contains { $0.contains("NQ 5min: 5 expected bars missing") })
    }

    @Test func allowedMissingBarsThresholdIsConfigurable() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:45:00Z"))])
        let lenient = HealthChecker(
            series: [nq5], probes: HealthProbes(sink: sink),
            thresholds: HealthChecker.Thresholds(maximumMissingBars: 2), clock: ManualWallClock(now: weekday))
        #expect(await lenient.check().status == .healthy)
        let strict = HealthChecker(
            series: [nq5], probes: HealthProbes(sink: sink),
            thresholds: HealthChecker.Thresholds(maximumMissingBars: 1), clock: ManualWallClock(now: weekday))
        #expect(await strict.check().status == .degraded)
    }

    @Test func noBarsStoredIsDegraded() async throws {
        let report = await checker(HealthProbes(sink: MemoryCandleSink()), at: weekday, series: [nq5]).check()
        #expect(report.status == .degraded)
        #expect(report.series(nq5)?.lastBarStart == nil)
        #expect(report.series(nq5)?.lagSeconds == nil)
        #expect((report.series(nq5)?.missingBars ?? 0) > 1000)  // a week of 5-minute bars
        #expect(report.reasons.contains("NQ 5min: no bars stored"))
    }

    @Test func redisUnreachableNoTokensAndNoSinkIsDown() async {
        let report = await checker(
            HealthProbes(
                tokens: { [TokenObservation(login: "demo", expirationTime: nil)] }, redis: { throw RedisDown() }),
            at: weekday
        ).check()
        #expect(report.status == .down)
        #expect(report.exitCode == 2)
        #expect(report.component("redis")?.reachable == false)
        #expect(report.component("redis")?.lastError?.contains("connection refused") == true)
        #expect(report.tokens.first?.status == .down)
        #expect(report.reasons.contains("no login has a usable token"))
        #expect(report.reasons.contains("no sink is configured: bars cannot be stored"))
    }

    @Test func unreadableTokenStoreIsDown() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let report = await checker(
            HealthProbes(tokens: { throw RedisDown() }, sink: sink), at: weekday, series: [nq5]
        ).check()
        #expect(report.status == .down)
        #expect(report.component("tokens")?.lastError?.contains("connection refused") == true)
    }

    @Test func keysTheStoreLostAndTheDaemonRestoredAreToldApartFromNoToken() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let now = weekday
        let restoredAt = now.addingTimeInterval(-42)
        let restored = await checker(
            HealthProbes(
                tokens: {
                    [
                        TokenObservation(
                            login: "demo", expirationTime: now.addingTimeInterval(3600), source: "login",
                            keysRestoredAt: restoredAt, keysRestored: 3)
                    ]
                }, sink: sink), at: weekday, series: [nq5]
        ).check()
        // Nothing is lost and the keys are back: healthy, and the detail says what happened and when.
        #expect(restored.status == .healthy)
        #expect(restored.tokens.first?.keysRestored == 3)
        #expect(restored.tokens.first?.keysRestoredAt == restoredAt)
        let detail = try #require(restored.component("tokens")?.detail)
        #expect(detail.contains("1/1 logins hold a usable token"))
        #expect(detail.contains("the token store lost 3 keys of demo, restored at 2026-11-18"))
        #expect(restored.json().contains("keysRestoredAt"))

        // Reading the store without a daemon, an absent key says where to look.
        let store = InMemoryTokenProvider(clock: ManualWallClock(now: now))
        let missing = await checker(
            HealthProbes(tokens: HealthProbes.tokens(from: store, logins: ["demo"]), sink: sink), at: weekday,
            series: [nq5]
        ).check()
        #expect(missing.status == .down)
        #expect(missing.reasons.contains { $0.contains("none in the token store") })
        #expect(missing.component("tokens")?.detail?.contains("restored") == false)
    }

    @Test func tokenNearExpiryIsDegradedAndExpiredLoginStillDegradedWhileAnotherWorks() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let near = await checker(
            HealthProbes(tokens: tokens(expiringIn: 300, at: weekday), sink: sink), at: weekday, series: [nq5]
        ).check()
        #expect(near.status == .degraded)
        #expect(near.tokens.first?.status == .degraded)
        #expect(near.reasons.contains { $0.contains("expires in 300 s") })

        let now = weekday
        let mixed = await checker(
            HealthProbes(
                tokens: {
                    [
                        TokenObservation(login: "a", expirationTime: now.addingTimeInterval(3600)),
                        TokenObservation(
                            login: "b", expirationTime: now.addingTimeInterval(-10), lastError: "login rejected"),
                    ]
                }, sink: sink), at: weekday, series: [nq5]
        ).check()
        #expect(mixed.status == .degraded)
        #expect(mixed.tokens.map(\.status) == [.healthy, .down])
        #expect(mixed.reasons.contains { $0.contains("login b has expired (last error: login rejected)") })
    }

    @Test func unreachableSinkIsDownWithoutBufferAndDegradedWithOne() async {
        let probes = HealthProbes(
            tokens: tokens(expiringIn: 3600, at: weekday), sink: UnreachableSink(), sinkName: "postgres")
        let down = await checker(probes, at: weekday).check()
        #expect(down.status == .down)
        #expect(down.component("postgres")?.reachable == false)
        #expect(down.series(nq5)?.status == .down)
        #expect(down.series(nq5)?.lastError?.contains("connection refused") == true)

        var buffered = probes
        buffered.buffer = {
            BufferObservation(
                pendingCandles: 12, spilledCandles: 10, spillBytes: 2_500, spillCapacityBytes: 1_000_000,
                consecutiveFailures: 3, lastFailure: "postgres unavailable")
        }
        let degraded = await checker(buffered, at: weekday).check()
        #expect(degraded.status == .degraded, "\(degraded.reasons)")
        #expect(degraded.component("buffer")?.detail == "12 candles pending, 10 spilled (spill file 0% full)")
        #expect(degraded.reasons.contains { $0.contains("bars wait in the buffer") })
    }

    @Test func sinkIsProbedEvenWithoutSeries() async {
        let down = await HealthChecker(
            series: [], probes: HealthProbes(sink: UnreachableSink(), sinkName: "postgres"),
            clock: ManualWallClock(now: weekday)
        ).check()
        #expect(down.status == .down)
        #expect(down.series.isEmpty)
        #expect(down.component("postgres")?.reachable == false)
        let up = await HealthChecker(
            series: [], probes: HealthProbes(sink: MemoryCandleSink(), sinkName: "memory"),
            clock: ManualWallClock(now: weekday)
        ).check()
        #expect(up.status == .healthy)
        #expect(up.component("memory")?.latencySeconds == 0)  // the manual clock does not move
    }

    @Test func fullSpillFileIsDown() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let report = await checker(
            HealthProbes(
                sink: sink,
                buffer: {
                    BufferObservation(
                        pendingCandles: 500, spilledCandles: 500, spillBytes: 4096, spillCapacityBytes: 4096,
                        consecutiveFailures: 9, lastFailure: "No space left on device")
                }), at: weekday, series: [nq5]
        ).check()
        #expect(report.status == .down)
        #expect(report.component("buffer")?.lastError == "No space left on device")
        #expect(report.reasons.contains { $0.contains("spill file is full") })
    }

    @Test func quietChartsAreNamedAndDegrade() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let report = await checker(
            HealthProbes(
                sink: sink,
                marketData: { MarketDataObservation(connected: true, quietCharts: ["NQ 1min", "ES 1min"]) }),
            at: weekday, series: [nq5]
        ).check()
        #expect(report.status == .degraded)
        #expect(report.reasons.contains { $0.contains("sent nothing for several bars: NQ 1min, ES 1min") })
        let component = try #require(report.component("market_data"))
        #expect(component.status == .degraded)
        #expect(component.detail?.contains("quiet charts") == true)

        let fine = await checker(
            HealthProbes(sink: sink, marketData: { MarketDataObservation(connected: true) }), at: weekday,
            series: [nq5]
        ).check()
        #expect(fine.component("market_data")?.status == .healthy)
    }

    @Test func damagedSpillFileIsNamed() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        func report(_ observation: BufferObservation) async -> HealthReport {
            await checker(HealthProbes(sink: sink, buffer: { observation }), at: weekday, series: [nq5]).check()
        }
        let truncated = await report(
            BufferObservation(
                pendingCandles: 0, spillCapacityBytes: 4096, spillCandlesLost: 7,
                spillProblem: "spill file /s/spill.bin was truncated by something else while running"))
        #expect(truncated.status == .degraded, "\(truncated.reasons)")
        #expect(truncated.component("buffer")?.lastError?.contains("truncated by something else") == true)
        #expect(truncated.reasons.contains { $0.contains("truncated by something else") })

        let rewritten = await report(
            BufferObservation(
                pendingCandles: 3, spilledCandles: 3, spillCapacityBytes: 4096,
                spillProblem: "spill file /s/spill.bin was removed while running; written again with 3 candles"))
        #expect(rewritten.status == .healthy, "\(rewritten.reasons)")  // repaired, nothing lost: said, not alarmed
        #expect(rewritten.component("buffer")?.detail?.contains("removed while running; written again") == true)
    }

    @Test func socketDownDuringOpenMarketIsDegradedThenDownWhenEverySeriesLags() async throws {
        let fresh = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:55:00Z"))])
        let blip = await checker(
            HealthProbes(
                sink: fresh, marketData: { MarketDataObservation(connected: false, lastError: "closed 1006") }),
            at: weekday, series: [nq5]
        ).check()
        #expect(blip.status == .degraded)
        #expect(blip.component("market_data")?.status == .down)

        let stale = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:00:00Z"))])
        let outage = await checker(
            HealthProbes(sink: stale, marketData: { MarketDataObservation(connected: false, reconnects: 7) }),
            at: weekday, series: [nq5]
        ).check()
        #expect(outage.status == .down)
        #expect(outage.component("market_data")?.detail == "disconnected, 7 reconnects")
    }

    @Test func reportRendersAsJSONAndTable() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:30:00Z"))])
        let report = await checker(
            HealthProbes(tokens: tokens(expiringIn: 4500, at: weekday), redis: {}, sink: sink, sinkName: "memory"),
            at: weekday, series: [nq5]
        ).check()
        let json = report.json()
        let decoded = try HealthReport(json: Data(json.utf8))
        #expect(decoded == report)
        #expect(json.contains("\"series\" : \"NQ 5min\""))
        #expect(json.contains("\"status\" : \"degraded\""))
        #expect(json.contains("\"checkedAt\" : \"2026-11-18T15:02:30Z\""))

        let table = report.table()
        #expect(table.hasPrefix("STATUS degraded (exit 1) at 2026-11-18 15:02:30Z"))
        #expect(table.contains("- NQ 5min: 5 expected bars missing after 2026-11-18 14:30Z"))
        #expect(table.contains("demo"))
        #expect(table.contains("1h15m"))
        let seriesLine = try #require(table.split(separator: "\n").first { $0.hasPrefix("NQ 5min") })
        #expect(seriesLine.contains("degraded"))
        #expect(seriesLine.contains("open"))
        #expect(seriesLine.contains("2026-11-18 14:30Z"))
        #expect(seriesLine.contains("2026-11-18 14:55Z"))
        #expect(seriesLine.hasSuffix("25m"))
    }

    @Test func reportFeedsTheMetrics() async throws {
        let sink = try await sink([(nq5, instant("2026-11-18T12:00:00Z"), instant("2026-11-18T14:30:00Z"))])
        let report = await checker(
            HealthProbes(tokens: tokens(expiringIn: 4500, at: weekday), redis: {}, sink: sink, sinkName: "memory"),
            at: weekday, series: [nq5]
        ).check()
        let exporter = OrcaPrometheus()
        let poller = MetricsPoller(metrics: exporter.metrics, sources: [{ MetricsSample(report: report) }])
        await poller.pollOnce()
        let text = exporter.render()
        #expect(text.contains("orca_missing_bars{series=\"NQ 5min\"} 5"))
        #expect(text.contains("orca_freshness_lag_seconds{series=\"NQ 5min\"} 1500.0"))
        #expect(text.contains("orca_health_status 1"))
        #expect(text.contains("orca_component_up{component=\"redis\"} 1"))
        #expect(text.contains("orca_token_expiry_seconds{login=\"demo\"} 4500.0"))
    }

    @Test func unreachableRedisProviderIsReportedWithItsError() async throws {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let provider = RedisTokenProvider(
            configuration: .init(url: try RedisURL("redis://:pw-secret@127.0.0.1:1/0"), connectTimeout: .seconds(5)))
        let report = await checker(
            HealthProbes(
                tokens: HealthProbes.tokens(from: provider, logins: ["demo"]), redis: HealthProbes.redis(provider)),
            at: weekday
        ).check()
        #expect(report.status == .down)
        #expect(report.component("redis")?.reachable == false)
        #expect(report.component("tokens")?.status == .down)
        #expect(!report.json().contains("pw-secret"))
        #expect(!report.table().contains("pw-secret"))
    }

    @Test(.enabled(if: redisURL != nil, "set ORCA_TEST_REDIS_URL (scripts/test.sh does) to ping a real Redis"))
    func realRedisIsReachable() async throws {
        let url = try RedisURL(redisURL ?? "")
        let clock = ManualWallClock(now: weekday)
        let provider = RedisTokenProvider(configuration: .init(url: url), clock: clock)
        let prefixLogin = "orca-health-\(UUID().uuidString)"
        let token = Token(
            accessToken: "access-secret", marketDataToken: "md-secret",
            expirationTime: weekday.addingTimeInterval(5400),
            userID: 1, login: prefixLogin, issuedAt: weekday)
        try await provider.store(token, aliases: [])
        let report = await HealthChecker(
            series: [],
            probes: HealthProbes(
                tokens: HealthProbes.tokens(from: provider, logins: [prefixLogin]), redis: HealthProbes.redis(provider),
                sink: MemoryCandleSink()),
            clock: clock
        ).check()
        #expect(report.component("redis")?.reachable == true)
        #expect(report.component("redis")?.latencySeconds != nil)
        #expect(report.tokens.first?.source == "store")
        #expect(report.status == .healthy, "\(report.reasons)")
        #expect(!report.json().contains("access-secret"))
        try await provider.remove(account: prefixLogin)
    }
}
