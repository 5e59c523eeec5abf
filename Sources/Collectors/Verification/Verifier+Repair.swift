public import CandleCore
public import Foundation

/// What repair did for one series.
public struct SeriesRepair: Sendable, Hashable {
    /// The series.
    public var series: Series
    /// Missing bars before the repair (what was asked for).
    public var requested: Int
    /// History requests sent to the source, retries included.
    public var requests: Int
    /// Final bars the source returned at missing starts.
    public var fetched: Int
    /// Bars the sink stored or changed (a forming row replaced by the final bar counts; a buffer's accepted bars
    /// count).
    public var written: Int
    /// Bars still missing after the repair, from the re-verification: the broker has no trades for them, or a
    /// request in ``failures`` did not get them.
    public var stillMissing: [BarRange]
    /// Requests or writes that failed (after retries).
    public var failures: [RepairFailure]

    /// Creates a result.
    public init(
        series: Series, requested: Int = 0, requests: Int = 0, fetched: Int = 0, written: Int = 0,
        stillMissing: [BarRange] = [], failures: [RepairFailure] = []
    ) {
        self.series = series
        self.requested = requested
        self.requests = requests
        self.fetched = fetched
        self.written = written
        self.stillMissing = stillMissing
        self.failures = failures
    }

    /// The number of bars still missing.
    public var stillMissingBars: Int { stillMissing.reduce(0) { $0 + $1.bars } }
}

/// One failed step of a repair.
public struct RepairFailure: Sendable, Hashable, CustomStringConvertible {
    /// The contract symbol asked for, when the failure is a history request.
    public var symbol: String?
    /// The instants asked for, when the failure is a history request.
    public var interval: Range<Date>?
    /// Attempts made (retries of transient errors included).
    public var attempts: Int
    /// What went wrong.
    public var error: VerificationError

    /// Creates a failure.
    public init(symbol: String? = nil, interval: Range<Date>? = nil, attempts: Int = 1, error: VerificationError) {
        self.symbol = symbol
        self.interval = interval
        self.attempts = attempts
        self.error = error
    }

    /// `NQZ5 2025-12-03 14:05 → 2025-12-03 14:30 after 4 attempts: … [sourceFailed]`.
    public var description: String {
        var text = ""
        if let symbol { text += "\(symbol) " }
        if let interval {
            let from = VerificationText.minute(interval.lowerBound)
            text += "\(from) → \(VerificationText.minute(interval.upperBound)) "
        }
        text += "after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(error)"
        return text
    }
}

/// The result of ``Verifier/repair(_:from:into:contracts:)``: what was fetched and written, and the re-verification.
public struct RepairReport: Sendable, Hashable {
    /// The verification the repair started from.
    public var before: VerificationReport
    /// The verification after the repair (same range and `now` as ``before``).
    public var after: VerificationReport
    /// One entry per series of ``before``, in its order.
    public var series: [SeriesRepair]

    /// Creates a report.
    public init(before: VerificationReport, after: VerificationReport, series: [SeriesRepair]) {
        self.before = before
        self.after = after
        self.series = series
    }

    /// Final bars fetched over all series.
    public var fetched: Int { series.reduce(0) { $0 + $1.fetched } }
    /// Bars written over all series.
    public var written: Int { series.reduce(0) { $0 + $1.written } }
    /// Bars still missing over all series.
    public var stillMissing: Int { series.reduce(0) { $0 + $1.stillMissingBars } }
    /// Whether any request or write failed.
    public var hasFailures: Bool { series.contains { !$0.failures.isEmpty } }

    /// Whether the re-verification is complete.
    public var isComplete: Bool { after.isComplete }

    /// The exit code of `orca-run verify --repair`: 2 when a series could not be verified afterwards or a request or
    /// write failed (the holes' true state is unknown); otherwise the re-verification's code (0 complete, 1 bars still
    /// missing — the broker has none —, duplicates or forming-only bars).
    public var exitCode: Int32 {
        if hasFailures { return 2 }
        return after.exitCode
    }
}

extension Verifier {
    /// Fetches every missing range of `report` from `source`, writes the final bars into `sink`, flushes it and
    /// verifies again (same range and `now`).
    ///
    /// Each missing range is split at contract rolls: every part is requested for the contract that is front month
    /// there (`ContractCalendar.frontMonths(_:from:to:)`), so bars are stored under the symbol the collector would
    /// have used. Only final bars at missing starts of the same series are written. A history request that fails
    /// with a transient ``CandleSourceError`` is retried per ``Configuration/retry`` on ``clock``; other failures
    /// are recorded and the repair goes on with the next part. Series that could not be verified are not repaired.
    /// Duplicates and unexpected bars are reported, never deleted.
    ///
    /// `sink` should store what ``reader`` reads (the same database or directory), or the re-verification will not
    /// see the written bars.
    ///
    /// - Throws: `CancellationError` only.
    public func repair(
        _ report: VerificationReport, from source: any CandleSource, into sink: any CandleSink,
        contracts: ContractCalendar = .standard
    ) async throws -> RepairReport {
        var repairs = try await boundedMap(report.series, limit: configuration.maximumConcurrency) { result in
            try await self.repair(result, from: source, into: sink, contracts: contracts)
        }
        if repairs.contains(where: { $0.written > 0 }) {
            do {
                try await sink.flush()
            } catch let error as CancellationError {
                throw error
            } catch {
                for index in repairs.indices where repairs[index].written > 0 {
                    repairs[index].failures.append(
                        RepairFailure(error: VerificationError(.writeFailed, "cannot flush the sink: \(error)")))
                }
            }
        }
        let after = try await verify(
            report.series.map(\.series), from: report.from, to: report.to, now: report.now)
        for index in repairs.indices {
            repairs[index].stillMissing = after.series[index].missingRanges
        }
        return RepairReport(before: report, after: after, series: repairs)
    }

    private func repair(
        _ result: SeriesVerification, from source: any CandleSource, into sink: any CandleSink,
        contracts: ContractCalendar
    ) async throws -> SeriesRepair {
        let series = result.series
        var repair = SeriesRepair(series: series, requested: result.missing)
        guard result.isVerified else { return repair }
        let calendar = configuration.tradingCalendar
        for range in result.missingRanges {
            // Every expected bar inside a missing run is missing (a stored or confirmed-empty bar ends a run).
            let wanted = Set(
                calendar.expectedBars(series.instrument, series.timeframe, from: range.first, to: range.end)
                    .filter { $0 <= range.last })
            for part in contracts.frontMonths(series.instrument, from: range.first, to: range.end) {
                let chart = ChartKey(
                    contract: part.contract, instrument: series.instrument, timeframe: series.timeframe)
                let interval = part.interval.start..<part.interval.end
                let answer = try await history(of: chart, in: interval, from: source)
                repair.requests += answer.attempts
                let candles: [Candle]
                switch answer.outcome {
                case .success(let received):
                    candles = received.filter { $0.isFinal && $0.series == series && wanted.contains($0.start) }
                case .failure(let error):
                    repair.failures.append(
                        RepairFailure(symbol: chart.symbol, interval: interval, attempts: answer.attempts, error: error)
                    )
                    continue
                }
                repair.fetched += candles.count
                guard !candles.isEmpty else { continue }
                do {
                    let written = try await sink.write(candles)
                    repair.written += written.written + written.buffered
                } catch let error as CancellationError {
                    throw error
                } catch {
                    repair.failures.append(
                        RepairFailure(
                            symbol: chart.symbol, interval: interval,
                            error: VerificationError(
                                .writeFailed, "cannot write \(candles.count) bars of \(chart): \(error)")))
                    return repair
                }
            }
        }
        return repair
    }

    /// One history request with retries of transient errors; the outcome and the attempts made.
    private func history(
        of chart: ChartKey, in interval: Range<Date>, from source: any CandleSource
    ) async throws -> (outcome: Result<[Candle], VerificationError>, attempts: Int) {
        let policy = configuration.retry
        var attempt = 1
        while true {
            do {
                return (.success(try await source.history(of: chart, in: interval)), attempt)
            } catch let error as CancellationError {
                throw error
            } catch {
                let transient = (error as? CandleSourceError)?.isTransient ?? false
                guard transient, attempt < policy.maximumAttempts else {
                    let failure = VerificationError(
                        .sourceFailed,
                        "cannot fetch \(chart) history"
                            + (transient ? " after \(attempt) attempts" : "") + ": \(error)")
                    return (.failure(failure), attempt)
                }
                let delay = policy.delay(after: attempt)
                if delay > 0 { try await clock.sleep(for: delay) }
                attempt += 1
            }
        }
    }
}
