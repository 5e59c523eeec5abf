#!/usr/bin/env bash
# The project's test command (README, CI): `bash scripts/test.sh [swift test arguments...]`.
#
# On a fresh Debian 12 with the Swift toolchain, as root or with sudo, it
#   1. installs the system packages the build and tests need, only those missing;
#   2. starts a throwaway Redis (random requirepass) and a throwaway PostgreSQL (random password) on free loopback
#      ports, with all their files in one temp dir;
#   3. exports ORCA_TEST_REDIS_URL and ORCA_TEST_DATABASE_URL so the integration tests run, plus a second PostgreSQL
#      for the outage test: ORCA_TEST_FAULT_DATABASE_URL and the commands ORCA_TEST_PG_STOP / ORCA_TEST_PG_START that
#      stop and restart it (run with /bin/sh -c);
#   4. runs `swift test "$@"` and exits with its status.
# Both servers are stopped and the temp dir removed on every exit path (success, failure, Ctrl-C, TERM).
# Secrets are generated per run and never printed.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/redis.sh
source scripts/lib/redis.sh
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

ORCA_TEST_WORK_DIR=""
SWIFT_TEST_PID=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n $SWIFT_TEST_PID ]] && kill -0 "$SWIFT_TEST_PID" 2>/dev/null; then
        log "Stopping swift test (process group $SWIFT_TEST_PID)"
        kill -TERM -- "-$SWIFT_TEST_PID" 2>/dev/null || kill -TERM "$SWIFT_TEST_PID" 2>/dev/null
        wait "$SWIFT_TEST_PID" 2>/dev/null
    fi
    stop_all_redis
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

ensure_apt_packages pkg-config openssl libhiredis-dev libpq-dev libcurl4-openssl-dev redis-server postgresql

# One temp dir for everything, under /tmp (not $TMPDIR, which may sit where the PostgreSQL OS user cannot go);
# 755 so that user can reach its own subdirectory. Secrets inside live in 700 subdirectories.
ORCA_TEST_WORK_DIR=$(mktemp -d /tmp/orca-test.XXXXXXXX)
chmod 755 "$ORCA_TEST_WORK_DIR"
export ORCA_TEST_WORK_DIR
log "Temporary server files in $ORCA_TEST_WORK_DIR"

start_redis main
export ORCA_TEST_REDIS_URL="redis://:${REDIS_PASSWORD}@127.0.0.1:${REDIS_PORT}/0"
# The Redis binary, for tests that start, stop and restart servers of their own.
ORCA_TEST_REDIS_SERVER=$(command -v redis-server)
export ORCA_TEST_REDIS_SERVER

make_test_certificates
start_redis_tls tls
export ORCA_TEST_REDIS_TLS_URL="rediss://:${REDIS_PASSWORD}@localhost:${REDIS_PORT}/0"
export ORCA_TEST_REDIS_CA_FILE="$TLS_CA_FILE"
export ORCA_TEST_REDIS_WRONG_CA_FILE="$TLS_WRONG_CA_FILE"

start_postgres orca_test
export ORCA_TEST_DATABASE_URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"

# A second cluster that one test stops for 30 s and starts again (outage test); the shared one above stays up.
start_postgres orca_fault postgres-fault
export ORCA_TEST_FAULT_DATABASE_URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"
export ORCA_TEST_PG_STOP="$PG_STOP_COMMAND"
export ORCA_TEST_PG_START="$PG_START_COMMAND"

# Prints the swift-testing tests of log file $1 that started and have no passed/failed/skipped line.
report_unfinished_tests() {
    local started finished
    # Test cases of parameterized tests ("Test case passing …") are left out; a parameterized test ends with
    # "Test \"X\" with N test cases passed".
    started=$(grep -v -e 'Test case passing' -e 'Test run started' "$1" | sed -n 's/^.* Test \(.*\) started\.$/\1/p' | sort -u)
    finished=$(grep -v -e 'Test case passing' -e 'recorded an issue' "$1" |
        sed -n -E 's/^.* Test (.*) (passed|failed|skipped).*$/\1/p' | sed -E 's/ with [0-9]+ test cases$//' | sort -u)
    comm -23 <(printf '%s\n' "$started") <(printf '%s\n' "$finished") | sed 's/^/    /'
}

# Runs `swift test ARGS…` in its own process group (setsid) and waits for it in the background, so that INT/TERM
# reach the trap at once and cleanup can stop the whole tree (swift-build, compilers, the test runner, orca-run
# children) before the servers go away. Exits the script when it fails.
run_swift_test() {
    local attempt status
    for attempt in 1 2; do
        log "Running swift test${*:+ $*}"
        # A phase that runs past ORCA_TEST_PHASE_TIMEOUT (default 900 s; each phase takes 1-4 minutes) has hung:
        # it is killed and run once more, with a loud line, so a rare hang does not eat CI's 90 minutes. A second
        # hang, or any failure, fails the run. (Known issue, Docs/testing.md: a rare hang in the first phase.)
        # Output goes line-buffered (stdbuf) to a file that is streamed to our stdout, so that after a hang the
        # tests that started and never finished can be named (a pipe would hold back the runner's last lines).
        local phase_log="$ORCA_TEST_WORK_DIR/swift-test-$attempt-$RANDOM.log"
        : >"$phase_log"  # exists before tail opens it
        setsid --wait timeout --kill-after=30 "${ORCA_TEST_PHASE_TIMEOUT:-900}" \
            stdbuf -oL -eL swift test "$@" </dev/null >"$phase_log" 2>&1 &
        SWIFT_TEST_PID=$!
        tail -n +1 -f --pid="$SWIFT_TEST_PID" "$phase_log" &
        local tail_pid=$!
        set +e
        wait "$SWIFT_TEST_PID"
        status=$?
        wait "$tail_pid"
        set -e
        SWIFT_TEST_PID=""
        if [[ $status -eq 124 || $status -eq 137 ]]; then
            warn "tests that started and never finished:"
            report_unfinished_tests "$phase_log" >&2
        fi
        if [[ $status -eq 124 || $status -eq 137 ]] && [[ $attempt -eq 1 ]]; then
            warn "swift test${*:+ $*} HUNG (no result after ${ORCA_TEST_PHASE_TIMEOUT:-900} s); killed, running it once more"
            continue
        fi
        break
    done
    if [[ $status -ne 0 ]]; then
        log "swift test${*:+ $*} failed with exit status $status"
        exit "$status"
    fi
}

if [[ $# -gt 0 ]]; then
    run_swift_test "$@"
    log "swift test passed"
    exit 0
fi

# Three phases, one build. Swift Testing runs every suite at once on a two-thread pool; CPU-bound suites (the wire
# codec's fuzzing, a simulated week, long market series) then starve the suites that measure timeouts and reconnects
# over real sockets. So: (1) everything timing-sensitive, (2) the CPU-bound suites, (3) the tests that run the built
# orca-run binary as separate processes (end to end, SIGTERM/SIGKILL, health, verify, backfill).
CPU_SUITES='WireMalformedTests|WireTests|WireRequestTests|CollectorWeekTests|MarketTests|BackfillTests|BackfillPostgresTests'
CPU_SUITES+='|VerifierTests|RepairTests|VerifierFileTests|VerifierPostgresTests|SchedulePlanTests'
BINARY_SUITES='DaemonCLITests|DeviceIDCLITests|EndToEndTests|OperationsCLITests|ScheduleCLITests|CrossProcessRefreshTests'
log "Building the package and its tests"
if ! setsid --wait swift build --build-tests </dev/null; then
    log "swift build failed"
    exit 1
fi
run_swift_test --skip-build --skip "$CPU_SUITES|$BINARY_SUITES"
run_swift_test --skip-build --filter "$CPU_SUITES"
run_swift_test --skip-build --filter "$BINARY_SUITES"
log "swift test passed (all three phases)"

# The chaos suite's bounded run (scripts/chaos.sh --quick, about a minute): orca-run against a simulator process,
# kill -9 mid-run, then verify and a value-by-value comparison with the simulator's own bars. Its own throwaway
# servers; skipped with ORCA_SKIP_CHAOS=1. The full suite: bash scripts/chaos.sh (Docs/reliability.md).
if [[ ${ORCA_SKIP_CHAOS:-0} != 1 ]]; then
    log "Running the chaos suite's bounded run (scripts/chaos.sh --quick)"
    if ! ORCA_CHAOS_SKIP_BUILD=1 setsid --wait bash scripts/chaos.sh --quick </dev/null; then
        log "chaos --quick failed"
        exit 1
    fi
fi

# The Examples/ packages depend on Orca by path. Both share one build folder (.build-examples), so the second reuses
# every dependency the first compiled (NIO, SSL and Orca itself compile once, about 4 minutes on 2 cores). Skipped
# when the caller filters the tests (`scripts/test.sh --filter X`) or sets ORCA_SKIP_EXAMPLES=1.
if [[ ${ORCA_SKIP_EXAMPLES:-0} != 1 ]]; then
    for example in Examples/StrategyTesting Examples/EmbeddedCollector; do
        log "Building and testing $example"
        if ! setsid --wait swift test --package-path "$example" --scratch-path "$REPO_ROOT/.build-examples" </dev/null; then
            log "$example: swift test failed"
            exit 1
        fi
    done
    log "Examples passed"
fi

# DocC catalogs of every library product, with zero warnings (scripts/docs.sh). Skipped when the caller filters the
# tests or sets ORCA_SKIP_DOCS=1.
if [[ ${ORCA_SKIP_DOCS:-0} != 1 ]]; then
    log "Building the documentation (scripts/docs.sh)"
    bash scripts/docs.sh
    log "Documentation built without warnings"
fi
exit 0
