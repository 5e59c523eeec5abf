#!/usr/bin/env bash
# Runs the collector latency benchmark (Benchmarks/Sources/CollectorLatencyBench) against a throwaway PostgreSQL:
#   bash Benchmarks/scripts/latency-bench.sh
# Starts PostgreSQL the way scripts/test.sh and scripts/sink-bench.sh do (127.0.0.1, free port, random password,
# fsync off), exports ORCA_BENCH_DATABASE_URL, builds and runs CollectorLatencyBench (release) in Benchmarks/, and always
# stops the server and removes its temporary directory. The benchmark's own variables pass through:
# ORCA_BENCH_REAL_MINUTES (6), ORCA_BENCH_FAST_SPEED (60), ORCA_BENCH_FAST_HOURS (4), ORCA_BENCH_START,
# ORCA_BENCH_ONLY=real|fast. Without PostgreSQL (FileCandleSink):
#   cd Benchmarks && swift build -c release --product CollectorLatencyBench && .build/release/CollectorLatencyBench
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

# Build first, so the compiler is not competing with the measured runs.
(cd Benchmarks && swift build -c release --product CollectorLatencyBench)

ORCA_TEST_WORK_DIR=$(mktemp -d /tmp/orca-bench.XXXXXXXX)
chmod 755 "$ORCA_TEST_WORK_DIR"
export ORCA_TEST_WORK_DIR
start_postgres orca_bench
export ORCA_BENCH_DATABASE_URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"

cd Benchmarks
.build/release/CollectorLatencyBench
