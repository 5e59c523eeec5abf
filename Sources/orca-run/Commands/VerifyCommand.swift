import ArgumentParser
import CandleCore
import Collectors
import Foundation
import Logging
import OrcaRuntime

/// `orca-run verify`: expected vs stored bars per series; `--repair` fetches the holes.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove completeness: expected vs stored bars per series; --repair fetches what is missing.",
        discussion: """
            For every configured series over [--from, --to): the bars the CME calendar expects (closed bars only), \
            the final bars stored, the missing ones (listed as ranges), duplicates (two rows at one bar start), \
            forming bars stored without a final version, and bars stored where the calendar expects none. Bars the \
            broker confirmed empty (no trades; recorded by the collector) do not count as missing.

            With --repair, every missing range is fetched from Tradovate (split at contract rolls), written, and \
            verified again; what the broker does not have stays listed.

            Exit status: 0 complete; 1 something is missing, duplicated or not final; 2 the store could not be \
            read; 78 configuration error.

            EXAMPLES
              orca-run verify --from 2025-11-01 --to now
              DATABASE_URL=postgres://orca:pw@localhost/orca orca-run verify --from 2025-11-24 --to 2025-11-29 --repair
              orca-run verify --from 2025-11-24 --to now --json | jq '.series[] | select(.missing > 0)'
            """)

    @OptionGroup var options: ConfigOptions

    @OptionGroup var range: RangeOptions

    @Flag(help: "Fetch the missing bars from Tradovate, write them and verify again.")
    var repair = false

    @Flag(help: "Print JSON instead of the table.")
    var json = false

    @Option(help: "Missing ranges listed per series in the table before '… and N more'.")
    var maxRanges = 10

    func run() async throws {
        let configuration = try await options.load()
        options.bootstrapLogging(configuration, quietLevel: .warning)
        let logger = Logger(label: "orca.verify")
        let environment = try await OrcaEnvironment.make(configuration, logger: logger)
        let now = environment.clock.now()
        let (start, end) = range.resolve(now: now)
        guard start < end else {
            await environment.shutdown()
            throw ValidationError("--from must be before --to")
        }
        let sink = try environment.makeBackendSink()
        let ledger = try await environment.makeLedger()
        let verifier = Verifier(
            sink: sink,
            confirmedEmpty: { series, range in Set(try await ledger.confirmedEmpty(of: series, in: range)) },
            clock: environment.clock)
        let status: Int32
        do {
            let report = try await verifier.verify(configuration.collector.series, from: start, to: end, now: now)
            if repair && report.exitCode == 1 {
                let (client, source) = try environment.makeMarketData()
                let contracts = try ContractCalendar(
                    rollDaysBeforeExpiry: configuration.collector.rollDaysBeforeExpiry)
                let repaired = try await client.withRunning { _ in
                    try await verifier.repair(report, from: source, into: sink, contracts: contracts)
                }
                print(json ? repaired.renderJSON() : repaired.renderTable(maximumRanges: maxRanges))
                status = repaired.exitCode
            } else {
                print(json ? report.renderJSON() : report.renderTable(maximumRanges: maxRanges))
                status = report.exitCode
            }
        } catch {
            try? await sink.close()
            await ledger.close()
            await environment.shutdown()
            throw error
        }
        try? await sink.close()
        await ledger.close()
        await environment.shutdown()
        if status != 0 { throw ExitCode(status) }
    }
}
