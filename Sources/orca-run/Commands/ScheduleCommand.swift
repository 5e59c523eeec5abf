import ArgumentParser
import CandleCore
import Foundation
import OrcaRuntime

/// `orca-run schedule`: the daemon's plan (series, bar closes, rolls, token renewals), or what pg_cron expressions do.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print the plan (series, next bar closes, rolls, token renewals); explain pg_cron expressions.",
        discussion: """
            Without --pg-cron, prints what the daemon configured like `orca-run run` (same --config file, \
            environment and flags) would do from --at on: whether the market is open and when that changes; how \
            bars are collected (live subscriptions, or collector.cron); for every series (collector.instruments × \
            collector.timeframes) its front-month contract, its next roll and its next bar closes on the CME \
            calendar — bars that would close while the market is shut are skipped, and a bar cut short by an early \
            close completes with the market; then, for every login, the expiry of its token in the token store and \
            the planned renewal: expiry − 15m (the refresher's margin), "due now" inside the margin, "expired: new \
            login at start", or "at start (no token yet)". The token store is Redis (--redis-url, $REDIS_URL, \
            redis.url); without it tokens live only in the daemon's memory and cannot be read from outside. Nothing \
            is started or written: only Redis is read, and an unreachable Redis is reported in the plan.

            With --pg-cron, explains each cron expression brought from the old pg_cron setup instead: parsed the \
            way pg_cron does (5 fields, evaluated in UTC), its next --count firing times and its pitfalls in plain \
            words. The configuration is not read.

            EXIT STATUS
              0   the plan, or every expression, was printed
              1   a --pg-cron expression is invalid or never fires
              64  a bad argument
              78  a configuration error (the message names the key)

            EXAMPLES
              orca-run schedule
              orca-run schedule --at 2026-12-24T17:00:00Z --count 6 --timeframes 30
              REDIS_URL=redis://127.0.0.1:6379/0 orca-run schedule --json
              orca-run schedule --pg-cron '*/50 * * * *' --pg-cron '*/15 * * * *'
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .customLong("pg-cron"),
        help: ArgumentHelp(
            "A 5-field cron expression to explain instead of the plan; repeat for several.", valueName: "expr"))
    var cronExpressions: [String] = []

    @Option(help: "How many bar closes (or cron firings) to list per line, 1–100.")
    var count: Int = 4

    @Option(help: ArgumentHelp("Plan from this instant, ISO-8601 or a date (default: now).", valueName: "instant"))
    var at: InstantArgument?

    @Flag(help: "Print JSON instead of the table (the plan, or an array of --pg-cron explanations).")
    var json = false

    /// The option of the earlier command (`--timeframe 5m --timeframe 1h`), kept for scripts; same as --timeframes.
    @Option(name: .customLong("timeframe"), help: .hidden)
    var legacyTimeframes: [TimeframeArgument] = []

    func validate() throws {
        guard (1...100).contains(count) else { throw ValidationError("--count must be between 1 and 100") }
    }

    func run() async throws {
        let now = at?.date ?? Date()
        if !cronExpressions.isEmpty {
            let explanations = cronExpressions.map { CronExplanation.explain($0, after: now, count: count) }
            print(json ? CronExplanation.json(explanations) : explanations.map(\.text).joined(separator: "\n"))
            if explanations.contains(where: \.failed) { throw ExitCode(1) }
            return
        }
        var extra: [String: String] = [:]
        if !legacyTimeframes.isEmpty {
            extra["collector.timeframes"] = legacyTimeframes.map { String($0.timeframe.minutes) }.joined(separator: ",")
        }
        let configuration = try await options.load(extra: extra)
        let tokens = await TokenStoreObservation.read(configuration: configuration)
        var notes: [String] = []
        if configuration.tradovate.environment == .simulator {
            notes.append("no Tradovate credentials are configured: the daemon would run the embedded simulator")
        }
        let plan = SchedulePlan.make(
            at: now, series: configuration.collector.series, tokens: tokens,
            contractCalendar: configuration.collector.contractCalendar, collectionCron: configuration.collector.cron,
            count: count, notes: notes)
        print(json ? plan.json() : plan.table())
    }
}
