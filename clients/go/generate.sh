#!/usr/bin/env bash
# Regenerates clients/go/gen from proto/ with protoc-gen-go and protoc-gen-go-grpc (pinned in
# go.mod). With a folder argument, writes there instead (the freshness test compares).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bash scripts/proto-deps.sh
base=${1:-.}
rm -rf "$base/clients/go/gen"
npx buf generate --template clients/go/buf.gen.yaml -o "$base"
