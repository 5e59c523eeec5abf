#!/usr/bin/env bash
# Runs the backfill benchmark (Benchmarks/Sources/BackfillBench) against a throwaway PostgreSQL:
#   bash Benchmarks/scripts/backfill-bench.sh
# Starts PostgreSQL the way scripts/test.sh and scripts/sink-bench.sh do (127.0.0.1, free port, random password,
# fsync off), exports ORCA_BENCH_DATABASE_URL, runs `swift run -c release BackfillBench` in Benchmarks/, and always
# stops the server and removes its temporary directory. Set ORCA_BENCH_DATABASE_URL yourself and run the benchmark
# directly to use another server. ORCA_BENCH_TRADOVATE_DAYS (default 365) sizes the run over the simulator's socket.
# (A thin wrapper: scripts/bench-postgres.sh does the work for every PostgreSQL benchmark.)
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/bench-postgres.sh" BackfillBench
