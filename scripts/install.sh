#!/usr/bin/env bash
# Installs `skill` and everything it needs on a fresh machine, then runs the main job on the
# bundled example: build it, install it, run one of its tools.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustup target add wasm32-wasip2   (skills compile to this target)"
rustup target add wasm32-wasip2

step "cargo install --path toolchain/cli --locked   (skill and its helpers skill-serve, skill-toolchain, skill-wasm-opt, into ~/.cargo/bin; the first build takes ~20 min on 2 cores)"
cargo install --path toolchain/cli --locked --target-dir target
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step "skill doctor --install   (the pinned JavaScript/TypeScript, Python and Go build tools, into \$SKILL_HOME/tools)"
skill doctor --install || echo "(some build tools are missing; JavaScript/Python/Go skills need them — see above)"

step "skill build examples/rust-skill"
skill build examples/rust-skill

step "skill install examples/rust-skill"
skill install examples/rust-skill

step "skill run rust-skill:greet name=World"
skill run rust-skill:greet name=World
