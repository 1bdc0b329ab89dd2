#!/usr/bin/env bash
# Brings a checkout to a runnable state, doing only what is out of date:
# npm dependencies (from the lockfile), the pinned OPA/Regal toolchain (Go module proxy),
# the policy bundle (when the policy sources changed) and the compiled TypeScript.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The Go toolchain build and the npm install (which compiles native SQLite drivers) are the slow
# steps of a fresh clone and use different tools: run them side by side.
bash scripts/toolchain/build.sh &
toolchain_pid=$!

lock_digest="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f node_modules/.countersign-lock || "$(cat node_modules/.countersign-lock)" != "$lock_digest" ]]; then
  echo "setup: installing npm dependencies from the lockfile" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_digest" > node_modules/.countersign-lock
fi

wait "$toolchain_pid" || { echo "setup: building the OPA/Regal toolchain failed" >&2; exit 1; }
bash scripts/build-bundle.sh
npx tsc -p tsconfig.build.json

# The approvals inbox (web/, with the SDK core it imports), built into dist/web, which the server
# serves at /. Rebuilt only when its sources changed.
web_digest="$(cat package-lock.json $(find web src/client src/domain -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.graphql' \) -not -path 'web/node_modules/*' | sort) | sha256sum | cut -d' ' -f1)"
if [[ ! -f dist/web/index.html || ! -f dist/web/.countersign-digest || "$(cat dist/web/.countersign-digest)" != "$web_digest" ]]; then
  echo "setup: building the approvals inbox" >&2
  npx vite build --config web/vite.config.ts --logLevel warn
  echo "$web_digest" > dist/web/.countersign-digest
fi
