public import CandleCore
import Foundation

/// Builds a ``HealthReport`` from injected probes, judging freshness against the trading calendar.
///
/// **Freshness.** For each series, the latest bar that *should* be stored is the latest expected bar
/// (`CandleCore.TradingCalendar.expectedBars(_:_:from:to:)`) that closed at least ``Thresholds/closeGrace`` ago.
/// Bars missing after the latest stored one are counted; a closed market adds none, so old bars over a weekend or a
/// holiday are not stale. More than ``Thresholds/maximumMissingBars`` missing (or none stored at all) → `degraded`.
///
/// **Overall status.** `healthy` when every part is; `degraded` when anything is not but data still flows; `down`
/// when no data path works: the token probe finds no usable token (or cannot be read), no sink is configured, the sink
/// cannot be reached and no buffer is taking bars, the buffer's spill file is full, or the market-data socket is
/// disconnected during open market while every series is lagging.
public struct HealthChecker: Sendable {
    /// Limits that decide `degraded`.
    public struct Thresholds: Sendable, Hashable {
        /// A token expiring within this is `degraded` (default 600 s: the refresher renews 900 s before expiry, so a
        /// token this close means renewals are failing).
        public var tokenWarning: Duration
        /// How long after a bar closes it must be stored (default 120 s).
        public var closeGrace: Duration
        /// How many expected, closed bars may be missing before a series is `degraded` (default 0).
        public var maximumMissingBars: Int
        /// How far back missing bars are counted (default 7 days); also bounds the search for the latest expected
        /// bar.
        public var lookback: Duration
        /// A Redis round trip slower than this is `degraded` (default 1 s).
        public var slowRedis: Duration
        /// A spill file fuller than this fraction of its capacity is `degraded` (default 0.8); full is `down`.
        public var spillWarningFraction: Double

        /// Creates thresholds with the defaults above.
        public init(
            tokenWarning: Duration = .seconds(600), closeGrace: Duration = .seconds(120), maximumMissingBars: Int = 0,
            lookback: Duration = .seconds(7 * 86_400), slowRedis: Duration = .seconds(1),
            spillWarningFraction: Double = 0.8
        ) {
            self.tokenWarning = tokenWarning
            self.closeGrace = closeGrace
            self.maximumMissingBars = maximumMissingBars
            self.lookback = lookback
            self.slowRedis = slowRedis
            self.spillWarningFraction = spillWarningFraction
        }
    }

    /// The series checked for freshness.
    public let series: [Series]
    /// The calendar deciding which bars should exist.
    public let calendar: TradingCalendar
    /// What is asked.
    public let probes: HealthProbes
    /// The limits.
    public let thresholds: Thresholds
    private let clock: any WallClock

    /// Creates a checker.
    public init(
        series: [Series] = Series.seedDefaults, calendar: TradingCalendar = .cmeEquityIndex, probes: HealthProbes,
        thresholds: Thresholds = Thresholds(), clock: any WallClock = SystemWallClock()
    ) {
        self.series = series
        self.calendar = calendar
        self.probes = probes
        self.thresholds = thresholds
        self.clock = clock
    }

    /// Runs every probe and builds the report.
    public func check() async -> HealthReport {
        let now = clock.now()
        var state = Verdict()

        // Tokens.
        var tokens: [HealthReport.TokenHealth] = []
        if let probe = probes.tokens {
            do {
                let observations = try await probe()
                tokens = observations.map { token(from: $0, now: now) }
                let usable = tokens.filter { ($0.secondsToExpiry ?? 0) > 0 }
                if usable.isEmpty {
                    state.down(observations.isEmpty ? "no logins are configured" : "no login has a usable token")
                }
                for entry in tokens where entry.status != .healthy {
                    state.degrade(tokenReason(entry))
                }
                var detail = "\(usable.count)/\(tokens.count) logins hold a usable token"
                for entry in tokens {
                    guard let at = entry.keysRestoredAt else { continue }
                    // Not a fault of Orca's and nothing is lost: said, not degraded (the counter alerts).
                    detail +=
                        "; the token store lost \(entry.keysRestored ?? 0) keys of \(entry.login), restored at "
                        + HealthText.instant(at, seconds: true)
                }
                state.components.append(
                    HealthReport.ComponentHealth(
                        name: "tokens", status: usable.isEmpty ? .down : tokens.map(\.status).max() ?? .healthy,
                        reachable: true, detail: detail))
            } catch {
                state.down("tokens cannot be read: \(error)")
                state.components.append(
                    HealthReport.ComponentHealth(
                        name: "tokens", status: .down, reachable: false, lastError: "\(error)"))
            }
        }

        // Redis.
        if let ping = probes.redis {
            let start = clock.now()
            do {
                try await ping()
                let latency = max(0, clock.now().timeIntervalSince(start))
                let slow = latency > thresholds.slowRedis.timeInterval
                if slow { state.degrade("Redis answered slowly (\(Self.milliseconds(latency)))") }
                state.components.append(
                    HealthReport.ComponentHealth(
                        name: "redis", status: slow ? .degraded : .healthy, reachable: true, latencySeconds: latency))
            } catch {
                state.degrade("Redis is unreachable: \(error)")
                state.components.append(
                    HealthReport.ComponentHealth(
                        name: "redis", status: .down, reachable: false, lastError: "\(error)"))
            }
        }

        // Buffer.
        var bufferTakesBars = false
        if let probe = probes.buffer {
            let buffer = await probe()
            let component = bufferComponent(buffer, verdict: &state)
            bufferTakesBars = component.status != .down
            state.components.append(component)
        }

        // Sink and series freshness.
        let marketOpen = calendar.isOpen(at: now)
        var seriesHealth: [HealthReport.SeriesHealth] = []
        if let sink = probes.sink {
            var sinkError: String?
            var latency: TimeInterval?
            // With no series to check, one query still proves the sink answers.
            let asked = series.isEmpty ? [Series.seedDefaults[0]] : series
            for (index, series) in asked.enumerated() {
                let start = clock.now()
                let latest: Date?
                do {
                    latest = try await sink.latestCandleStart(of: series)
                    if latency == nil { latency = max(0, clock.now().timeIntervalSince(start)) }
                } catch {
                    sinkError = sinkError ?? "\(error)"
                    if index < self.series.count {
                        seriesHealth.append(
                            HealthReport.SeriesHealth(
                                series: series, status: .down, marketOpen: marketOpen, lastBarStart: nil,
                                expectedLastBarStart: nil, missingBars: 0, lagSeconds: nil, lastError: "\(error)"))
                    }
                    continue
                }
                guard index < self.series.count else { continue }
                let entry = freshness(of: series, latest: latest, now: now, marketOpen: marketOpen)
                if entry.status == .degraded { state.degrade(seriesReason(entry)) }
                seriesHealth.append(entry)
            }
            if let sinkError {
                if bufferTakesBars {
                    state.degrade("the \(probes.sinkName) sink is unreachable; bars wait in the buffer: \(sinkError)")
                } else {
                    state.down("the \(probes.sinkName) sink is unreachable and no buffer holds bars: \(sinkError)")
                }
            }
            state.components.append(
                HealthReport.ComponentHealth(
                    name: probes.sinkName, status: sinkError == nil ? .healthy : .down, reachable: sinkError == nil,
                    latencySeconds: latency, lastError: sinkError))
        } else {
            state.down("no sink is configured: bars cannot be stored")
        }

        // Market data.
        if let probe = probes.marketData {
            let observation = await probe()
            var status = HealthReport.Status.healthy
            var detail =
                observation.connected ? "connected" : (marketOpen ? "disconnected" : "disconnected (market closed)")
            if observation.reconnects > 0 { detail += ", \(observation.reconnects) reconnects" }
            if !observation.connected && marketOpen {
                status = .down
                let allLagging =
                    !seriesHealth.isEmpty && seriesHealth.allSatisfy { $0.missingBars > thresholds.maximumMissingBars }
                let reason = "the market-data socket is disconnected while the market is open"
                if allLagging { state.down(reason + " and every series is behind") } else { state.degrade(reason) }
            } else if !observation.connected && observation.lastError != nil {
                status = .degraded
                state.degrade("the market-data socket is disconnected (market closed) after an error")
            }
            if !observation.quietCharts.isEmpty {
                // Nothing is lost (each bar is fetched at its close) but the live feed is not doing its job.
                let names = observation.quietCharts.joined(separator: ", ")
                detail += "; quiet charts (bars fetched from history at each close, resubscribed): \(names)"
                status = max(status, .degraded)
                state.degrade("chart subscriptions sent nothing for several bars: \(names)")
            }
            state.components.append(
                HealthReport.ComponentHealth(
                    name: "market_data", status: status, reachable: observation.connected, detail: detail,
                    lastError: observation.lastError))
        }

        return HealthReport(
            status: state.status, checkedAt: now, reasons: state.reasons, tokens: tokens,
            components: state.components, series: seriesHealth)
    }

    // MARK: Parts

    private struct Verdict {
        var status = HealthReport.Status.healthy
        var reasons: [String] = []
        var components: [HealthReport.ComponentHealth] = []

        mutating func degrade(_ reason: String) {
            status = max(status, .degraded)
            reasons.append(reason)
        }

        mutating func down(_ reason: String) {
            status = .down
            reasons.append(reason)
        }
    }

    private func token(from observation: TokenObservation, now: Date) -> HealthReport.TokenHealth {
        let left = observation.expirationTime.map { $0.timeIntervalSince(now) }
        let status: HealthReport.Status =
            switch left {
            case .none: .down
            case .some(let seconds) where seconds <= 0: .down
            case .some(let seconds) where seconds < thresholds.tokenWarning.timeInterval: .degraded
            default: .healthy
            }
        return HealthReport.TokenHealth(
            login: observation.login, status: status, secondsToExpiry: left, expiresAt: observation.expirationTime,
            source: observation.source, lastError: observation.lastError, keysRestoredAt: observation.keysRestoredAt,
            keysRestored: observation.keysRestoredAt == nil ? nil : observation.keysRestored)
    }

    private func tokenReason(_ entry: HealthReport.TokenHealth) -> String {
        var text: String
        switch entry.secondsToExpiry {
        case .none: text = "login \(entry.login) has no token"
        case .some(let seconds) where seconds <= 0: text = "the token of login \(entry.login) has expired"
        case .some(let seconds): text = "the token of login \(entry.login) expires in \(Int(seconds)) s"
        }
        if let error = entry.lastError { text += " (last error: \(error))" }
        return text
    }

    private func bufferComponent(
        _ buffer: BufferObservation, verdict: inout Verdict
    ) -> HealthReport.ComponentHealth {
        var status = HealthReport.Status.healthy
        var detail = "\(buffer.pendingCandles) candles pending, \(buffer.spilledCandles) spilled"
        if let capacity = buffer.spillCapacityBytes, capacity > 0 {
            let fill = Double(buffer.spillBytes) / Double(capacity)
            detail += " (spill file \(Int((fill * 100).rounded(.down)))% full)"
            if buffer.spillBytes >= capacity {
                status = .down
                verdict.down("the spill file is full (\(capacity) bytes): new bars are refused")
            } else if fill > thresholds.spillWarningFraction {
                status = .degraded
                verdict.degrade("the spill file is \(Int((fill * 100).rounded(.down)))% full")
            }
        }
        if let problem = buffer.spillProblem {
            detail += "; \(problem)"
            if buffer.spillCandlesLost > 0, status == .healthy {
                // Stays until the process restarts: someone or something damaged the state directory.
                status = .degraded
                verdict.degrade(problem)
            }
        }
        if buffer.consecutiveFailures > 0, status == .healthy {
            status = .degraded
            verdict.degrade(
                "the buffer cannot drain (\(buffer.consecutiveFailures) failed writes in a row)"
                    + (buffer.lastFailure.map { ": \($0)" } ?? ""))
        }
        return HealthReport.ComponentHealth(
            name: "buffer", status: status, reachable: nil, detail: detail,
            lastError: buffer.lastFailure ?? (buffer.spillCandlesLost > 0 ? buffer.spillProblem : nil))
    }

    /// Freshness of `series` whose latest stored bar starts at `latest`.
    func freshness(of series: Series, latest: Date?, now: Date, marketOpen: Bool) -> HealthReport.SeriesHealth {
        let timeframe = series.timeframe
        // Bars starting before `closedLimit` ended at or before `now − closeGrace`.
        let closedLimit = timeframe.barStart(containing: now.addingTimeInterval(-thresholds.closeGrace.timeInterval))
        let horizon = closedLimit.addingTimeInterval(-thresholds.lookback.timeInterval)
        let expectedLast = latestExpectedBar(series, before: closedLimit, notBefore: horizon)
        let countFrom = max(latest.map { $0.addingTimeInterval(timeframe.duration) } ?? horizon, horizon)
        let missing =
            countFrom < closedLimit
            ? calendar.expectedBars(series.instrument, timeframe, from: countFrom, to: closedLimit).count : 0
        // Bar starts sit on the minute grid: whole seconds, without `Date`'s floating-point residue.
        let lag: TimeInterval? = latest.map { latest in
            expectedLast.map { max(0, $0.timeIntervalSince(latest).rounded()) } ?? 0
        }
        let behind = latest == nil || missing > thresholds.maximumMissingBars
        return HealthReport.SeriesHealth(
            series: series, status: behind ? .degraded : .healthy, marketOpen: marketOpen, lastBarStart: latest,
            expectedLastBarStart: expectedLast, missingBars: missing, lagSeconds: lag, lastError: nil)
    }

    /// The latest expected bar starting before `limit`, searching back in 4-day windows to `notBefore`.
    private func latestExpectedBar(_ series: Series, before limit: Date, notBefore: Date) -> Date? {
        var end = limit
        while end > notBefore {
            let start = max(notBefore, end.addingTimeInterval(-4 * 86_400))
            if let last = calendar.expectedBars(series.instrument, series.timeframe, from: start, to: end).last {
                return last
            }
            end = start
        }
        return nil
    }

    private func seriesReason(_ entry: HealthReport.SeriesHealth) -> String {
        guard let last = entry.lastBarStart else { return "\(entry.series): no bars stored" }
        return "\(entry.series): \(entry.missingBars) expected bars missing after \(HealthText.instant(last))"
    }

    static func milliseconds(_ seconds: TimeInterval) -> String { "\(Int((seconds * 1000).rounded())) ms" }
}
