#!/usr/bin/env bash
# The one test command (README, `npm test` and .ci/run): policy checks, then the TypeScript suites.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

# The browser tests drive Debian's Chromium through playwright-core (no browser download).
bash scripts/install-browser.sh
opa="$root/.tools/bin/opa"

echo "== opa fmt" >&2
"$opa" fmt --fail --list policies
echo "== opa check --strict" >&2
"$opa" check --strict policies
echo "== regal lint" >&2
"$root/.tools/bin/regal" lint --format pretty policies
echo "== opa test (coverage >= 95%)" >&2
# The shared decision-case table sits beside the policy (policies/approval/decision_cases_test.json),
# so `opa test policies` needs no other path.
"$opa" test --coverage --threshold 95 --format json policies > /dev/null \
  || { "$opa" test -v --var-values policies; exit 1; }
"$opa" test policies

echo "== typecheck" >&2
npx tsc -p tsconfig.json --noEmit
npx tsc -p web/tsconfig.json
echo "== PostgreSQL and Redis" >&2
report="$(mktemp)"
services="$(mktemp -d)"
trap 'rm -f "$report"; bash scripts/test-services.sh down "$services"' EXIT
service_env="$(bash scripts/test-services.sh up "$services")"
eval "$service_env"
echo "== vitest" >&2
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
# One plain closing line for CI: "N passed, N failed".
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));' "$report" || true
exit "$status"
