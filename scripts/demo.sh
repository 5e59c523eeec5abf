#!/usr/bin/env bash
# The README's first command: `scripts/demo.sh [orca-run arguments...]` (default: --speed 60 --duration 60).
#
# On a fresh Debian 12 machine with the Swift toolchain it first installs the system libraries the build needs
# (libhiredis-dev, libpq-dev, libcurl4-openssl-dev, pkg-config — only those missing, with apt-get as root or through
# sudo), then runs the embedded demo: `swift run orca-run ARGS`. No server, no configuration: the Tradovate simulator
# runs in-process, tokens stay in memory and bars go to CSV files under ./orca-data.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

ensure_swift

ensure_apt_packages pkg-config libhiredis-dev libpq-dev libcurl4-openssl-dev

if [[ $# -eq 0 ]]; then
    set -- --speed 60 --duration 60
fi
log "Building and running: swift run orca-run $*"
exec swift run orca-run "$@"
