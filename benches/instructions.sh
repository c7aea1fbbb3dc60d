#!/usr/bin/env bash
# Instructions per `sign` and per `verify` of the benchmark fixture, counted by callgrind:
# each operation is run 1,000 and 2,000 times and the difference divided by 1,000, which
# cancels start-up and set-up. Counts are repeatable for one binary on one machine, unlike
# timings; SHA-256 runs in software under valgrind.
#
#   bash benches/instructions.sh            # needs valgrind (apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }
cargo build --release -q -p tokenstile-bench --bin instructions
bin="${CARGO_TARGET_DIR:-target}/release/instructions"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/log"
    sed -n 's/^summary: *//p' "$tmp/out"
}
for op in sign verify; do
    one=$(count "$op" 1000)
    two=$(count "$op" 2000)
    echo "$op: $(( (two - one) / 1000 )) instructions per token"
done
