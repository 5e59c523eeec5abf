#!/usr/bin/env bash
# Runs the backfill benchmark (Benchmarks/Sources/BackfillBench) against a throwaway PostgreSQL:
#   bash Benchmarks/scripts/backfill-bench.sh
# Starts PostgreSQL the way scripts/test.sh and scripts/sink-bench.sh do (127.0.0.1, free port, random password,
# fsync off), exports ORCA_BENCH_DATABASE_URL, runs `swift run -c release BackfillBench` in Benchmarks/, and always
# stops the server and removes its temporary directory. Set ORCA_BENCH_DATABASE_URL yourself and run the benchmark
# directly to use another server. ORCA_BENCH_TRADOVATE_DAYS (default 365) sizes the run over the simulator's socket.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
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

if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
ensure_apt_packages pkg-config libpq-dev postgresql

ORCA_TEST_WORK_DIR=$(mktemp -d /tmp/orca-bench.XXXXXXXX)
chmod 755 "$ORCA_TEST_WORK_DIR"
export ORCA_TEST_WORK_DIR
start_postgres orca_bench
export ORCA_BENCH_DATABASE_URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"

cd Benchmarks
swift run -c release BackfillBench
