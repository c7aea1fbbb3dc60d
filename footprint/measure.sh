#!/usr/bin/env bash
# Flash footprint of the firmwares with both SHA-256 software variants, then the stack of
# each operation under QEMU. Needs: rustup target thumbv7em-none-eabihf, llvm-tools
# (`rustup component add llvm-tools`, `cargo install cargo-binutils`) or Debian's
# binutils-arm-none-eabi, and qemu-system-arm for the stack part.
# Usage: bash footprint/measure.sh
set -euo pipefail
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
link='-C link-arg=-Tlink.x'

if command -v rust-size >/dev/null; then size=rust-size; else size=arm-none-eabi-size; fi

table() { # $1 = target dir, $2 = label
  printf '\n%s\n' "$2"
  printf '  %-12s %8s %8s %8s %10s\n' firmware .text .rodata flash "flash KiB"
  for bin in baseline verify_only full; do
    "$size" -A "$1/$target/release/$bin" | awk -v bin="$bin" '
      $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".data" { flash += $2 }
      $1 == ".text" { text = $2 } $1 == ".rodata" { ro = $2 }
      END { printf "  %-12s %8d %8d %8d %10.1f\n", bin, text, ro, flash, flash / 1024 }'
  done
}

RUSTFLAGS="$link" CARGO_TARGET_DIR=target/default cargo build --release --target "$target" --bins -q
RUSTFLAGS="$link --cfg sha2_backend_soft=\"compact\"" CARGO_TARGET_DIR=target/compact \
  cargo build --release --target "$target" --bins -q
table target/default 'default sha2 backend (soft, unrolled)'
table target/compact 'sha2_backend_soft="compact"'

if command -v qemu-system-arm >/dev/null; then
  for variant in default compact; do
    printf '\nstack, %s sha2 (QEMU mps2-an386, Cortex-M4)\n' "$variant"
    timeout 120 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -display none -serial null \
      -monitor none -semihosting-config enable=on,target=native \
      -kernel "target/$variant/$target/release/stack"
  done
fi
