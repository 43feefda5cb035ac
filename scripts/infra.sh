#!/usr/bin/env bash
# Local infrastructure for leadmesh: NATS (JetStream), FerretDB (SQLite backend), Jaeger v2, Mailpit.
#
#   scripts/infra.sh build   build the pinned servers from tools/infra into the cache (skipped when cached)
#   scripts/infra.sh up      build if needed, start every server on loopback, wait until each is ready
#   scripts/infra.sh down    stop what `up` started
#   scripts/infra.sh bin     print the folder holding the built binaries
#
# Binaries are cached outside the repo, keyed by the Go module's content, so a warm machine skips
# the build. LEADMESH_CACHE moves the cache; LEADMESH_RUN moves pid files, logs and data.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LEADMESH_CACHE:-$HOME/.cache/leadmesh}
run=${LEADMESH_RUN:-$cache/run}
mod=$root/tools/infra

key=$(cat "$mod/go.mod" "$mod/go.sum" $(find "$mod/cmd" -type f -name '*.go' | sort) | sha256sum | cut -c1-16)
bin=$cache/bin-$key

log() { printf '[infra] %s\n' "$*" >&2; }

build() {
  if [ -x "$bin/nats-server" ] && [ -x "$bin/ferretdb" ] && [ -x "$bin/jaeger" ] && [ -x "$bin/mailpit" ] \
     && [ -x "$bin/grpcurl" ] && [ -x "$bin/grpc-health-probe" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "Go is required to build the local servers"; exit 1; }
  log "building pinned servers into $bin (first run on this machine takes a few minutes)"
  local tmp="$bin.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$mod" && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/" \
      github.com/nats-io/nats-server/v2 \
      github.com/jaegertracing/jaeger/cmd/jaeger \
      github.com/axllent/mailpit \
      github.com/fullstorydev/grpcurl/cmd/grpcurl \
      github.com/grpc-ecosystem/grpc-health-probe \
      ./cmd/ferretdb)
  rm -rf "$bin"; mv "$tmp" "$bin"
  log "built: $(ls "$bin" | tr '\n' ' ')"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, check command...
  local name=$1; shift
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then log "$name ready"; return 0; fi
    sleep 0.2
  done
  log "$name did not become ready; its log:"; tail -n 30 "$run/$name.log" >&2 || true
  return 1
}

start() { # name, port, command...
  local name=$1 port=$2; shift 2
  if port_open "$port"; then
    log "$name: port $port already serving, leaving it as it is"
    return 0
  fi
  nohup "$@" >"$run/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
}

up() {
  build
  mkdir -p "$run/nats" "$run/ferretdb" "$run/mailpit"
  LEADMESH_NATS_STORE="$run/nats" start nats 4222 "$bin/nats-server" -c "$root/deploy/local/nats.conf"
  start ferretdb 27017 "$bin/ferretdb" --listen-addr 127.0.0.1:27017 --handler sqlite --sqlite-url "file:$run/ferretdb/"
  start jaeger 4317 "$bin/jaeger" --config "file:$root/deploy/local/jaeger.yaml"
  start mailpit 1025 "$bin/mailpit" --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025 --database "$run/mailpit/mailpit.db" \
      --smtp-auth-accept-any --smtp-auth-allow-insecure --disable-version-check --max 5000
  wait_for nats curl -fsS "http://127.0.0.1:8222/healthz?js-enabled-only=true"
  wait_for ferretdb port_open 27017
  wait_for jaeger curl -fsS "http://127.0.0.1:13133/status"
  wait_for jaeger-query curl -fsS "http://127.0.0.1:16686/api/services"
  wait_for mailpit curl -fsS "http://127.0.0.1:8025/livez"
}

down() {
  for name in mailpit jaeger ferretdb nats; do
    local pidfile="$run/$name.pid"
    [ -f "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      log "$name stopped"
    fi
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  bin) build; echo "$bin" ;;
  *) echo "usage: $0 build|up|down|bin" >&2; exit 2 ;;
esac
