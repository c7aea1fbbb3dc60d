#!/usr/bin/env bash
# Instructions per `sign` and per `verify` of the benchmark fixture, per session
# validation and revocation check in a `MemoryStore` (benches/instructions.rs and
# instructions_store.rs say what each operation does), and per sign and verify of the
# same token by the peer crates of the benchmarks (instructions_peers.rs), counted by
# callgrind: each operation is run 1,000 and 2,000 times and
# the difference divided by 1,000, which cancels start-up and set-up. Counts are repeatable
# for one binary on one machine, unlike timings; SHA-256 runs in software under valgrind
# (no SHA-NI).
#
#   bash benches/instructions.sh             # the totals
#   bash benches/instructions.sh --profile   # and, for sign and verify, the library's
#                                            # functions by inclusive count (callees
#                                            # included); for the peers, their SHA-256
#                                            # compression function's
#
# Needs valgrind (Debian: apt-get install valgrind); --profile also uses its
# callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || {
  echo "valgrind not found" >&2
  exit 1
}
profile=false
[[ ${1:-} == --profile ]] && profile=true
# Line tables let callgrind_annotate name inlined code; they do not change the code.
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release -q -p tokenstile-bench --bin instructions --bin instructions-store \
  --bin instructions-peers
bins="${CARGO_TARGET_DIR:-target}/release"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The program runs with an empty environment: where its stack starts depends on the size of
# the environment, and a few string comparisons and copies in the C library take another
# path near a page boundary, so a count moved by a few instructions with the caller's
# variables. With the same binary path and arguments, the counts are the same everywhere.
valgrind=$(command -v valgrind)
count() { # $1 = operation, $2 = times; prints the total, keeps the profile as $tmp/$1.$2
  local bin=$bins/instructions
  case $1 in
    session-* | verify-revoked) bin=$bins/instructions-store ;;
    *-jsonwebtoken | *-jwt-simple | *-jwt-compact | *-jwt-crate) bin=$bins/instructions-peers ;;
  esac
  # Called as `$(count ...)`, where `set -e` does not reach: every failure returns 1,
  # which the assignment then passes to `set -e`.
  env -i "$valgrind" --tool=callgrind --callgrind-out-file="$tmp/$1.$2" "$bin" "$1" "$2" \
    >/dev/null 2>"$tmp/log" || {
    cat "$tmp/log" >&2
    echo "$1 failed under valgrind" >&2
    return 1
  }
  local total
  total=$(sed -n 's/^summary: *//p' "$tmp/$1.$2")
  [[ $total =~ ^[0-9]+$ ]] || {
    echo "$1: no instruction count in callgrind's output" >&2
    return 1
  }
  echo "$total"
}
peers="sign-jsonwebtoken verify-jsonwebtoken sign-jwt-compact verify-jwt-compact sign-jwt-simple
  verify-jwt-simple sign-jwt-crate verify-jwt-crate"
for op in sign verify session-10 session-10000 session-unknown verify-revoked $peers; do
  one=$(count "$op" 1000)
  two=$(count "$op" 2000)
  per="per token"
  [[ $op == session-* ]] && per="per session"
  if ((two <= one)); then
    echo "$op: $two instructions for 2,000 operations, not more than $one for 1,000" >&2
    exit 1
  fi
  echo "$op: $(((two - one) / 1000)) instructions $per"
  if $profile && [[ $op == sign || $op == verify ]]; then
    # A function's inclusive count appears under the file of its own code and, for code
    # inlined into it from elsewhere, under other files too: keep the largest per name.
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/$op.2000" 2>/dev/null |
      awk '/tokenstile::|sha2::sha256::compress256|serde_core::de::Deserializer>::deserialize_struct/ {
             n = $1; gsub(/,/, "", n)
             name = $0; sub(/^[^:]*:/, "", name); sub(/ \[.*$/, "", name); sub(/ \([0-9,]+x\)$/, "", name)
             if (n + 0 > best[name]) best[name] = n + 0
           }
           END { for (f in best) if (best[f] / 2000 >= 100) printf "  %8d  %s\n", best[f] / 2000, f }' |
      sort -rn
  elif $profile && [[ $peers == *"$op"* ]]; then
    # The peers' SHA-256 compression function: `sha2`'s for jsonwebtoken, jwt-compact and
    # jwt (`jwt-crate`), `hmac-sha256`'s for jwt-simple.
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/$op.2000" 2>/dev/null |
      awk '/:(sha2::sha256::compress256|hmac_sha256::State::blocks) / {
             n = $1; gsub(/,/, "", n)
             name = $0; sub(/^[^:]*:/, "", name); sub(/ \[.*$/, "", name); sub(/ \([0-9,]+x\)$/, "", name)
             if (n + 0 > best[name]) best[name] = n + 0
           }
           END { for (f in best) if (best[f] / 2000 >= 100) printf "  %8d  %s\n", best[f] / 2000, f }'
  fi
done
