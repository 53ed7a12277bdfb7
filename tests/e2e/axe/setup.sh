#!/usr/bin/env bash
# Install axe-core, as pinned in package-lock.json, into tests/e2e/axe/node_modules: the browser
# tests load its axe.min.js into each page they check. A no-op when it is there already.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "axe setup: npm not found (Debian package npm): run scripts/install-system-deps.sh" >&2
  exit 2
fi
if ! cmp -s package-lock.json node_modules/.package-lock.stamp 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.stamp
fi
