#!/usr/bin/env bash
# Benchmark: median wall time of `skill run hello:greet name=World` (a skill made by
# `skill init hello -t rust`, built and installed) next to the floor — a minimal wasmtime
# host (runtime/engine/examples/floor.rs) that loads the same .cwasm and calls the same export.
# Targets: skill run under 10 ms, and at most 1.2x the floor. Wall time and CPU time (user +
# system, from the children's rusage) are both reported.
#
# Usage: scripts/bench.sh [RUNS]   (default 50; both commands run alternately, after warm-up)
#        SKILL_BIN=... FLOOR_BIN=... scripts/bench.sh   (measure given binaries, e.g. before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill and the floor host (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins -p skill-engine --example floor
  SKILL_BIN="$PWD/target/release/skill"
  FLOOR_BIN="$PWD/target/release/examples/floor"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"
floor="$(cd "$(dirname "$FLOOR_BIN")" && pwd)/$(basename "$FLOOR_BIN")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKILL_HOME="$work/home"
echo "==> skill init hello && skill build && skill install ." >&2
(cd "$work" && "$skill" -q init hello -t rust && cd hello && "$skill" -q build && "$skill" -q install .)
cwasm="$work/hello/target/skill/hello.cwasm"

python3 - "$runs" "$skill" "$floor" "$cwasm" <<'PY'
import resource, statistics, subprocess, sys, time

runs, skill, floor, cwasm = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
commands = {
    "skill run hello:greet name=World": [skill, "run", "hello:greet", "name=World"],
    "floor (minimal wasmtime host)": [floor, cwasm, "greet", "name=World"],
}
for argv in commands.values():
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "Hello, World!", out
    for _ in range(5):
        subprocess.run(argv, capture_output=True, check=True)

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

times = {name: [] for name in commands}
cpus = {name: [] for name in commands}
for _ in range(runs):
    for name, argv in commands.items():
        start, start_cpu = time.perf_counter(), cpu()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - start) * 1000)
        cpus[name].append((cpu() - start_cpu) * 1000)

medians = {}
cpu_medians = {}
print(f"{'command':<36} {'median':>8} {'min':>8} {'p90':>8} {'cpu':>8}   ({runs} runs each)")
for name, samples in times.items():
    samples.sort()
    medians[name] = statistics.median(samples)
    cpu_medians[name] = statistics.median(cpus[name])
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"{name:<36} {medians[name]:>6.2f}ms {samples[0]:>6.2f}ms {p90:>6.2f}ms {cpu_medians[name]:>6.2f}ms")
skill_ms, floor_ms = medians.values()
ratio = skill_ms / floor_ms
skill_cpu, floor_cpu = cpu_medians.values()
print(f"ratio skill/floor: {ratio:.2f}x wall, {skill_cpu / floor_cpu:.2f}x cpu   targets: "
      f"< 10 ms ({'ok' if skill_ms < 10 else 'MISSED'}), <= 1.2x ({'ok' if ratio <= 1.2 else 'MISSED'})")
PY
