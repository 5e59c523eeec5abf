# shellcheck shell=bash
# Shared helpers for the test scripts: logging, privilege escalation, apt packages, ports and secrets.
# Sourced by scripts/test.sh; expects `set -euo pipefail` in the caller.

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# Installs the given Debian packages, only those not installed yet; runs `apt-get update` only if something is missing.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "System packages present: $*"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
    log "Installing missing packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Puts /opt/swift/usr/bin on PATH when swift is not found (the toolchain's usual place on these machines) and dies
# with the fix when there is still none.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH; install the Swift toolchain first (swift.org/install)"
}

# Prints a random hex secret (default 24 bytes = 48 characters; URL-safe, needs no escaping). Never log it.
generate_secret() {
    od -An -N"${1:-24}" -tx1 /dev/urandom | tr -d ' \n'
}

# Succeeds if something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a random loopback port from 10000 up to the ephemeral range on which nothing listens right now. Servers can
# still lose a race for it, so callers retry on "address already in use".
#
# Picks from below the kernel's ephemeral range (net.ipv4.ip_local_port_range, usually 32768-60999): a server the
# tests stop and start again (the outage test's PostgreSQL) must find its port free when it comes back, and any
# outgoing loopback connection made meanwhile takes its local port from the ephemeral range — which a port picked
# there could be (seen: "could not bind IPv4 address: Address already in use" after a 30 s outage under load).
pick_free_port() {
    local attempt port low=32768 span
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    fi
    span=$((low - 10000))
    ((span >= 1000)) || die "the ephemeral port range starts at $low: no room below it for test servers"
    for attempt in $(seq 1 50); do
        port=$((10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % span))
        if ! port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "could not find a free loopback port after $attempt attempts"
}

# Prints the last lines of a log file to stderr, indented.
show_log_tail() {
    local file=$1 lines=${2:-30}
    if [[ -f $file ]]; then
        printf -- '--- last %s lines of %s ---\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" | sed 's/^/    /' >&2
        printf -- '---\n' >&2
    fi
}

# Waits until the command succeeds, at most $1 seconds (checked every 0.2 s). Returns 1 on timeout.
wait_until() {
    local timeout=$1
    shift
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 0.2
    done
}
