#!/usr/bin/env bash
# Runs the sink benchmark (Benchmarks/Sources/SinkBench) against a throwaway PostgreSQL:
#   bash scripts/sink-bench.sh
# Starts PostgreSQL the way scripts/test.sh does (127.0.0.1, free port, random password, fsync off), exports
# ORCA_BENCH_DATABASE_URL, runs `swift run -c release SinkBench` in Benchmarks/, and always stops the server and removes
# its temporary directory. Set ORCA_BENCH_DATABASE_URL yourself and run the benchmark directly to use another server.
# (A thin wrapper: scripts/bench-postgres.sh does the work for every PostgreSQL benchmark.)
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/bench-postgres.sh" SinkBench
