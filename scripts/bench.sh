#!/usr/bin/env bash
# The benchmark: builds, brings up the local infrastructure, measures the baselines (bare grpc-js
# echo, bare JetStream chain, five-hop JetStream chain writing to FerretDB) and the five services
# end to end with tracing on and off (with store calls, CPU, spans and RSS per lead and service),
# and writes bench/results/latest.{json,md,png}. About 6 minutes; --quick about 2.5 (indicative figures only).
#
#   bash scripts/bench.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

npm run --silent build
# Infrastructure someone else started is shared: only stop it afterwards if this run started all of it.
already_up=0
for port in 4222 27017 4317 1025; do port_open "$port" && already_up=1; done
bash scripts/infra.sh up
if [ "$already_up" = 0 ]; then trap 'bash scripts/infra.sh down' EXIT; fi

node_modules/.bin/node bench/run.ts "$@"
