import ArgumentParser
import CandleCore
import Foundation
import OrcaRuntime

struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Show the CME Globex equity-index trading calendar at an instant, and the bars a range must hold.",
        discussion: """
            The market is open Sunday 18:00 to Friday 17:00 New York time with a daily 17:00-18:00 halt \
            Monday-Thursday, minus the holidays of the built-in 2024-2027 table. Bars are expected wherever \
            their interval overlaps open time; freshness and gap checks use exactly these rules.

            EXAMPLES
              orca-run calendar
              orca-run calendar --at 2026-03-08T21:30:00Z
              orca-run calendar --from 2026-11-16 --to 2026-11-21 --timeframe 5min
              orca-run calendar --holidays
            """
    )

    @Option(help: "The instant to describe (ISO-8601, default: now).")
    var at: InstantArgument?

    @Option(help: "Start of a range whose expected bars are counted (ISO-8601 or YYYY-MM-DD).")
    var from: InstantArgument?

    @Option(help: "End (exclusive) of that range.")
    var to: InstantArgument?

    @Option(help: "Timeframe for the expected-bar count (5, 5m, 15min, 1h …).")
    var timeframe = TimeframeArgument(argument: "5min")!

    @Option(help: "Instrument root for the expected-bar count.")
    var instrument: String = "NQ"

    @Flag(help: "List the holiday table.")
    var holidays = false

    func validate() throws {
        if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
        if let from, let to, from.date >= to.date { throw ValidationError("--from must be before --to") }
    }

    func run() throws {
        let calendar = TradingCalendar.cmeEquityIndex
        if holidays {
            for holiday in calendar.holidays.values.sorted(by: { $0.day < $1.day }) { print(holiday) }
            return
        }
        let now = at?.date ?? Date()
        print(CalendarRendering.lines(at: now, calendar: calendar).joined(separator: "\n"))
        if let from, let to {
            let root = try Show.instruments([instrument])[0]
            let lines = CalendarRendering.expectedBars(
                root, timeframe.timeframe, from: from.date, to: to.date, calendar: calendar)
            print(lines.joined(separator: "\n"))
        }
    }
}
