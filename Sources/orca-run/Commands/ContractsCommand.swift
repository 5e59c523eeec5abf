import ArgumentParser
import CandleCore
import Foundation
import OrcaRuntime

struct ContractsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contracts",
        abstract: "Show the front-month contract, its expiry and its roll for each instrument.",
        discussion: """
            Equity-index contracts expire on the third Friday of the contract month (last trade 09:30 New York). \
            Orca rolls to the next contract a number of days before expiry (default 8: the Thursday of the week \
            before), at the start of that day's Globex session (18:00 New York the evening before).

            EXAMPLES
              orca-run contracts
              orca-run contracts --at 2025-12-11 --instrument NQ --instrument ES
              orca-run contracts --roll-days 5
            """
    )

    @Option(help: "The instant to evaluate (ISO-8601 or YYYY-MM-DD, default: now).")
    var at: InstantArgument?

    @Option(name: .customLong("instrument"), help: "Instrument root; repeat for several (default: NQ MNQ ES MES).")
    var roots: [String] = []

    @Option(help: "Roll this many calendar days before expiry.")
    var rollDays: Int = 8

    func run() throws {
        let contracts: ContractCalendar
        do { contracts = try ContractCalendar(rollDaysBeforeExpiry: rollDays) } catch {
            throw ValidationError("--roll-days: \(error.description)")
        }
        let now = at?.date ?? Date()
        print(
            ContractsRendering.lines(try Show.instruments(roots), at: now, contracts: contracts).joined(separator: "\n")
        )
    }
}
