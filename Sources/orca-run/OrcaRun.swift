import ArgumentParser

/// The `orca-run` command: a composition root only. Every rule it prints comes from the libraries.
@main
struct OrcaRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orca-run",
        abstract: "Collect CME futures candles from Tradovate into PostgreSQL or files, with fresh tokens in Redis.",
        discussion: """
            Orca keeps every bar CME traded in your database, on time, exactly once. This build ships the \
            market rules (trading calendar, contract rolls, cron analysis); the collector daemon and its \
            companions are being built issue by issue.

            AVAILABLE NOW
              calendar    Is the market open? Sessions, next open/close, expected bars.
              contracts   Front-month contract, expiry and roll date per instrument.
              schedule    Explain cron expressions brought from the old pg_cron setup.
              simulate    A local Tradovate simulator (REST + market-data WebSocket).
              tokens      Log in / renew Tradovate tokens and write them to Redis; show their TTLs.

            PLANNED (not in this build yet)
              run         The daemon: token refresher + collector + sink + /health and /metrics.
              backfill    Page history into the sink with checkpoints.
              health      Token TTLs, Redis/PostgreSQL reachability, per-series freshness.
              verify      Expected vs stored bars per series; --repair fetches holes.

            EXAMPLES
              orca-run calendar --at 2026-12-24T18:30:00Z
              orca-run contracts --at 2025-12-11T00:00:00Z
              orca-run schedule --pg-cron '*/50 * * * *'
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, BackfillCommand.self, VerifyCommand.self, HealthCommand.self, CalendarCommand.self, ContractsCommand.self, ScheduleCommand.self, SimulateCommand.self,
            TokensCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}
