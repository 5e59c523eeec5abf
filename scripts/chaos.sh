#!/usr/bin/env bash
# The chaos suite (Docs/reliability.md): `bash scripts/chaos.sh [--quick] [SCENARIO...]`.
#
# Each scenario runs `orca-run run` (PostgreSQL sink, Redis token store, NQ and ES × 1 and 5 minutes, a 2-hour
# look-back) against an `orca-run simulate` process at 60× speed, injects one kind of fault, stops the daemon, and
# then checks what is stored:
#   - `orca-run verify` over the closed window: bars expected by the calendar, stored, missing, duplicated;
#   - value by value against the bars the simulator itself serves: the same window is backfilled from the same
#     simulator into a reference schema and compared in SQL (wrong values, and bars the reference has and the run lacks);
#   - token keys: seconds until `token:demo` is in Redis after the fault (for redis-empty: after Redis answers again);
#   - fault-s: how long the fault lasted (real seconds; at 60× one real second is a simulated minute);
#   - secrets: every log line and error of the scenario is searched for the PostgreSQL and Redis passwords.
# It prints one table and exits non-zero when any row has a missing, duplicated or wrong bar, or a secret.
#
# Scenarios: kill9 (kill -9 of the daemon at 10 random moments, restarted each time), postgres-stop (PostgreSQL
# stopped 60 s), redis-empty (Redis killed and started empty), redis-down (Redis unreachable 60 s, then back empty),
# socket-drops (every socket dropped every 10 s), token-revoke (every token revoked every 20 s), penalties (penalty
# tickets on the next 6 requests).
# --quick runs kill9 with one kill (the test command's bounded run). --self-check proves the checks can fail: after
# the run it changes one stored price and deletes one stored bar, and passes only if the row shows exactly those. Like scripts/test.sh it installs what is
# missing, starts throwaway servers on loopback in a temp dir, and always stops them.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/redis.sh
source scripts/lib/redis.sh
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

QUICK=0
SELF_CHECK=0
SCENARIOS=()
for argument in "$@"; do
    case $argument in
    --quick) QUICK=1 ;;
    --self-check) SELF_CHECK=1 ;;
    kill9 | postgres-stop | redis-empty | redis-down | socket-drops | token-revoke | penalties) SCENARIOS+=("$argument") ;;
    *) die "unknown argument '$argument'; scenarios: kill9 postgres-stop redis-empty redis-down socket-drops token-revoke penalties" ;;
    esac
done
if [[ ${#SCENARIOS[@]} -eq 0 ]]; then
    if [[ $QUICK -eq 1 ]]; then
        SCENARIOS=(kill9)
    else
        SCENARIOS=(kill9 postgres-stop redis-empty redis-down socket-drops token-revoke penalties)
    fi
fi

ORCA_TEST_WORK_DIR=""
CHILDREN=()
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    for pid in "${CHILDREN[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    stop_all_redis
    stop_postgres
    [[ -n $ORCA_TEST_WORK_DIR && -d $ORCA_TEST_WORK_DIR ]] && rm -rf -- "$ORCA_TEST_WORK_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_swift
ensure_apt_packages pkg-config openssl libhiredis-dev libpq-dev libcurl4-openssl-dev redis-server postgresql
if [[ ${ORCA_CHAOS_SKIP_BUILD:-0} != 1 ]]; then
    log "Building orca-run"
    swift build --product orca-run >/dev/null
fi
BIN="$REPO_ROOT/.build/debug/orca-run"
[[ -x $BIN ]] || die "$BIN is missing; run swift build"

ORCA_TEST_WORK_DIR=$(mktemp -d /tmp/orca-chaos.XXXXXXXX)
chmod 755 "$ORCA_TEST_WORK_DIR"
export ORCA_TEST_WORK_DIR
start_redis main
REDIS_CONF="$ORCA_TEST_WORK_DIR/redis-main/redis.conf"
REDIS_URL_VALUE="redis://:${REDIS_PASSWORD}@127.0.0.1:${REDIS_PORT}/0"
start_postgres orca_chaos
DATABASE_URL_VALUE="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DATABASE}?sslmode=disable"

SPEED=60
START="2025-12-10T15:00:00Z"  # Wednesday 10:00 New York
START_EPOCH=$(date -u -d "$START" +%s)

redis_cmd() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning "$@"; }
sql() { PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" -tAq -c "$1"; }

# Simulated now of the running scenario (its anchor is SCENARIO_ANCHOR, real epoch seconds).
simulated_now() { echo $((START_EPOCH + ($(date +%s) - SCENARIO_ANCHOR) * SPEED)); }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
wait_simulated() { while (($(simulated_now) < $1)); do sleep 0.2; done; }

start_daemon() {
    "$BIN" run --status lines --http-port 0 >>"$SCENARIO_DIR/daemon.log" 2>&1 &
    DAEMON_PID=$!
    CHILDREN+=("$DAEMON_PID")
}
stop_daemon() {
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
}
# Seconds (tenths) until token:demo is in Redis again, at most 60 s.
seconds_until_token_key() {
    local started tenths=0
    started=$(date +%s%N)
    while [[ $(redis_cmd EXISTS token:demo 2>/dev/null || echo 0) != 1 ]]; do
        sleep 0.1
        if (($(date +%s%N) - started > 60000000000)); then
            echo "none"
            return
        fi
    done
    tenths=$((($(date +%s%N) - started) / 100000000))
    echo "$((tenths / 10)).$((tenths % 10))"
}

RESULTS=()
FAILED=0
run_scenario() {
    local name=$1 simulator_args=() keys="-" recover="-"
    SCENARIO_DIR="$ORCA_TEST_WORK_DIR/$name"
    mkdir -p "$SCENARIO_DIR/home"
    case $name in
    socket-drops) simulator_args=(--drop-every 10) ;;
    token-revoke) simulator_args=(--revoke-every 20) ;;
    penalties) simulator_args=(--penalize-next 6) ;;
    esac
    SCENARIO_ANCHOR=$(($(date +%s) + 2))
    local schema="chaos_${name//-/_}" reference="ref_${name//-/_}"
    log "Scenario $name"
    "$BIN" simulate --port 0 --seed 7 --start "$START" --speed "$SPEED" --anchor "$(iso "$SCENARIO_ANCHOR")" \
        "${simulator_args[@]}" >"$SCENARIO_DIR/simulator.log" 2>&1 &
    local simulator=$!
    CHILDREN+=("$simulator")
    wait_until 60 grep -q 'ws://' "$SCENARIO_DIR/simulator.log" || die "the simulator did not start"
    local rest socket
    rest=$(grep -o 'http://[^ ]*' "$SCENARIO_DIR/simulator.log" | head -1)
    socket=$(grep -o 'ws://[^ ]*' "$SCENARIO_DIR/simulator.log" | head -1)
    redis_cmd FLUSHALL >/dev/null
    export HOME="$SCENARIO_DIR/home" ORCA_TRADOVATE_ENVIRONMENT=custom ORCA_TRADOVATE_REST_URL="$rest"
    export ORCA_TRADOVATE_MARKET_DATA_URL="$socket" ORCA_TRADOVATE_USERNAME=demo ORCA_TRADOVATE_PASSWORD=demo
    export ORCA_TRADOVATE_CID=1 ORCA_TRADOVATE_SEC=demo ORCA_SIMULATOR_START="$START" ORCA_SIMULATOR_SPEED="$SPEED"
    export ORCA_SIMULATOR_ANCHOR="$(iso "$SCENARIO_ANCHOR")" ORCA_COLLECTOR_INSTRUMENTS=NQ,ES
    export ORCA_COLLECTOR_TIMEFRAMES=1,5 ORCA_COLLECTOR_HEAL_LOOK_BACK=2h ORCA_LOG_LEVEL=warning
    export DATABASE_URL="$DATABASE_URL_VALUE" ORCA_DATABASE_SCHEMA="$schema" REDIS_URL="$REDIS_URL_VALUE"
    export ORCA_STATE_DIRECTORY="$SCENARIO_DIR/state"
    start_daemon
    local fault_at=$((START_EPOCH + 15 * 60)) end=$((START_EPOCH + 60 * 60))
    wait_simulated "$fault_at"
    local fault_started
    fault_started=$(date +%s)
    case $name in
    kill9)
        local kills=10
        [[ $QUICK -eq 1 ]] && kills=1
        for _ in $(seq 1 "$kills"); do
            sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
            sleep $((RANDOM % 4))
            kill -KILL "$DAEMON_PID" 2>/dev/null || true
            wait "$DAEMON_PID" 2>/dev/null || true
            start_daemon
            sleep 3
        done
        ;;
    postgres-stop)
        sh -c "$PG_STOP_COMMAND"
        sleep 60
        sh -c "$PG_START_COMMAND"
        ;;
    redis-empty | redis-down)
        kill -KILL "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        if [[ $name == redis-down ]]; then sleep 60; else sleep 2; fi
        redis-server "$REDIS_CONF" </dev/null >>"$ORCA_TEST_WORK_DIR/redis-main/redis.log" 2>&1 &
        REDIS_PID=$!
        ORCA_REDIS_PIDS+=("$REDIS_PID")
        ORCA_REDIS_NAMES+=(main)
        wait_until 20 redis_cmd PING >/dev/null || die "Redis did not come back"
        keys=$(seconds_until_token_key)
        ;;
    *) ;;  # the fault is the simulator's own (socket drops, revocations, penalties)
    esac
    recover=$(($(date +%s) - fault_started))
    [[ $name == kill9 || $name == redis-empty || $name == redis-down ]] || keys=$(seconds_until_token_key)
    wait_simulated "$end"
    stop_daemon

    # The closed window: from the look-back's start to 5 simulated minutes before the end.
    local from to
    from=$(iso $((START_EPOCH - 60 * 60)))
    to=$(iso $((end - 5 * 60)))
    if [[ $SELF_CHECK -eq 1 ]]; then
        sql "UPDATE $schema.nq_candles_1min SET close = close + 0.25 WHERE candle_time = '$(iso $((START_EPOCH + 20 * 60)))'"
        sql "DELETE FROM $schema.es_candles_5min WHERE candle_time = '$(iso $((START_EPOCH + 30 * 60)))'"
    fi
    "$BIN" verify --from "$from" --to "$to" >"$SCENARIO_DIR/verify.log" 2>&1 || true
    local total expected stored missing duplicates
    total=$(grep '^total' "$SCENARIO_DIR/verify.log" || echo "total ? ? ? ?")
    read -r _ expected stored missing duplicates _ <<<"$total"
    # The reference: the same window backfilled from the same simulator into another schema.
    ORCA_DATABASE_SCHEMA="$reference" ORCA_STATE_DIRECTORY="$SCENARIO_DIR/reference-state" \
        "$BIN" backfill --from "$from" --to "$to" >"$SCENARIO_DIR/reference.log" 2>&1 || true
    local wrong=0 absent=0 table count reference_rows=0
    for table in nq_candles_1min nq_candles_5min es_candles_1min es_candles_5min; do
        count=$(sql "SELECT count(*) FROM $reference.$table WHERE candle_time >= '$from' AND candle_time < '$to'" \
            2>/dev/null || echo 0)
        reference_rows=$((reference_rows + count))
        count=$(sql "SELECT count(*) FROM $schema.$table c JOIN $reference.$table r USING (symbol, candle_time)
            WHERE c.candle_time >= '$from' AND c.candle_time < '$to'
              AND (c.open, c.high, c.low, c.close, c.volume, c.is_final)
                  IS DISTINCT FROM (r.open, r.high, r.low, r.close, r.volume, r.is_final)" 2>/dev/null || echo 999)
        wrong=$((wrong + count))
        count=$(sql "SELECT count(*) FROM $reference.$table r WHERE r.candle_time >= '$from' AND r.candle_time < '$to'
            AND NOT EXISTS (SELECT 1 FROM $schema.$table c WHERE c.symbol = r.symbol AND c.candle_time = r.candle_time)" \
            2>/dev/null || echo 999)
        absent=$((absent + count))
    done
    kill -KILL "$simulator" 2>/dev/null || true
    wait "$simulator" 2>/dev/null || true
    # Secrets: the passwords, and the access token the run ended with (its full value).
    local secrets token
    token=$(redis_cmd GET token:demo 2>/dev/null || true)
    local patterns=(-e "$PG_PASSWORD" -e "$REDIS_PASSWORD")
    [[ ${#token} -ge 16 ]] && patterns+=(-e "$token")
    secrets=$(cat "$SCENARIO_DIR"/*.log | grep -c -F "${patterns[@]}" || true)
    if [[ $reference_rows != "$expected" ]]; then
        warn "scenario $name: the reference backfill holds $reference_rows bars, the calendar expects $expected"
        absent="$absent (ref $reference_rows)"
    fi
    local row
    row=$(printf '%-14s %8s %7s %8s %11s %6s %11s %8s %11s %8s' "$name" "$expected" "$stored" "$missing" \
        "$duplicates" "$wrong" "$absent" "$secrets" "$keys" "$recover")
    RESULTS+=("$row")
    if [[ $SELF_CHECK -eq 1 ]]; then
        if [[ $missing == 1 && $duplicates == 0 && $wrong == 1 && $absent == 1 && $secrets == 0 ]]; then
            log "self-check: the changed price and the deleted bar were both found"
        else
            FAILED=1
            warn "self-check: expected missing 1, wrong 1, not-in-run 1; got $missing, $wrong, $absent"
        fi
    elif [[ $missing != 0 || $duplicates != 0 || $wrong != 0 || $absent != 0 || $secrets != 0 || $expected == "?" ]]; then
        FAILED=1
        warn "scenario $name lost, duplicated or changed bars, or leaked a secret; its logs:"
        tail -n 20 "$SCENARIO_DIR/verify.log" >&2
        grep -i 'error' "$SCENARIO_DIR/daemon.log" | tail -n 10 >&2 || true
    fi
    unset ORCA_DATABASE_SCHEMA
}

for scenario in "${SCENARIOS[@]}"; do run_scenario "$scenario"; done

printf '\n%-14s %8s %7s %8s %11s %6s %11s %8s %11s %8s\n' scenario expected stored missing duplicated wrong \
    "not-in-run" secrets "keys-back-s" "fault-s"
printf '%s\n' "${RESULTS[@]}"
if [[ $FAILED -ne 0 ]]; then
    log "chaos: FAILED (a row above is not 0 / 0 / 0)"
    exit 1
fi
if [[ $SELF_CHECK -eq 1 ]]; then
    log "chaos self-check: the checks found every injected change"
else
    log "chaos: every scenario 0 missing, 0 duplicated, 0 wrong, 0 secrets"
fi
