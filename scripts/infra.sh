#!/usr/bin/env bash
# Local infrastructure for leadmesh: NATS (JetStream), FerretDB (PostgreSQL backend), Jaeger v2, Mailpit,
# and Prometheus (127.0.0.1:9090) scraping the five services with the project's alert rules loaded.
#
#   scripts/infra.sh build   build the pinned servers from tools/infra into the cache (skipped when cached)
#   scripts/infra.sh up      build if needed, start every server on loopback, wait until each is ready
#   scripts/infra.sh down    stop what `up` started
#   scripts/infra.sh bin     print the folder holding the built binaries
#   scripts/infra.sh nats-credentials   make the local NATS users and TLS certificate if missing, print their folder
#   scripts/infra.sh nats-command       the command line `up` starts nats-server with
#   scripts/infra.sh prometheus-bin   the same for prometheus and promtool (tools/prometheus)
#
# Binaries are cached outside the repo, keyed by the Go module's content, so a warm machine skips
# the build. LEADMESH_CACHE moves the cache; LEADMESH_RUN moves pid files, logs and data.
#
# FerretDB runs on PostgreSQL (Debian's postgresql package, installed here when missing and we are
# root) because its SQLite backend scans a whole collection for any filter other than a bare _id and
# rewrites the table on updates: measured, the pipeline ran 3.3x faster on PostgreSQL (bench/README.md).
# LEADMESH_FERRETDB_BACKEND=sqlite keeps the SQLite backend; the code works on both.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LEADMESH_CACHE:-$HOME/.cache/leadmesh}
run=${LEADMESH_RUN:-$cache/run}
mod=$root/tools/infra

key=$(cat "$mod/go.mod" "$mod/go.sum" $(find "$mod/cmd" -type f -name '*.go' | sort) | sha256sum | cut -c1-16)
bin=$cache/bin-$key

# Prometheus has a Go module of its own: its dependencies would otherwise move the pins the other
# servers are built against.
prom_mod=$root/tools/prometheus
prom_key=$(cat "$prom_mod/go.mod" "$prom_mod/go.sum" $(find "$prom_mod/cmd" -type f -name '*.go' | sort) | sha256sum | cut -c1-16)
prom_bin=$cache/prometheus-bin-$prom_key

backend=${LEADMESH_FERRETDB_BACKEND:-postgresql}
pg_port=${LEADMESH_PG_PORT:-15432}
# FerretDB 1.24 holds a query's connection while its write takes a second one, so a pool smaller
# than twice the updates in flight deadlocks it for good (measured: 8 concurrent updates hang a pool
# of 4; the default pool of 50 hung under the five services' 5 x 20 client connections). 250 covers
# every client pool twice over, for the shared FerretDB and a chaos test's own one alike.
pg_url="postgres://postgres@127.0.0.1:$pg_port/ferretdb?pool_max_conns=250"
# PostgreSQL will not run as root and cannot reach a data folder under root's home.
if [ "$(id -u)" = 0 ]; then pg_data=${LEADMESH_PG_DATA:-/var/lib/postgresql/leadmesh}; else pg_data=${LEADMESH_PG_DATA:-$run/postgres}; fi

log() { printf '[infra] %s\n' "$*" >&2; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing PostgreSQL from Debian's packages"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -n "$dir" ] || { log "PostgreSQL is required for FerretDB's backend (apt-get install postgresql)"; exit 1; }
  echo "$dir"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# For a server that outlives this script: the descriptors above 2 it would inherit belong to the caller.
close_inherited_fds() {
  for fd in /proc/self/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
}

postgres_up() {
  if port_open "$pg_port"; then log "postgres: port $pg_port already serving, leaving it as it is"; return 0; fi
  local pgbin; pgbin=$(pg_bin)
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_data"; [ "$(id -u)" = 0 ] && chown postgres "$pg_data"
    as_pg "$pgbin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  # A local, disposable store: durable against a crashed process, not a crashed machine. Custom
  # plans let FerretDB's prepared lookups use the indexes deploy/local/postgres-ferretdb.sql adds.
  # PostgreSQL outlives this script as well (pg_ctl starts it in the background).
  (
    close_inherited_fds
    as_pg "$pgbin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 start -o \
        "-p $pg_port -k $pg_data -c listen_addresses=127.0.0.1 -c max_connections=800 -c synchronous_commit=off -c plan_cache_mode=force_custom_plan" >/dev/null
  )
  as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1 \
    || as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres ferretdb
  as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d ferretdb -q -v ON_ERROR_STOP=1 -f - <"$root/deploy/local/postgres-ferretdb.sql" >/dev/null
  echo "$pg_data" >"$run/postgres.data"
  log "postgres ready"
}

postgres_down() {
  [ -f "$run/postgres.data" ] || return 0
  local data; data=$(cat "$run/postgres.data")
  as_pg "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 && log "postgres stopped"
  rm -f "$run/postgres.data"
}

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

build_prometheus() {
  if [ -x "$prom_bin/prometheus" ] && [ -x "$prom_bin/promtool" ] && [ -x "$prom_bin/rule-selectors" ]; then
    return 0
  fi
  command -v go >/dev/null || { log "Go is required to build Prometheus"; exit 1; }
  log "building Prometheus and promtool into $prom_bin (first run on this machine takes a few minutes)"
  local tmp="$prom_bin.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  # remove_all_sd leaves out the cloud service discoveries (AWS, Azure, GCE, Kubernetes...), most of
  # the build: locally Prometheus only reads static targets. The web UI's assets are not embedded
  # (they are built with npm by Prometheus's own Makefile); the HTTP API answers without them.
  (cd "$prom_mod" && GOFLAGS=-mod=readonly nice -n 10 go build -tags remove_all_sd -trimpath -o "$tmp/" \
      github.com/prometheus/prometheus/cmd/prometheus \
      github.com/prometheus/prometheus/cmd/promtool \
      ./cmd/rule-selectors)
  rm -rf "$prom_bin"; mv "$tmp" "$prom_bin"
  log "built: $(ls "$prom_bin" | tr '\n' ' ')"
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
  # The server outlives this script: it must not keep any file descriptor the caller holds open
  # (a test's flock lock, a pipe a CI runner waits on), or the caller's lock is never released.
  (
    close_inherited_fds
    exec nohup "$@" >"$run/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$run/$name.pid"
}

# The backbone's users and TLS (scripts/nats-credentials.ts): made once, kept in the run folder,
# never in the repo. The services and tests find them there (test/harness/nats.ts).
nats_credentials() {
  # The certificates are made with openssl, which a minimal machine may lack.
  if ! command -v openssl >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing openssl from Debian's packages"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null) >&2
  fi
  "$root/node_modules/.bin/node" "$root/scripts/nats-credentials.ts" "$run/nats-auth" >/dev/null
}

# nats-server's command: the local configuration, its certificate and the users' public keys.
nats_command() {
  # shellcheck disable=SC2046
  echo env $(cat "$run/nats-auth/users.env") LEADMESH_NATS_STORE="$run/nats" \
    LEADMESH_NATS_TLS_CERT="$run/nats-auth/server.crt" LEADMESH_NATS_TLS_KEY="$run/nats-auth/server.key" \
    "$bin/nats-server" -c "$root/deploy/local/nats.conf"
}

up() {
  build
  mkdir -p "$run/nats" "$run/ferretdb" "$run/mailpit"
  nats_credentials
  # A NATS this script started before the backbone was locked (no TLS, no users) is replaced by the
  # locked one: services and tests now connect with TLS and their own users only.
  if port_open 4222 && [ -f "$run/nats.pid" ] && ! curl -fsS http://127.0.0.1:8222/varz 2>/dev/null | grep -q '"auth_required": *true'; then
    local old; old=$(cat "$run/nats.pid")
    log "nats: restarting the server started without TLS and users (pid $old) with the locked configuration"
    kill "$old" 2>/dev/null || true
    for _ in $(seq 1 100); do port_open 4222 || break; sleep 0.1; done
  fi
  # shellcheck disable=SC2046
  start nats 4222 $(nats_command)
  if [ "$backend" = postgresql ]; then
    postgres_up
    start ferretdb 27017 "$bin/ferretdb" --listen-addr 127.0.0.1:27017 --handler postgresql --postgresql-url "$pg_url"
  else
    start ferretdb 27017 "$bin/ferretdb" --listen-addr 127.0.0.1:27017 --handler sqlite --sqlite-url "file:$run/ferretdb/"
  fi
  start jaeger 4317 "$bin/jaeger" --config "file:$root/deploy/local/jaeger.yaml"
  start mailpit 1025 "$bin/mailpit" --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025 --database "$run/mailpit/mailpit.db" \
      --smtp-auth-accept-any --smtp-auth-allow-insecure --disable-version-check --max 5000
  wait_for nats curl -fsS "http://127.0.0.1:8222/healthz?js-enabled-only=true"
  wait_for ferretdb port_open 27017
  wait_for jaeger curl -fsS "http://127.0.0.1:13133/status"
  wait_for jaeger-query curl -fsS "http://127.0.0.1:16686/api/services"
  wait_for mailpit curl -fsS "http://127.0.0.1:8025/livez"
  build_prometheus
  mkdir -p "$run/prometheus"
  start prometheus 9090 "$prom_bin/prometheus" --config.file="$root/deploy/local/prometheus.yaml" \
      --storage.tsdb.path="$run/prometheus" --storage.tsdb.retention.time=2d \
      --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle
  wait_for prometheus curl -fsS "http://127.0.0.1:9090/-/ready"
}

down() {
  for name in prometheus mailpit jaeger ferretdb nats; do
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
  postgres_down
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  bin) build; echo "$bin" ;;
  nats-credentials) nats_credentials; echo "$run/nats-auth" ;;
  nats-command) build >&2; nats_credentials; nats_command ;;
  prometheus-bin) build_prometheus; echo "$prom_bin" ;;
  store-url) # what a test's own FerretDB should use as its backend
    if [ "$backend" = postgresql ]; then echo "$pg_url"; else echo sqlite; fi ;;
  *) echo "usage: $0 build|up|down|bin|nats-credentials|prometheus-bin|store-url" >&2; exit 2 ;;
esac
