#!/usr/bin/env bash
# The test command: formatting, lints, unit tests and end-to-end tests (which build real
# skills from source and drive the real `skill` binary). Works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustup target add wasm32-wasip2; rustup component add clippy rustfmt"
rustup target add wasm32-wasip2
rustup component add clippy rustfmt

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# One profile (dev, with optimized dependencies) for the binary and the tests, so wasmtime is
# built once per run.
step "cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

# One closing line for the whole run (cargo prints one per test binary, the last often 0 of 0).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
