#!/usr/bin/env bash
# Flash footprint of the firmwares with both SHA-256 compression functions (tokenstile's
# compact one, the default on microcontrollers, and sha2's unrolled one), the largest symbols
# of the full firmware by crate, its `main` by source file, then the stack of each
# operation under QEMU.
#
# Needs: rustup target thumbv7em-none-eabihf; one of `llvm-size` (Debian: llvm),
# `rust-size` (cargo-binutils), `arm-none-eabi-size` or GNU `size` (binutils), and
# `llvm-nm` or GNU `nm` for the symbol table; `llvm-objdump` for `main` by source file;
# qemu-system-arm for the stack part.
# Usage: bash footprint/measure.sh          (everything)
#        bash footprint/measure.sh --sizes  (flash only: no symbol table, no QEMU)
#        bash footprint/measure.sh --figures FULL_ELF
#                                           (for .ci/figures: the absolute path of a build
#                                           made elsewhere; prints the breakdown as figures)
set -euo pipefail
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
link='-C link-arg=-Tlink.x'
sizes_only=false
if [[ ${1:-} == --sizes ]]; then sizes_only=true; fi

fail() {
  echo "measure.sh: $*" >&2
  exit 1
}

# The first size tool found; every one of them reads an ARM ELF's section headers.
size=
for tool in llvm-size rust-size arm-none-eabi-size size; do
  if command -v "$tool" >/dev/null; then
    size=$tool
    break
  fi
done
[[ -n $size ]] || fail "no size tool: install llvm (llvm-size) or binutils (size)"
nm=
for tool in llvm-nm arm-none-eabi-nm nm; do
  if command -v "$tool" >/dev/null; then
    nm=$tool
    break
  fi
done

# Prints "text rodata flash" of one ELF: flash is .vector_table + .text + .rodata + .data.
# Fails (instead of printing zeros) if the tool fails or a section is missing.
sections() {
  local out
  out=$("$size" -A "$1") || fail "$size could not read $1"
  awk '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".data" { flash += $2 }
    $1 == ".text" { text = $2; seen++ } $1 == ".rodata" { ro = $2; seen++ }
    END { if (seen != 2) exit 1; printf "%d %d %d\n", text, ro, flash }' <<<"$out" ||
    fail "no .text or .rodata section in $1"
}

table() { # $1 = target dir, $2 = label
  local rows=() bin text ro flash
  for bin in baseline verify_only full; do
    read -r text ro flash < <(sections "$1/$target/release/$bin") || exit 1
    [[ -n ${flash:-} ]] || fail "no figures for $bin"
    rows+=("$(printf '  %-12s %8d %8d %8d %10.1f' "$bin" "$text" "$ro" "$flash" \
      "$(awk -v f="$flash" 'BEGIN { print f / 1024 }')")")
  done
  printf '\n%s (%s)\n' "$2" "$size"
  printf '  %-12s %8s %8s %8s %10s\n' firmware .text .rodata flash "flash KiB"
  printf '%s\n' "${rows[@]}"
}

# The sized functions and data of an ELF in .text and .rodata, grouped by the crate in
# their symbol names: "bytes crate" lines, and "bytes (all sized symbols)".
crates() { # $1 = ELF
  "$nm" --print-size --size-sort --radix=d --demangle "$1" | awk '
    $3 ~ /^[tTrR]$/ {
      size = $2 + 0; name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name)
      crate = name; sub(/^[<&]+/, "", crate)
      if (crate ~ /^[a-z_][a-z0-9_]*::/) { sub(/::.*/, "", crate) }
      else if (match(crate, /u20\$as\$u20\$[a-z_][a-z0-9_]*\.\./) ||
               match(crate, /^_\$LT\$[a-z_][a-z0-9_]*\.\./)) {
        # Left mangled: <T as krate..Trait>::f counts in the trait crate, <krate..T>::f
        # in the crate of the type.
        crate = substr(crate, RSTART, RLENGTH); sub(/^.*\$/, "", crate); sub(/\.\.$/, "", crate)
      } else { crate = "(no crate: vector table, runtime, memcpy, compiler builtins)" }
      total[crate] += size; all += size
    }
    END {
      for (c in total) printf "%d %s\n", total[c], c
      printf "%d %s\n", all, "(all sized symbols)"
    }'
}

# The firmware's `main`, into which LTO inlined most of the token and store code, by the
# source file each of its instructions comes from: the innermost inlined location, in the
# line tables of an ELF built with them (literal pools count in the file of the code
# before them). "bytes file" lines, and "bytes (all of main)".
main_by_file() { # $1 = ELF with line tables
  llvm-objdump -d -l --no-show-raw-insn "$1" | awk -v root="$(cd .. && pwd)/" '
    function hex(s, i, n) {
      n = 0
      for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return n
    }
    function tidy(f) {
      if (index(f, root) == 1) return substr(f, length(root) + 1)
      if (match(f, /\/library\//)) return substr(f, RSTART + RLENGTH)
      if (match(f, /\/registry\/src\/[^\/]+\//)) return substr(f, RSTART + RLENGTH)
      return f
    }
    # A function (mapping symbols such as <$t> and <$d> are not).
    /^[0-9a-f]+ <[^$].*>:$/ { inmain = ($0 ~ /cortex_m_rt_main/); file = "?"; next }
    /^; \// { file = $2; sub(/:[0-9]+$/, "", file); next }
    /^ +[0-9a-f]+:/ {
      at = $1; sub(/:$/, "", at); at = hex(at)
      if (counted) bytes[counted] += at - last
      last = at; counted = inmain ? tidy(file) : ""
    }
    END {
      for (f in bytes) { total += bytes[f]; printf "%d %s\n", bytes[f], f }
      printf "%d %s\n", total, "(all of main)"
    }'
}

# The full firmware by crate, and its largest symbols.
breakdown() { # $1 = ELF
  if [[ -z $nm ]]; then
    echo "  (no nm tool: symbol breakdown skipped)"
    return
  fi
  local syms
  syms=$("$nm" --print-size --size-sort --radix=d --demangle "$1") || fail "$nm could not read $1"
  printf '\nfull firmware by crate (default SHA-256; sized symbols in .text and .rodata, %s)\n' "$nm"
  crates "$1" | sort -n -r | awk '{ n = $1; $1 = ""; printf "  %7d B%s\n", n, $0 }'
  printf '\nlargest symbols of the full firmware\n'
  awk '$3 ~ /^[tTrR]$/ { name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name);
       printf "%d %s\n", $2 + 0, substr(name, 1, 110) }' <<<"$syms" | sort -n -r | awk 'NR <= 30' |
    awk '{ n = $1; $1 = ""; printf "  %6d B %s\n", n, $0 }'
}

# The full firmware's `main` by source file, from the debug information of the measured
# build itself (the profile has `debug = true`, which takes no flash), so the table
# describes exactly the code that was measured. (A second build with line tables only
# would not do: with less debug information LLVM may lay out a few instructions
# differently.)
by_source() { # $1 = ELF
  if ! command -v llvm-objdump >/dev/null; then
    echo "  (no llvm-objdump: main by source file skipped)"
    return
  fi
  printf '\nthe full firmware'"'"'s main by source file (line tables, llvm-objdump)\n'
  main_by_file "$1" | awk '$1 >= 100' | sort -n -r | awk '{ n = $1; $1 = ""; printf "  %6d B%s\n", n, $0 }'
}

# For .ci/figures: the crate totals of the full firmware and the files of its `main` that
# hold at least 200 B, as "name bytes" figure lines (names in lowercase, with dots).
if [[ ${1:-} == --figures ]]; then
  [[ $# == 2 ]] || fail "usage: measure.sh --figures FULL_ELF"
  command -v llvm-nm >/dev/null && command -v llvm-objdump >/dev/null ||
    fail "--figures needs llvm-nm and llvm-objdump (Debian: llvm)"
  nm=llvm-nm
  slug() {
    awk '{ n = $1; $1 = ""; s = tolower($0); gsub(/[^a-z0-9]+/, ".", s); gsub(/^\.|\.$/, "", s)
           if (s ~ /^no\.crate/) s = "none"; if (s == "all.sized.symbols") s = "all"; print n, s }'
  }
  crates "$2" | slug | awk '{ print "footprint.full.crate." $2, $1 }'
  main_by_file "$2" | slug | awk '$2 == "all.of.main" { print "footprint.full.main", $1; next }
    $1 >= 200 { print "footprint.full.main." $2, $1 }'
  exit 0
fi

RUSTFLAGS="$link" CARGO_TARGET_DIR=target/default cargo build --release --target "$target" --bins -q
RUSTFLAGS="$link --cfg tokenstile_sha256=\"sha2\"" CARGO_TARGET_DIR=target/sha2 \
  cargo build --release --target "$target" --bins -q
table target/default 'default: the compact SHA-256 compression'
table target/sha2 'tokenstile_sha256="sha2": sha2'"'"'s unrolled compression'

# A MemoryStore in a static must start as all zeros (.bss): any .data would be its
# initializer, copied from flash at every boot.
data=$("$size" -A "target/default/$target/release/static_store" | awk '$1 == ".data" { print $2 }')
printf '\nstatic MemoryStore<bool, 16, 16>: .data %s B\n' "${data:-0}"
[[ ${data:-0} == 0 ]] || fail "a MemoryStore in a static has a non-zero initializer (.data)"
if $sizes_only; then exit 0; fi
breakdown "target/default/$target/release/full"
by_source "target/default/$target/release/full"

if command -v qemu-system-arm >/dev/null; then
  for variant in default sha2; do
    printf '\nstack, %s SHA-256 (QEMU mps2-an386, Cortex-M4)\n' "$variant"
    timeout 120 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -display none -serial null \
      -monitor none -semihosting-config enable=on,target=native -icount shift=0 \
      -kernel "target/$variant/$target/release/stack"
  done
else
  echo "qemu-system-arm not found: stack measurement skipped" >&2
fi
