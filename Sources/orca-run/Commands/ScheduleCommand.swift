import ArgumentParser
import CandleCore
import Foundation

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print when bars close next, and explain cron expressions from the old pg_cron setup.",
        discussion: """
            Without --pg-cron, lists for each timeframe the next bar closes on the trading calendar (bars that \
            close while the market is shut are skipped). With --pg-cron, parses each cron expression the way \
            pg_cron does (5 fields, evaluated in UTC), prints its next firing times and explains its pitfalls \
            in plain words; the exit code is 1 when any expression is invalid or never fires.

            EXAMPLES
              orca-run schedule
              orca-run schedule --timeframe 5m --timeframe 1h --count 3
              orca-run schedule --pg-cron '*/50 * * * *' --pg-cron '*/15 * * * *'
            """
    )

    @Option(name: .customLong("pg-cron"), help: "A 5-field cron expression to explain; repeat for several.")
    var cronExpressions: [String] = []

    @Option(name: .customLong("timeframe"), help: "Timeframes to plan (default: 5min 15min 30min 1hour).")
    var timeframes: [TimeframeArgument] = []

    @Option(help: "How many upcoming times to list per line.")
    var count: Int = 4

    @Option(help: "Plan from this instant (ISO-8601, default: now).")
    var at: InstantArgument?

    func validate() throws {
        guard (1...100).contains(count) else { throw ValidationError("--count must be between 1 and 100") }
    }

    func run() throws {
        let now = at?.date ?? Date()
        if cronExpressions.isEmpty {
            printBarPlan(now: now)
            return
        }
        var failed = false
        for expression in cronExpressions {
            print("\(expression)")
            let schedule: CronSchedule
            do { schedule = try CronSchedule(expression) } catch {
                print("  error: \(error)")
                failed = true
                continue
            }
            var next: [Date] = []
            var cursor = now
            while next.count < count, let fire = schedule.next(after: cursor) {
                next.append(fire)
                cursor = fire
            }
            if next.isEmpty {
                failed = true
            } else {
                print("  next (UTC): " + next.map { $0.formatted(.iso8601) }.joined(separator: ", "))
            }
            for finding in schedule.lint() {
                print("  \(finding)")
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func printBarPlan(now: Date) {
        let calendar = TradingCalendar.cmeEquityIndex
        print("bar closes after \(Show.instant(now)) (market \(calendar.isOpen(at: now) ? "open" : "closed"))")
        for timeframe in timeframes.isEmpty ? Timeframe.seedDefaults : timeframes.map(\.timeframe) {
            let horizon = now.addingTimeInterval(14 * 86_400)
            let closes = calendar.expectedBars(.nq, timeframe, from: timeframe.barStart(containing: now), to: horizon)
                .lazy.map { start in
                    // A bar cut short by a halt or early close closes with the market.
                    min(timeframe.barEnd(startingAt: start), calendar.nextClose(after: start) ?? .distantFuture)
                }.filter { $0 > now }.prefix(count)
            let label = timeframe.label.padding(toLength: 6, withPad: " ", startingAt: 0)
            print("  \(label) " + closes.map { $0.formatted(.iso8601) }.joined(separator: ", "))
        }
    }
}
