# shellcheck shell=bash
# Throwaway Redis servers for tests. Requires common.sh and $ORCA_TEST_WORK_DIR (a temp dir removed on exit).
#
#   start_redis NAME [PORT_DIRECTIVE [EXTRA_CONFIG_LINE...]]
#
# starts `redis-server` in the background on 127.0.0.1 with a random `requirepass`, no persistence, and its config,
# log and pid file in $ORCA_TEST_WORK_DIR/redis-NAME. PORT_DIRECTIVE (default `port`) names the directive that gets the
# chosen port, so a TLS instance can use `start_redis tls tls-port "port 0" "tls-cert-file ..." ...`.
# On success it sets REDIS_PORT, REDIS_PASSWORD and REDIS_PID for the caller. stop_all_redis stops every instance.

ORCA_REDIS_PIDS=()
ORCA_REDIS_NAMES=()

start_redis() {
    local name=$1 port_directive=${2:-port}
    shift $(($# < 2 ? $# : 2))
    local dir="$ORCA_TEST_WORK_DIR/redis-$name"
    local password attempt port pid line
    mkdir -p "$dir"
    chmod 700 "$dir"
    password=$(generate_secret)

    for attempt in 1 2 3 4 5; do
        port=$(pick_free_port)
        (
            umask 077
            {
                echo "bind 127.0.0.1"
                echo "protected-mode yes"
                echo "$port_directive $port"
                echo "requirepass $password"
                echo "daemonize no"
                echo "pidfile $dir/redis.pid"
                echo "logfile $dir/redis.log"
                echo "dir $dir"
                echo 'save ""'
                echo "appendonly no"
                echo "databases 16"
                for line in "$@"; do
                    echo "$line"
                done
            } >"$dir/redis.conf"
        )
        : >"$dir/redis.log"
        log "Starting Redis '$name' on 127.0.0.1:$port (attempt $attempt)"
        redis-server "$dir/redis.conf" </dev/null >>"$dir/redis.log" 2>&1 &
        pid=$!
        ORCA_REDIS_PIDS+=("$pid")
        ORCA_REDIS_NAMES+=("$name")

        if wait_until 20 redis_ready_or_dead "$port" "$password" "$pid" "${REDIS_CLI_TLS_ARGS[@]}" \
            && kill -0 "$pid" 2>/dev/null; then
            REDIS_PORT=$port
            REDIS_PASSWORD=$password
            REDIS_PID=$pid
            log "Redis '$name' ready on 127.0.0.1:$port (pid $pid)"
            return 0
        fi
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
        if grep -q 'Address already in use' "$dir/redis.log"; then
            warn "port $port was taken; retrying with another port"
            continue
        fi
        show_log_tail "$dir/redis.log"
        die "Redis '$name' did not accept connections on 127.0.0.1:$port within 20 s"
    done
    show_log_tail "$dir/redis.log"
    die "Redis '$name' could not bind a free port after 5 attempts"
}

# Succeeds once the server answers an authenticated PING (password via REDISCLI_AUTH, never on the command line),
# or as soon as the process has exited, so that the caller stops waiting and inspects the log.
redis_ready_or_dead() {
    local port=$1 password=$2 pid=$3
    shift 3
    kill -0 "$pid" 2>/dev/null || return 0
    [[ $(REDISCLI_AUTH=$password redis-cli "$@" -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]
}

# Extra redis-cli arguments for the readiness check (set by start_redis_tls).
REDIS_CLI_TLS_ARGS=()

# Creates a throwaway CA, a server certificate for the name localhost only (no IP address, so that name checks bite)
# signed by it, and an unrelated "wrong" CA, in
# $ORCA_TEST_WORK_DIR/tls. Sets TLS_CA_FILE, TLS_WRONG_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE.
make_test_certificates() {
    local dir="$ORCA_TEST_WORK_DIR/tls"
    mkdir -p "$dir"
    chmod 755 "$dir"
    (
        cd "$dir"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Orca Test CA" \
            -keyout ca.key -out ca.crt >/dev/null 2>&1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Orca Wrong CA" \
            -keyout wrong-ca.key -out wrong-ca.crt >/dev/null 2>&1
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
            -out server.crt >/dev/null 2>&1
        chmod 644 ca.crt wrong-ca.crt server.crt
    ) || die "could not create test certificates with openssl"
    TLS_CA_FILE="$dir/ca.crt"
    TLS_WRONG_CA_FILE="$dir/wrong-ca.crt"
    TLS_CERT_FILE="$dir/server.crt"
    TLS_KEY_FILE="$dir/server.key"
}

# Starts a Redis that only accepts TLS connections (no plain port). Needs make_test_certificates first.
start_redis_tls() {
    local name=$1
    REDIS_CLI_TLS_ARGS=(--tls --cacert "$TLS_CA_FILE")
    start_redis "$name" tls-port "port 0" \
        "tls-cert-file $TLS_CERT_FILE" "tls-key-file $TLS_KEY_FILE" "tls-ca-cert-file $TLS_CA_FILE" \
        "tls-auth-clients no"
    REDIS_CLI_TLS_ARGS=()
}

stop_all_redis() {
    local index pid
    for index in "${!ORCA_REDIS_PIDS[@]}"; do
        pid=${ORCA_REDIS_PIDS[$index]}
        kill -0 "$pid" 2>/dev/null || continue
        log "Stopping Redis '${ORCA_REDIS_NAMES[$index]}' (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            warn "Redis pid $pid did not stop; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    ORCA_REDIS_PIDS=()
    ORCA_REDIS_NAMES=()
}
