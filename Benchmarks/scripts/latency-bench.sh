#!/usr/bin/env bash
# Runs the collector latency benchmark (Benchmarks/Sources/CollectorLatencyBench) against a throwaway PostgreSQL:
#   bash Benchmarks/scripts/latency-bench.sh
# Starts PostgreSQL the way scripts/test.sh and scripts/sink-bench.sh do (127.0.0.1, free port, random password,
# fsync off), exports ORCA_BENCH_DATABASE_URL, builds and runs CollectorLatencyBench (release) in Benchmarks/, and always
# stops the server and removes its temporary directory. The benchmark's own variables pass through:
# ORCA_BENCH_REAL_MINUTES (6), ORCA_BENCH_FAST_SPEED (60), ORCA_BENCH_FAST_HOURS (4), ORCA_BENCH_START,
# ORCA_BENCH_ONLY=real|fast. Without PostgreSQL (FileCandleSink):
#   cd Benchmarks && swift build -c release --product CollectorLatencyBench && .build/release/CollectorLatencyBench
# (A thin wrapper: scripts/bench-postgres.sh does the work for every PostgreSQL benchmark.)
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/bench-postgres.sh" CollectorLatencyBench
