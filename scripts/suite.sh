#!/usr/bin/env bash
# Brings the whole suite up locally: infrastructure, the CRM simulator and the five services; sends
# a sample Contact Sales lead through and prints where to see its trace. Runs until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/proto-deps.sh
npm run --silent build
bash scripts/infra.sh up
trap 'bash scripts/infra.sh down' EXIT
node_modules/.bin/node test/harness/suite-main.ts
