#!/usr/bin/env bash
# The test command: formatting, lints, unit tests and end-to-end tests (which build real
# skills from source and drive the real `skill` binary). Works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustup target add wasm32-wasip2"
rustup target add wasm32-wasip2

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# One profile (dev, with optimized dependencies) for the binary and the tests, so wasmtime is
# built once per run.
step "cargo test"
cargo test --workspace --locked
