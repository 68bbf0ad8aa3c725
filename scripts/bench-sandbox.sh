#!/usr/bin/env bash
# Benchmark: what the sandbox's configuration costs per call. Median wall time of
# `skill run hello@plain:greet` (an instance with default limits and no grants) next to
# `skill run hello@limited:greet` (limits set per instance, plus a granted directory, a host
# and an environment variable). Target: the configured instance adds under 5 %.
#
# Usage: scripts/bench-sandbox.sh [RUNS]   (default 100; the two run alternately after warm-up)
#        SKILL_BIN=target/debug/skill scripts/bench-sandbox.sh   (skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100}"

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  SKILL_BIN="$PWD/target/release/skill"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKILL_HOME="$work/home"
mkdir -p "$work/shared"
echo "==> skill init hello, build, install as hello@plain and hello@limited" >&2
(cd "$work" && "$skill" -q init hello -t rust && cd hello && "$skill" -q build \
  && "$skill" -q install . -i plain && "$skill" -q install . -i limited)
"$skill" -q config hello@limited --limit timeout=5s --limit memory=64MiB --limit output=256KiB
"$skill" -q grant hello@limited --fs "$work/shared:rw" --net api.example.com --env LANG

python3 - "$runs" "$skill" <<'PY'
import statistics, subprocess, sys, time

runs, skill = int(sys.argv[1]), sys.argv[2]
commands = {
    "defaults, no grants": [skill, "run", "hello@plain:greet", "name=World"],
    "limits + fs + net + env": [skill, "run", "hello@limited:greet", "name=World"],
}
for argv in commands.values():
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "Hello, World!", out
    for _ in range(5):
        subprocess.run(argv, capture_output=True, check=True)

times = {name: [] for name in commands}
for _ in range(runs):
    for name, argv in commands.items():
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - start) * 1000)

print(f"{'skill run instance':<28} {'median':>8} {'min':>8} {'p90':>8}   ({runs} runs each)")
medians = []
for name, samples in times.items():
    samples.sort()
    medians.append(statistics.median(samples))
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"{name:<28} {medians[-1]:>6.2f}ms {samples[0]:>6.2f}ms {p90:>6.2f}ms")
overhead = (medians[1] / medians[0] - 1) * 100
print(f"configured sandbox overhead: {overhead:+.1f} %   target: < 5 % ({'ok' if overhead < 5 else 'MISSED'})")
PY
