#!/usr/bin/env bash
# Builds the DocC documentation of every library product (`swift package generate-documentation --target X`) and
# fails when DocC or the compiler prints a warning: unresolved symbol links, undocumented parameters, compiler
# warnings in the symbol-graph build. The archives land in .build/plugins/Swift-DocC/outputs/<Target>.doccarchive.
# Run by scripts/test.sh (skip it there with ORCA_SKIP_DOCS=1).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

TARGETS=(CandleCore TokenStore Collectors MarketData PostgresSink TradovateSimulator CandleTesting OrcaRuntime)
log_file=$(mktemp /tmp/orca-docs.XXXXXXXX)
trap 'rm -f -- "$log_file"' EXIT
failed=0
for target in "${TARGETS[@]}"; do
    if ! swift package generate-documentation --target "$target" >"$log_file" 2>&1; then
        printf '==> documentation of %s failed:\n' "$target" >&2
        tail -40 "$log_file" >&2
        failed=1
        continue
    fi
    warnings=$(grep -c 'warning:' "$log_file" || true)
    if [[ $warnings -ne 0 ]]; then
        printf '==> documentation of %s: %s warning(s):\n' "$target" "$warnings" >&2
        grep -A3 'warning:' "$log_file" >&2
        failed=1
    else
        printf '==> documentation of %s: no warnings\n' "$target" >&2
    fi
done
exit "$failed"
