# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests. Requires common.sh and $ORCA_TEST_WORK_DIR (a temp dir removed on exit).
#
#   start_postgres DATABASE
#
# runs initdb into $ORCA_TEST_WORK_DIR/postgres (as a non-root user: PostgreSQL refuses to run as root), with a
# superuser `orca` whose random password is required for TCP connections (scram-sha-256), listens on 127.0.0.1 on a
# free port with its Unix socket inside the temp dir, creates DATABASE, and sets PG_PORT, PG_USER, PG_PASSWORD and
# PG_DATABASE for the caller. Durability is switched off (fsync, synchronous_commit): the data is thrown away.
# stop_postgres stops it.

ORCA_PG_BIN=""
ORCA_PG_OS_USER=""
ORCA_PG_DATA=""

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

start_postgres() {
    local database=$1
    local base="$ORCA_TEST_WORK_DIR/postgres"
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
    log "PostgreSQL ready on 127.0.0.1:$PG_PORT (database $database)"
}

stop_postgres() {
    [[ -n $ORCA_PG_DATA && -f $ORCA_PG_DATA/postmaster.pid ]] || return 0
    log "Stopping PostgreSQL"
    if ! as_pg_user "$ORCA_PG_BIN/pg_ctl" --pgdata="$ORCA_PG_DATA" --mode=immediate --wait --timeout=30 stop \
        >/dev/null 2>&1; then
        local pid
        pid=$(head -n 1 "$ORCA_PG_DATA/postmaster.pid" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            warn "pg_ctl stop failed; killing postmaster $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    ORCA_PG_DATA=""
}
