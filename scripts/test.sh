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
bash scripts/infra.sh up
if [ "${LEADMESH_KEEP_INFRA:-}" != 1 ]; then trap 'bash scripts/infra.sh down' EXIT; fi

step "unit, integration and contract tests"
npm run --silent jest -- --ci --selectProjects fast

step "end-to-end tests (the five services as processes)"
npm run --silent jest -- --ci --runInBand --selectProjects stack

step "done in $(( $(date +%s) - start ))s"
