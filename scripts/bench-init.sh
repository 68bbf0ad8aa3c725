#!/usr/bin/env bash
# Benchmark: time from `skill init` to the first successful `skill run` for every template
# (toolchains already installed: the pinned JS/Python tools in $SKILL_TOOLS_DIR or
# ~/.skill-engine/tools, the Rust target). Each template starts in a fresh project and a fresh
# $SKILL_HOME; Rust's dependencies come from the local cargo registry cache, but compile cold.
# Target: under 60 s each.
#
# Usage: scripts/bench-init.sh [TEMPLATE...]      (default: every template)
#        SKILL_BIN=target/debug/skill scripts/bench-init.sh   (skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  SKILL_BIN="$PWD/target/release/skill"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"
export SKILL_TOOLS_DIR="${SKILL_TOOLS_DIR:-$HOME/.skill-engine/tools}"
# Installs the pinned tools; its exit status also reports unrelated checks (PATH).
"$skill" doctor --install -q >/dev/null || true

templates=("$@")
if [[ ${#templates[@]} -eq 0 ]]; then
  mapfile -t templates < <("$skill" init --list | awk '{print $1}')
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-14s %10s   %s\n' template seconds "init → build → install → run greet"
for template in "${templates[@]}"; do
  export SKILL_HOME="$work/home-$template"
  name="bench-${template//_/-}"
  start=$EPOCHREALTIME
  (
    cd "$work"
    "$skill" -q init "$name" -t "$template"
    cd "$name"
    "$skill" -q build
    "$skill" -q install --yes .
    out="$("$skill" run "$name:greet" name=World)"
    [[ "$out" == "Hello, World!" ]] || { echo "unexpected output: $out" >&2; exit 1; }
  )
  awk -v t="$template" -v a="$start" -v b="$EPOCHREALTIME" \
    'BEGIN { s = b - a; printf "%-14s %10.1f   %s\n", t, s, (s < 60 ? "ok" : "over 60 s") }' 
done
