#!/usr/bin/env bash
# Benchmark: a skill as a command, and a skill calling a skill.
#
#   1. The same command three ways: a PATH shim (`mb args x`), `skill exec misbehave args x`,
#      and the tool `skill run misbehave:echo text=x`. Target: shim <= 1.05x exec.
#   2. What routing a call through `call-tool` costs: `skill run relay-b:forward` calling
#      misbehave:echo, next to relay-b:forward refused in the host before anything is loaded
#      (relay-b alone) and misbehave:echo called directly. The host's added cost of a routed
#      call is roughly (routed - refused) - (direct - floor), reported below as an upper bound:
#      routed - refused, which also includes misbehave's own instantiation and call.
#
# Uses the test fixtures misbehave (Rust) and relay-b (JavaScript, QuickJS).
# Usage: scripts/bench-exec.sh [RUNS]   (default 50; commands alternate, after warm-up)
#        SKILL_BIN=... scripts/bench-exec.sh   (measure a given binary; helpers beside it)
#        SKILL_TOOLS_DIR=... reuses installed JS build tools.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  SKILL_BIN="$PWD/target/release/skill"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"
fixtures="$PWD/toolchain/cli/tests/fixtures"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKILL_HOME="$work/home"
echo "==> building and installing misbehave and relay-b" >&2
for fixture in misbehave relay-b; do
  cp -r "$fixtures/$fixture" "$work/$fixture"
  rm -rf "$work/$fixture/target" "$work/$fixture/node_modules" "$work/$fixture/package-lock.json"
done
sed -i "s#file:../../../../../sdk-js#file:$PWD/sdk-js#" "$work/relay-b/package.json"
sed -i "s#../../../../../sdk-rust#$PWD/sdk-rust#" "$work/misbehave/Cargo.toml"
"$skill" -q install "$work/misbehave" --yes
echo token | "$skill" -q config misbehave --set token
"$skill" -q install "$work/relay-b" --yes --no-deps
"$skill" -q shim misbehave --as mb
export PATH="$SKILL_HOME/bin:$PATH"

python3 - "$runs" "$skill" <<'PY'
import resource, statistics, subprocess, sys, time

runs, skill = int(sys.argv[1]), sys.argv[2]
groups = {
    "command": {
        "shim: mb args x": (["mb", "args", "x"], "mb args x"),
        "skill exec misbehave args x": ([skill, "exec", "misbehave", "args", "x"], "misbehave args x"),
        "skill run misbehave:echo text=x": ([skill, "run", "misbehave:echo", "text=x"], "x"),
    },
    "call-tool": {
        "direct: misbehave:echo": ([skill, "run", "misbehave:echo", "text=x"], "x"),
        "routed: relay-b → misbehave:echo": ([skill, "run", "relay-b:forward", "skill=misbehave", "tool=echo", 'args={"text": "x"}'], "x"),
        "refused: relay-b → (undeclared)": ([skill, "run", "relay-b:forward", "skill=nobody", "tool=echo", "args={}"], None),
    },
}

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

for group, commands in groups.items():
    for argv, expected in commands.values():
        done = subprocess.run(argv, capture_output=True, text=True)
        if expected is not None:
            assert done.stdout.strip() == expected, (argv, done.stdout, done.stderr)
        for _ in range(5):
            subprocess.run(argv, capture_output=True)
    times = {name: [] for name in commands}
    cpus = {name: [] for name in commands}
    for _ in range(runs):
        for name, (argv, _) in commands.items():
            start, start_cpu = time.perf_counter(), cpu()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append((time.perf_counter() - start) * 1000)
            cpus[name].append((cpu() - start_cpu) * 1000)
    print(f"\n{group:<36} {'median':>8} {'min':>8} {'p90':>8} {'cpu':>8}   ({runs} runs each)")
    medians = {}
    for name, samples in times.items():
        samples.sort()
        medians[name] = statistics.median(samples)
        p90 = samples[int(len(samples) * 0.9) - 1]
        print(f"{name:<36} {medians[name]:>6.2f}ms {samples[0]:>6.2f}ms {p90:>6.2f}ms {statistics.median(cpus[name]):>6.2f}ms")
    m = list(medians.values())
    if group == "command":
        ratio = m[0] / m[1]
        print(f"shim/exec: {ratio:.2f}x (target <= 1.05x: {'ok' if ratio <= 1.05 else 'MISSED'}); exec/run: {m[1] / m[2]:.2f}x")
    else:
        print(f"routed - refused: {m[1] - m[2]:.2f} ms (the callee's load, instantiation and call, and the routing)")
PY
