import ArgumentParser
import CandleCore
import Collectors
import Foundation
import Logging
import OrcaRuntime

/// An instant on the command line: ISO-8601, a bare date (00:00 UTC), or `now` (the market clock's now).
struct WhenArgument: ExpressibleByArgument {
    enum Value { case now, instant(Date) }
    let value: Value

    init?(argument: String) {
        if argument.lowercased() == "now" {
            value = .now
        } else if let instant = InstantArgument(argument: argument) {
            value = .instant(instant.date)
        } else {
            return nil
        }
    }

    func resolve(now: Date) -> Date {
        switch value {
        case .now: now
        case .instant(let date): date
        }
    }
}

/// `--from` and `--to` of the commands that work on a span of bar time (`backfill`, `verify`).
struct RangeOptions: ParsableArguments {
    @Option(help: "Start: ISO-8601 instant or date (UTC).")
    var from: WhenArgument

    @Option(help: "End (exclusive): ISO-8601 instant, date, or 'now'.")
    var to: WhenArgument = WhenArgument(argument: "now")!

    /// The span's start and end, `now` standing for the market clock's `now`.
    func resolve(now: Date) -> (start: Date, end: Date) {
        (from.resolve(now: now), to.resolve(now: now))
    }
}

/// `orca-run backfill`: pages history into the sink with checkpoints.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Page history from Tradovate into the sink, resumable after a kill.",
        discussion: """
            Splits every series' range into chunks (also at contract rolls: each bar is stored under the contract \
            that was front month), fetches them with bounded concurrency over one market-data socket, writes the \
            closed bars (upserts: running it twice changes nothing) and records finished chunks in a checkpoint \
            file, so a killed backfill resumes where it stopped. Penalty tickets and rate limits pause it; failed \
            chunks are retried and listed in the summary. Progress goes to standard error: a progress bar with \
            rate and ETA on a terminal, a line every 5 s otherwise.

            Exit status: 0 when every chunk was fetched, 1 when some failed (see the summary), 78 for a \
            configuration error.

            EXAMPLES
              orca-run backfill --from 2025-01-01 --to now
              DATABASE_URL=postgres://orca:pw@localhost/orca orca-run backfill --from 2025-06-01 --to 2025-07-01 \\
                --instruments NQ,ES --timeframes 5,60
            """)

    @OptionGroup var options: ConfigOptions

    @OptionGroup var range: RangeOptions

    @Option(help: "History requests in flight at once.")
    var concurrency = 4

    @Option(help: "Days of history per request.")
    var chunkDays = 7

    @Option(help: "Checkpoint file (default <stateDirectory>/backfill-checkpoint.json).")
    var checkpoint: String?

    @Flag(help: "Accept a checkpoint written for other parameters and extend it (default: refuse it).")
    var extendCheckpoint = false

    @Flag(help: "Fetch only chunks in which the sink lacks bars the calendar expects.")
    var skipExisting = false

    func validate() throws {
        guard concurrency >= 1, concurrency <= 64 else { throw ValidationError("--concurrency must be 1…64") }
        guard chunkDays >= 1, chunkDays <= 366 else { throw ValidationError("--chunk-days must be 1…366") }
    }

    func run() async throws {
        let configuration = try await options.load()
        options.bootstrapLogging(configuration, quietLevel: .warning)
        let logger = Logger(label: "orca.backfill")
        let environment = try await OrcaEnvironment.make(configuration, logger: logger)
        do {
            try await backfill(environment, logger: logger)
        } catch {
            await environment.shutdown()
            throw error
        }
        await environment.shutdown()
    }

    private func backfill(_ environment: OrcaEnvironment, logger: Logger) async throws {
        let configuration = environment.configuration
        let now = environment.clock.now()
        let (start, end) = range.resolve(now: now)
        guard start < end else {
            throw ValidationError("--from must be before --to (got \(start) → \(end))")
        }
        let sink = try environment.makeBackendSink()
        let (client, source) = try environment.makeMarketData()
        let checkpointFile = URL(
            fileURLWithPath: checkpoint ?? configuration.stateDirectory + "/backfill-checkpoint.json")
        try FileManager.default.createDirectory(
            at: checkpointFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        var plan = Backfill.Configuration(
            series: configuration.collector.series, from: start, to: end, chunkSize: .days(chunkDays),
            maxConcurrentRequests: concurrency,
            contractCalendar: try ContractCalendar(rollDaysBeforeExpiry: configuration.collector.rollDaysBeforeExpiry),
            checkpointFile: checkpointFile, checkpointMismatch: extendCheckpoint ? .extend : .refuse,
            skipExisting: skipExisting)
        // Tradovate serves no history for expired contracts (protocol §5.8): ask the continuous chart (@NQ) for
        // those chunks; bars are stored under the contract that was front month.
        plan.charts = .continuousWhenExpired
        let backfill = Backfill(
            configuration: plan, source: source, sink: sink, clock: environment.clock, logger: logger)
        let writer = BackfillProgressWriter()
        let banner =
            "orca-run: backfilling \(configuration.collector.series.count) series, \(Show.instant(start)) → "
            + "\(Show.instant(end)), into \(environment.sinkDescription)\n"
        FileHandle.standardError.write(Data(banner.utf8))
        let summary: BackfillSummary
        do {
            summary = try await client.withRunning { _ in
                try await backfill.run(progress: { writer.update($0) })
            }
        } catch {
            try? await sink.close()
            throw error
        }
        try await sink.close()
        print(summary.table())
        if !summary.isComplete { throw ExitCode(1) }
    }
}
