#!/usr/bin/env bash
# Benchmark `skill serve` (issue targets in docs/serving.md):
#  1. MCP tools/call round trip, p50/p99, with the official Python MCP client, over stdio and
#     over streamable HTTP, for a trivial tool (rust-skill add) — next to the same client
#     talking to a canned JSON-RPC server (toolchain/cli/examples/mcp_floor.rs: the client and
#     the transport alone). Target: skill serve adds at most 50 µs p50 over that floor.
#  2. Spawning `skill serve --stdio` → the first tools/list reply. Target: under 20 ms.
#  3. REST POST /api/v1/execute under wrk at 1, 16 and 64 connections. Target: ≥ 10,000 req/s.
#
# The MCP series alternate floor and server in PAIRS pairs (default 8) of CALLS calls each
# (default 1000) and report the median of the per-pair p50 differences with its range: on
# these machines one pair alone swings by ±300 µs.
#
# Usage: scripts/bench-serve.sh [CALLS]   (PAIRS=8 by default)
#        SKILL_BIN=target/debug/skill scripts/bench-serve.sh   (skip the release build)
# Needs: the test clients (scripts/test-clients.sh) and wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-1000}"
pairs="${PAIRS:-8}"

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill and the floor server (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins --example mcp_floor
  SKILL_BIN="$PWD/target/release/skill"
  FLOOR_BIN="$PWD/target/release/examples/mcp_floor"
else
  cargo build --locked -q -p skill-cli --example mcp_floor
  FLOOR_BIN="${FLOOR_BIN:-$PWD/target/debug/examples/mcp_floor}"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"
./scripts/test-clients.sh >&2
py="$PWD/target/test-clients/venv/bin/python"
clients="$PWD/toolchain/cli/tests/clients"

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export SKILL_HOME="$work/home"
echo "==> skill build + install examples/rust-skill" >&2
"$skill" -q install examples/rust-skill --yes

# Starts "$@" in the background and waits for "listening on http://ADDR" on its stderr;
# sets $addr. (Not in $(...): the server would hold the substitution's pipe open.)
start_http() {
  local log="$work/$1.log"; shift
  "$@" >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 200); do
    if grep -q 'listening on http://' "$log"; then
      addr=$(grep -o 'listening on http://[^ ]*' "$log" | head -1 | sed 's|listening on http://||')
      return
    fi
    sleep 0.05
  done
  echo "server did not start:" >&2; cat "$log" >&2; exit 1
}

echo "==> MCP tools/call round trip ($pairs alternating pairs of $calls calls, Python mcp client, legacy handshake)" >&2
start_http floor "$FLOOR_BIN" http 0; floor_addr=$addr
start_http ours "$skill" serve --port 0; ours_addr=$addr
floor_stdio="[" ours_stdio="[" floor_http="[" ours_http="["
for i in $(seq "$pairs"); do
  sep=$([[ $i -gt 1 ]] && echo "," || true)
  floor_stdio+="$sep$("$py" "$clients/bench_mcp.py" stdio "$FLOOR_BIN" floor__noop "$calls" stdio)"
  ours_stdio+="$sep$("$py" "$clients/bench_mcp.py" stdio "$skill" rust-skill_default__add "$calls" serve --stdio)"
  floor_http+="$sep$("$py" "$clients/bench_mcp.py" http "http://$floor_addr/mcp" floor__noop "$calls")"
  ours_http+="$sep$("$py" "$clients/bench_mcp.py" http "http://$ours_addr/mcp" rust-skill_default__add "$calls")"
done
floor_stdio+="]" ours_stdio+="]" floor_http+="]" ours_http+="]"
ours_http_modern=$(MCP_MODE=auto "$py" "$clients/bench_mcp.py" http "http://$ours_addr/mcp" rust-skill_default__add "$calls")

echo "==> spawn skill serve --stdio → first tools/list reply (50 runs)" >&2
spawn=$("$py" "$clients/bench_spawn.py" 50 "$skill" serve --stdio)
spawn_floor=$("$py" "$clients/bench_spawn.py" 50 "$FLOOR_BIN" stdio)

echo "==> REST POST /api/v1/execute under wrk (10 s per concurrency)" >&2
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"skill": "rust-skill", "tool": "add", "args": {"a": 2, "b": 40}}'
LUA
# The floor for REST: the canned server's axum handler answering a JSON-RPC POST.
cat > "$work/floor.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "floor__noop"}}'
LUA
rest=""
if command -v wrk >/dev/null; then
  for c in 1 16 64; do
    threads=$(( c < 2 ? c : 2 ))
    out=$(wrk -t "$threads" -c "$c" -d 10s --latency -s "$work/post.lua" "http://$ours_addr/api/v1/execute")
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    floor=$(wrk -t "$threads" -c "$c" -d 5s -s "$work/floor.lua" "http://$floor_addr/mcp" |
      awk '/Requests\/sec/ { print $2 }')
    rest+="  concurrency $c: ${rps} req/s, p99 ${p99}${non2xx:+, NON-2XX: $non2xx} (canned axum handler: ${floor} req/s)"$'\n'
  done
else
  rest="  (wrk not installed: apt-get install wrk)"$'\n'
fi

python3 - "$floor_stdio" "$ours_stdio" "$floor_http" "$ours_http" "$ours_http_modern" "$spawn" "$spawn_floor" <<'PY'
import json, statistics, sys
fs, os_, fh, oh, ohm, sp, spf = (json.loads(a) for a in sys.argv[1:])
def row(name, floors, ours):
    # One p50 difference per alternating pair; their median and range.
    added = sorted(o["p50_us"] - f["p50_us"] for f, o in zip(floors, ours))
    med = lambda runs, key: statistics.median(r[key] for r in runs)
    print(f"  {name:<6} floor p50 {med(floors, 'p50_us'):>7.1f} µs p99 {med(floors, 'p99_us'):>7.1f} µs | "
          f"skill serve p50 {med(ours, 'p50_us'):>7.1f} µs p99 {med(ours, 'p99_us'):>7.1f} µs | "
          f"added p50 median {statistics.median(added):+.1f} µs, range {added[0]:+.1f}..{added[-1]:+.1f} "
          f"over {len(added)} pairs (target ≤ +50)")
print("\nMCP tools/call round trip (Python mcp 2.3.0 client):")
row("stdio", fs, os_)
row("http", fh, oh)
print(f"  http, 2026-07-28 (stateless): p50 {ohm['p50_us']:.1f} µs p99 {ohm['p99_us']:.1f} µs")
print(f"\nspawn → first tools/list: skill serve --stdio p50 {sp['p50_ms']} ms (min {sp['min_ms']}, max {sp['max_ms']}; "
      f"{sp['tools']} tools) — canned server {spf['p50_ms']} ms (target < 20 ms)")
PY
printf '\nREST POST /api/v1/execute (wrk -t 2, 10 s; target ≥ 10,000 req/s):\n%s' "$rest"
