#!/usr/bin/env bash
# Compiles policies/ to WebAssembly into bundle/ (policy.wasm, data.json, .manifest).
# The manifest's revision is the digest of the policy sources; the bundle is rebuilt
# only when that digest differs from the one already in bundle/.manifest, unless --force.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
opa="$root/.tools/bin/opa"
[[ -x "$opa" ]] || bash scripts/toolchain/build.sh

revision="$(node scripts/policy-revision.mjs policies)"
if [[ "${1:-}" != "--force" && -f bundle/.manifest ]] && grep -q "\"revision\":\"$revision\"" bundle/.manifest; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$opa" build -t wasm -e countersign/approval/decision --revision "$revision" \
  --ignore '*_test.rego' --ignore '*_test.json' --ignore '*_test.yaml' --ignore '*_test.yml' -o "$work/bundle.tar.gz" policies
tar -xzf "$work/bundle.tar.gz" -C "$work" /policy.wasm /data.json /.manifest 2>/dev/null \
  || tar -xzf "$work/bundle.tar.gz" -C "$work"
# Replace atomically: a running server watching bundle/ must never read a half-written file.
for name in data.json policy.wasm .manifest; do
  cp "$work/$name" "bundle/.$name.tmp"
  mv -f "bundle/.$name.tmp" "bundle/$name"
done
echo "bundle: built revision $revision" >&2
