# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests. Requires common.sh and $ORCA_TEST_WORK_DIR (a temp dir removed on exit).
#
#   start_postgres DATABASE [NAME]
#
# runs initdb into $ORCA_TEST_WORK_DIR/NAME (default NAME: postgres) as a non-root user (PostgreSQL refuses to run as
# root), with a superuser `orca` whose random password is required for TCP connections (scram-sha-256), listens on
# 127.0.0.1 on a free port with its Unix socket inside the temp dir, creates DATABASE, and sets PG_PORT, PG_USER,
# PG_PASSWORD and PG_DATABASE for the caller. Durability is switched off (fsync, synchronous_commit): the data is thrown
# away. Several clusters may run at once (one per NAME).
#
# It also writes two scripts next to the cluster and sets PG_STOP_COMMAND / PG_START_COMMAND to the shell commands
# that run them: they stop the server (fast shutdown) and start it again on the same port, as the cluster's OS user
# (via runuser when we are root). Tests use them to simulate an outage.
#
# stop_postgres stops every cluster started here that is still running (also one a test left stopped or restarted).

ORCA_PG_BIN=""
ORCA_PG_OS_USER=""
ORCA_PG_DATA=""
ORCA_PG_DATA_DIRS=()

# Finds the newest /usr/lib/postgresql/*/bin with initdb and pg_ctl.
find_postgres_bin() {
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]] ||
        die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (is the postgresql package installed?)"
    printf '%s\n' "$dir"
}

# Chooses the OS user that owns and runs the cluster: ourselves when not root; otherwise `postgres` (created by the
# postgresql package), or a dedicated `orca-test` system user.
choose_postgres_os_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        if ! id orca-test >/dev/null 2>&1; then
            log "Creating system user orca-test to run PostgreSQL"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin orca-test
        fi
        echo orca-test
    fi
}

# Runs a command as the cluster's OS user, from a directory that user can enter.
as_pg_user() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd "$ORCA_TEST_WORK_DIR" && runuser -u "$ORCA_PG_OS_USER" -- "$@")
    else
        (cd "$ORCA_TEST_WORK_DIR" && "$@")
    fi
}

# Prints a command line with each word shell-quoted.
quote_words() {
    local word out=""
    for word in "$@"; do
        out+="$(printf '%q' "$word") "
    done
    printf '%s\n' "${out% }"
}

# Writes $1/stop.sh and $1/start.sh for the cluster in $1/data listening on port $2 (see the header).
write_postgres_control_scripts() {
    local base=$1 port=$2
    local runas=()
    if [[ $(id -u) -eq 0 ]]; then
        runas=(runuser -u "$ORCA_PG_OS_USER" --)
    fi
    local options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$base/sockets"
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    {
        echo '#!/usr/bin/env bash'
        echo 'set -eu'
        echo "cd $(printf '%q' "$ORCA_TEST_WORK_DIR")"
        quote_words "${runas[@]}" "$ORCA_PG_BIN/pg_ctl" --pgdata="$base/data" --mode=fast --wait --timeout=60 stop
    } >"$base/stop.sh"
    {
        echo '#!/usr/bin/env bash'
        echo 'set -eu'
        echo "cd $(printf '%q' "$ORCA_TEST_WORK_DIR")"
        # setsid: the restarted postmaster must not live in the test runner's process group.
        quote_words setsid --wait "${runas[@]}" "$ORCA_PG_BIN/pg_ctl" --pgdata="$base/data" --log="$base/postgres.log" \
            --wait --timeout=60 -o "$options" start
    } >"$base/start.sh"
    chmod 755 "$base/stop.sh" "$base/start.sh"
    # Their output goes to restart.log beside postgres.log; a test that sees a command fail shows both.
    PG_STOP_COMMAND="bash $(printf '%q' "$base/stop.sh") >>$(printf '%q' "$base/restart.log") 2>&1"
    PG_START_COMMAND="bash $(printf '%q' "$base/start.sh") >>$(printf '%q' "$base/restart.log") 2>&1"
}

start_postgres() {
    local database=$1
    local base="$ORCA_TEST_WORK_DIR/${2:-postgres}"
    local data="$base/data" sockets="$base/sockets" logfile="$base/postgres.log" pwfile="$base/pwfile"
    local attempt port

    ORCA_PG_BIN=$(find_postgres_bin)
    ORCA_PG_OS_USER=$(choose_postgres_os_user)
    PG_USER=orca
    PG_PASSWORD=$(generate_secret)
    PG_DATABASE=$database

    mkdir -p "$base" "$sockets"
    (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$pwfile")
    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$ORCA_PG_OS_USER" "$base"
    fi
    chmod 700 "$base"

    log "Initialising PostgreSQL cluster ($("$ORCA_PG_BIN/postgres" --version)) as OS user $ORCA_PG_OS_USER"
    if ! as_pg_user "$ORCA_PG_BIN/initdb" --pgdata="$data" --username="$PG_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale --no-sync \
        >"$base/initdb.log" 2>&1; then
        show_log_tail "$base/initdb.log"
        die "initdb failed"
    fi
    rm -f "$pwfile"
    ORCA_PG_DATA=$data
    ORCA_PG_DATA_DIRS+=("$data")

    for attempt in 1 2 3 4 5; do
        port=$(pick_free_port)
        log "Starting PostgreSQL on 127.0.0.1:$port (attempt $attempt)"
        if as_pg_user "$ORCA_PG_BIN/pg_ctl" --pgdata="$data" --log="$logfile" --wait --timeout=60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sockets -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >"$base/pg_ctl.log" 2>&1; then
            break
        fi
        if grep -q 'could not bind\|Address already in use' "$logfile" 2>/dev/null; then
            warn "port $port was taken; retrying with another port"
            port=""
            continue
        fi
        show_log_tail "$base/pg_ctl.log" 10
        show_log_tail "$logfile"
        die "PostgreSQL did not start"
    done
    [[ -n $port ]] || {
        show_log_tail "$logfile"
        die "PostgreSQL could not bind a free port after 5 attempts"
    }
    PG_PORT=$port

    if ! wait_until 30 as_pg_user "$ORCA_PG_BIN/pg_isready" --quiet --host=127.0.0.1 --port="$PG_PORT" --timeout=2; then
        show_log_tail "$logfile"
        die "PostgreSQL did not accept connections on 127.0.0.1:$PG_PORT within 30 s"
    fi
    if ! as_pg_user "$ORCA_PG_BIN/createdb" --host="$sockets" --port="$PG_PORT" --username="$PG_USER" "$database" \
        >"$base/createdb.log" 2>&1; then
        show_log_tail "$base/createdb.log"
        die "could not create database $database"
    fi
    write_postgres_control_scripts "$base" "$PG_PORT"
    log "PostgreSQL ready on 127.0.0.1:$PG_PORT (database $database)"
}

# Stops the cluster in data directory $1 if it is running.
stop_postgres_cluster() {
    local data=$1
    [[ -n $data && -f $data/postmaster.pid ]] || return 0
    log "Stopping PostgreSQL ($data)"
    if ! as_pg_user "$ORCA_PG_BIN/pg_ctl" --pgdata="$data" --mode=immediate --wait --timeout=30 stop \
        >/dev/null 2>&1; then
        local pid
        pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            warn "pg_ctl stop failed; killing postmaster $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
}

stop_postgres() {
    local data
    for data in "${ORCA_PG_DATA_DIRS[@]}"; do
        stop_postgres_cluster "$data"
    done
    ORCA_PG_DATA_DIRS=()
    ORCA_PG_DATA=""
}
