#!/usr/bin/env bash
# Runs one benchmark of the Benchmarks/ package against a throwaway PostgreSQL:
#   bash scripts/bench-postgres.sh SinkBench | BackfillBench | CollectorLatencyBench
# Builds the product in release first (so the compiler does not compete with the measured run), starts PostgreSQL the
# way scripts/test.sh does (127.0.0.1, free port, random password, fsync off), exports ORCA_BENCH_DATABASE_URL, runs
# the benchmark from Benchmarks/, and always stops the server and removes its temporary directory. The benchmark's own
# ORCA_BENCH_* variables pass through. Set ORCA_BENCH_DATABASE_URL yourself and run the benchmark directly to use
# another server.
set -euo pipefail

PRODUCT=${1:?usage: bash scripts/bench-postgres.sh <benchmark product, e.g. SinkBench>}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

ORCA_TEST_WORK_DIR=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    stop_postgres
    if [[ -n $ORCA_TEST_WORK_DIR && -d $ORCA_TEST_WORK_DIR ]]; then
        rm -rf -- "$ORCA_TEST_WORK_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_swift
ensure_apt_packages pkg-config libpq-dev postgresql

(cd Benchmarks && swift build -c release --product "$PRODUCT")

ORCA_TEST_WORK_DIR=$(mktemp -d /tmp/orca-bench.XXXXXXXX)
chmod 755 "$ORCA_TEST_WORK_DIR"
export ORCA_TEST_WORK_DIR
start_postgres orca_bench
export ORCA_BENCH_DATABASE_URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"

cd Benchmarks
".build/release/$PRODUCT"
