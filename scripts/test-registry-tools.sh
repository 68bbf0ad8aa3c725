#!/usr/bin/env bash
# Installs what the registry tests drive, pinned, from Debian: the CNCF distribution server
# (`docker-registry`), an independent OCI client (`skopeo`) and `htpasswd` (apache2-utils) for
# a registry that requires a login; and git (with `git daemon`) for the git-source tests.
# Idempotent; scripts/test.sh runs it.
set -euo pipefail
want=(docker-registry=2.8.2+ds1-1 skopeo=1.9.3+ds1-1+b10 apache2-utils git)
missing=()
for tool in docker-registry skopeo htpasswd git; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null
# The package starts no service here (no init system); the tests start their own registries.
echo "registry test tools ready: $(docker-registry --version 2>&1 | head -1), $(skopeo --version)"
