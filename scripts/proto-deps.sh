#!/usr/bin/env bash
# Unpacks buf/validate/validate.proto into .proto-deps/ (git-ignored) so buf can compile proto/, and
# places grpc/health/v1/health.proto beside it.
# The file comes from the protovalidate release on Maven Central, fetched with Maven and cached
# outside the repo; the buf schema registry is not reachable from our build machines.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=1.3.0
cache=${LEADMESH_CACHE:-$HOME/.cache/leadmesh}/protovalidate-$version
target=$root/.proto-deps/buf/validate/validate.proto

if [ ! -f "$cache/buf/validate/validate.proto" ]; then
  mkdir -p "$cache"
  mvn -q -B dependency:copy -Dartifact="build.buf:protovalidate:$version" -DoutputDirectory="$cache" >&2
  (cd "$cache" && unzip -q -o "protovalidate-$version.jar" 'buf/validate/validate.proto')
fi
mkdir -p "$(dirname "$target")"
cmp -s "$cache/buf/validate/validate.proto" "$target" 2>/dev/null || cp "$cache/buf/validate/validate.proto" "$target"

# grpc.health.v1, as shipped by the grpc-health-check package: its descriptor is what server
# reflection serves, so grpcurl can call the health check without .proto files.
health=$root/.proto-deps/grpc/health/v1/health.proto
mkdir -p "$(dirname "$health")"
cmp -s "$root/node_modules/grpc-health-check/proto/health/v1/health.proto" "$health" 2>/dev/null \
  || cp "$root/node_modules/grpc-health-check/proto/health/v1/health.proto" "$health"
