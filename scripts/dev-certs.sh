#!/usr/bin/env bash
# Development certificates for TLS and mutual TLS between the services: a throw-away CA, a server
# certificate for 127.0.0.1/localhost and a client certificate. Never for production.
#   scripts/dev-certs.sh [folder]     (default .cache/certs, git-ignored)
set -euo pipefail
out=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/certs}
mkdir -p "$out"
cd "$out"
days=30
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -keyout ca.key -out ca.crt -subj "/CN=leadmesh development CA" 2>/dev/null
issue() { # name, subject CN, extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -out "$1.crt" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server "leadmesh services" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
issue client "service:crm-sync" "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
echo "$out"
