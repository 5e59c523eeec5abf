import ArgumentParser
import OrcaRuntime

/// The `orca-run` command: a composition root only. Every rule it prints comes from the libraries.
@main
struct OrcaRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orca-run",
        abstract: "Collect CME futures candles from Tradovate into PostgreSQL or files, with fresh tokens in Redis.",
        discussion: """
            Orca keeps every bar CME traded in your database, on time, exactly once — and lets you check it. With \
            no configuration, `orca-run` runs the embedded demo: a local Tradovate simulator, tokens in memory and \
            CSV files under ./orca-data. Configure Tradovate credentials, DATABASE_URL and REDIS_URL (or a YAML \
            file, --config) for production; every key is in Docs/configuration.md.

            COMMANDS
              run         (default) The daemon: token refresher + collector + sink + /health and /metrics.
              backfill    Page history into the sink with checkpoints; resumable after a kill.
              verify      Expected vs stored bars per series; --repair fetches holes.
              health      Token TTLs, Redis/PostgreSQL reachability, per-series freshness; exit 0/1/2.
              schedule    The plan (bar closes, token renewals); explain pg_cron expressions.
              tokens      Log in / renew Tradovate tokens and write them to Redis; show their TTLs.
              calendar    Is the market open? Sessions, next open/close, expected bars.
              contracts   Front-month contract, expiry and roll date per instrument.
              simulate    A local Tradovate simulator (REST + market-data WebSocket).

            EXAMPLES
              orca-run --speed 60 --duration 60       # the demo: an hour of market in a minute
              DATABASE_URL=postgres://orca:pw@localhost/orca orca-run backfill --from 2025-01-01 --to now
              orca-run verify --from 2025-11-24 --to now --repair
              orca-run health --json
              orca-run schedule --pg-cron '*/50 * * * *'
            """,
        version: OrcaRuntime.version,
        subcommands: [
            RunCommand.self, BackfillCommand.self, VerifyCommand.self, HealthCommand.self, ScheduleCommand.self,
            TokensCommand.self, CalendarCommand.self, ContractsCommand.self, SimulateCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}
