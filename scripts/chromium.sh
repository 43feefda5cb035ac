#!/usr/bin/env bash
# Prints the path of Debian's chromium for Playwright's executablePath, installing the package first
# when it is missing and we may (root with apt-get). Playwright's own browser download cannot reach its
# host from our machines, so the browser tests drive the distribution's build instead.
set -euo pipefail
find_chromium() { command -v chromium || command -v chromium-browser || true; }
path=$(find_chromium)
if [ -z "$path" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  printf '[chromium] installing chromium from Debian packages\n' >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) >&2
  path=$(find_chromium)
fi
[ -n "$path" ] || { printf '[chromium] chromium is required for the browser tests (apt-get install chromium)\n' >&2; exit 1; }
echo "$path"
