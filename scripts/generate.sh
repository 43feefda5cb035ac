#!/usr/bin/env bash
# Regenerates packages/contracts/src/gen from proto/ with protoc-gen-es: the one way the TypeScript
# contracts are made. With a folder argument, writes there instead (the freshness test compares).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/proto-deps.sh
base=${1:-.}
rm -rf "$base/packages/contracts/src/gen"
npx buf generate --template buf.gen.yaml -o "$base"
# The Go client is generated from the same proto/ (its own template and pinned plugins).
if [ "$base" = . ]; then bash clients/go/generate.sh; fi
