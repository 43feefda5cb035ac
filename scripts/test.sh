#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs dependencies, builds the pinned local servers
# (cached outside the repo), starts them, builds the services and runs every jest test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)
step() { printf '\n[test] %s (+%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "install dependencies"
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

step "proto dependencies and build"
bash scripts/proto-deps.sh
npm run --silent build

step "local infrastructure"
# The services' gRPC ports (50051 and up, plus the offsets test stacks use) lie inside Linux's
# ephemeral range: keep outgoing connections off them so a test's listener never finds its port
# taken by some client's source port. Best effort: needs root, as on our machines and CI.
sysctl -qw net.ipv4.ip_local_reserved_ports=50000-51999 2>/dev/null || echo "[test] could not reserve ports 50000-51999; a port clash is possible"
bash scripts/infra.sh up
LEADMESH_CHROMIUM=$(bash scripts/chromium.sh)
export LEADMESH_CHROMIUM
if [ "${LEADMESH_KEEP_INFRA:-}" != 1 ]; then trap 'bash scripts/infra.sh down' EXIT; fi

step "unit, integration and contract tests"
npm run --silent jest -- --ci --selectProjects fast

step "end-to-end tests (the five services as processes)"
npm run --silent jest -- --ci --runInBand --selectProjects stack

step "done in $(( $(date +%s) - start ))s"
