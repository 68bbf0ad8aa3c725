#!/usr/bin/env bash
# Benchmark: `skill build` per language, cold and warm, next to the raw toolchain run by hand
# on the same source (cargo build / esbuild + componentize-js / componentize-py), with the
# sizes of what each produces. `skill build` also validates, stamps and AOT-compiles: its
# report splits the time into stages, so the compile stage can be compared like for like.
# Target: the compile stage at most 10 % over the raw toolchain.
#
# Usage: scripts/bench-build.sh [rust|javascript|typescript|python]...   (default: all four)
#        SKILL_BIN=path/to/skill scripts/bench-build.sh ...   (use an existing binary; the
#        heavy work is in cargo/node/componentize and in wasmtime, which a dev build of skill
#        already compiles with optimizations)
set -euo pipefail
cd "$(dirname "$0")/.."
langs=("$@")
[ ${#langs[@]} -eq 0 ] && langs=(rust javascript typescript python)

if [ -n "${SKILL_BIN:-}" ]; then
  skill="$(realpath "$SKILL_BIN")"
else
  echo "==> building skill (release)" >&2
  cargo build --release --locked -q -p skill-cli --bins
  skill="$PWD/target/release/skill"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKILL_HOME="$work/home"
# Build tools are installed once, outside the timings.
"$skill" -q doctor --install >/dev/null || true

python3 - "$skill" "$work" "${langs[@]}" <<'PY'
import json, os, shutil, subprocess, sys, time

skill, work, langs = sys.argv[1], sys.argv[2], sys.argv[3:]
home = os.environ["SKILL_HOME"]

def tools_dir(kind):
    base = os.environ.get("SKILL_TOOLS_DIR") or os.path.join(home, "tools")
    return next(os.path.join(base, d) for d in sorted(os.listdir(base)) if d.startswith(kind + "-"))

def timed(argv, cwd, env=None):
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t

def skill_build(project):
    t = time.perf_counter()
    out = subprocess.run([skill, "build", "--json"], cwd=project, check=True, capture_output=True).stdout
    total = time.perf_counter() - t
    report = json.loads(out)
    stages = {s["name"]: s["millis"] / 1000 for s in report["stages"]}
    return total, stages, report["component"]["size"]

def raw(lang, project, target):
    """The raw toolchain by hand; returns (seconds, output size)."""
    env = dict(os.environ)
    if lang == "rust":
        env["CARGO_TARGET_DIR"] = target
        secs = timed(["cargo", "build", "--release", "--target", "wasm32-wasip2"], project, env)
        out = os.path.join(target, "wasm32-wasip2/release", os.path.basename(project).replace("-", "_") + ".wasm")
    elif lang in ("javascript", "typescript"):
        js = tools_dir("js")
        entry = "src/index.ts" if lang == "typescript" else "src/index.js"
        bundle, out = os.path.join(target, "bundle.js"), os.path.join(target, "raw.wasm")
        os.makedirs(target, exist_ok=True)
        stdin = f'import "./{entry}"; export {{ guest }} from "@skill-engine/sdk";'
        t = time.perf_counter()
        subprocess.run(["node", f"{js}/node_modules/esbuild/bin/esbuild", "--bundle", "--format=esm",
                        "--platform=neutral", "--external:skill-engine:*", f"--outfile={bundle}"],
                       cwd=project, input=stdin.encode(), check=True, capture_output=True)
        wit = next(os.path.join(home, "sdk", d, "wit") for d in os.listdir(os.path.join(home, "sdk")))
        subprocess.run(["node", f"{js}/componentize.mjs", bundle, wit, "skill", out, "x.js"],
                       cwd=target, check=True, capture_output=True)
        secs = time.perf_counter() - t
    else:
        py = tools_dir("python")
        gen = os.path.join(project, "target/skill-build/python/entry")
        sdk = next(os.path.join(home, "sdk", d, "sdk-python") for d in os.listdir(os.path.join(home, "sdk")))
        wit = os.path.join(os.path.dirname(sdk), "wit")
        out = os.path.join(target, "raw.wasm")
        os.makedirs(target, exist_ok=True)
        secs = timed([f"{py}/venv/bin/componentize-py", "-d", wit, "-w", "skill", "componentize",
                      "skill_entry", "-p", gen, "-p", project, "-p", sdk, "-o", out], project)
    return secs, os.path.getsize(out)

print(f"{'language':<11} {'run':<5} {'skill build':>11} {'compile':>8} {'raw':>7} {'compile/raw':>11}  {'stages (s)':<60} sizes")
for lang in langs:
    project = os.path.join(work, f"b-{lang}")
    subprocess.run([skill, "-q", "init", f"b-{lang}", "-t", lang], cwd=work, check=True)
    for run in ("cold", "warm"):
        if run == "warm":
            # Touch the entry so both toolchains recompile the author's code.
            for f in ("src/lib.rs", "src/index.js", "src/index.ts", "app.py"):
                if os.path.exists(os.path.join(project, f)):
                    os.utime(os.path.join(project, f))
        else:
            shutil.rmtree(os.path.join(project, "target"), ignore_errors=True)
            shutil.rmtree(os.path.join(work, f"raw-{lang}"), ignore_errors=True)
        total, stages, size = skill_build(project)
        raw_secs, raw_size = raw(lang, project, os.path.join(work, f"raw-{lang}"))
        compile = stages.get("compile", 0)
        stage_text = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
        print(f"{lang:<11} {run:<5} {total:>10.2f}s {compile:>7.2f}s {raw_secs:>6.2f}s {compile / raw_secs:>10.2f}x  {stage_text:<60} skill {size} B, raw {raw_size} B")
PY
