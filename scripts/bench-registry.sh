#!/usr/bin/env bash
# Benchmark installing from an OCI registry (docs/registries.md), against a docker-registry on
# loopback, for the bundled Rust example:
#  1. `skill install rust-skill` cold (empty $SKILL_HOME: no AOT cache) next to its floor: the
#     transfer alone (`skopeo copy` of the same artifact to a local OCI layout) plus a local
#     install of the same component (`skill install target/skill`: one AOT compile, the
#     describe call, the store commit). Target: at most 1.2x that floor.
#  2. `skill pull-run rust-skill greet name=World`, cold (empty cache) and warm, next to
#     `skill run rust-skill:greet name=World` of the installed skill. Target: warm at most 1.5x.
#
# Usage: scripts/bench-registry.sh [RUNS]   (default 20; commands alternate)
#        SKILL_BIN=target/debug/skill scripts/bench-registry.sh   (skip the release build)
# Needs: scripts/test-registry-tools.sh (docker-registry, skopeo).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"

if [[ -z "${SKILL_BIN:-}" ]]; then
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  SKILL_BIN="$PWD/target/release/skill"
fi
skill="$(cd "$(dirname "$SKILL_BIN")" && pwd)/$(basename "$SKILL_BIN")"
./scripts/test-registry-tools.sh >&2

work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/registry.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: 127.0.0.1:$port }
EOF
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
pid=$!
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do sleep 0.1; done

export SKILL_REGISTRY="127.0.0.1:$port/bench"
export SKILL_HOME="$work/publisher"
echo "==> skill build examples/rust-skill && skill publish" >&2
"$skill" -q build examples/rust-skill
"$skill" -q publish examples/rust-skill >/dev/null

python3 - "$runs" "$skill" "$work" "$PWD/examples/rust-skill/target/skill" "$SKILL_REGISTRY" <<'PY'
import os, shutil, statistics, subprocess, sys, time

runs, skill, work, built, registry = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
env = dict(os.environ)

def timed(argv, home=None, setup=None):
    e = dict(env)
    if home:
        e["SKILL_HOME"] = home
    if setup:
        setup()
    start = time.perf_counter()
    subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000

def fresh(name):
    path = os.path.join(work, name)
    shutil.rmtree(path, ignore_errors=True)
    return path

# One installed home for `skill run` and a warm pull-run cache.
warm = os.path.join(work, "warm")
e = dict(env, SKILL_HOME=warm)
subprocess.run([skill, "-q", "install", "rust-skill", "--yes"], env=e, check=True)
subprocess.run([skill, "-q", "pull-run", "rust-skill", "greet", "name=World", "--yes"], env=e, check=True, capture_output=True)
out = subprocess.run([skill, "pull-run", "rust-skill", "greet", "name=World", "--yes"], env=e, check=True, capture_output=True, text=True).stdout
assert out.strip() == "Hello, World!", out

series = {
    "skopeo copy (transfer floor)": lambda: timed(
        ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{registry}/rust-skill:0.1.0", f"oci:{fresh('layout')}:x"]),
    "skill install <built dir> (local floor)": lambda: timed(
        [skill, "-q", "install", built, "--yes"], home=fresh("local")),
    "skill install rust-skill (cold)": lambda: timed(
        [skill, "-q", "install", "rust-skill", "--yes"], home=fresh("cold")),
    "skill pull-run (cold: no cache)": lambda: timed(
        [skill, "-q", "pull-run", "rust-skill", "greet", "name=World", "--yes"], home=fresh("pullcold")),
    "skill pull-run (warm)": lambda: timed(
        [skill, "-q", "pull-run", "rust-skill", "greet", "name=World", "--yes"], home=warm),
    "skill run rust-skill:greet (installed)": lambda: timed(
        [skill, "run", "rust-skill:greet", "name=World"], home=warm),
}
for f in series.values():
    f()
samples = {name: [] for name in series}
for _ in range(runs):
    for name, f in series.items():
        samples[name].append(f())
med = {name: statistics.median(s) for name, s in samples.items()}
print(f"{'command':<42} {'median':>9} {'min':>9}   ({runs} runs each, alternating)")
for name, s in samples.items():
    print(f"{name:<42} {med[name]:>7.1f}ms {min(s):>7.1f}ms")
floor = med["skopeo copy (transfer floor)"] + med["skill install <built dir> (local floor)"]
print(f"\ninstall cold / (transfer + local install) = {med['skill install rust-skill (cold)'] / floor:.2f}x   (target <= 1.2x)")
print(f"pull-run warm / skill run                  = {med['skill pull-run (warm)'] / med['skill run rust-skill:greet (installed)']:.2f}x   (target <= 1.5x)")
PY
