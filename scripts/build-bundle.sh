#!/usr/bin/env bash
# Compiles policies/ to WebAssembly into bundle/ (policy.wasm, data.json, .manifest).
# The manifest's revision is the digest of the policy sources, and the manifest records the
# SHA-256 of policy.wasm and data.json (metadata.countersign.files), which the server checks at
# every load and reload. The bundle is rebuilt only when bundle/ does not hold a sealed bundle
# of the sources' revision, unless --force.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
opa="$root/.tools/bin/opa"
[[ -x "$opa" ]] || bash scripts/toolchain/build.sh

revision="$(node scripts/policy-revision.mjs policies)"
if [[ "${1:-}" != "--force" ]] && node scripts/bundle-seal.mjs check bundle "$revision"; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$opa" build -t wasm -e countersign/approval/decision -e countersign/approval/read_context_keys --revision "$revision" \
  --ignore '*_test.rego' --ignore '*_test.json' --ignore '*_test.yaml' --ignore '*_test.yml' -o "$work/bundle.tar.gz" policies
tar -xzf "$work/bundle.tar.gz" -C "$work" /policy.wasm /data.json /.manifest 2>/dev/null \
  || tar -xzf "$work/bundle.tar.gz" -C "$work"
node scripts/bundle-seal.mjs seal "$work"
mkdir -p bundle
# Replace atomically: a running server watching bundle/ must never read a half-written file.
for name in data.json policy.wasm .manifest; do
  cp "$work/$name" "bundle/.$name.tmp"
  mv -f "bundle/.$name.tmp" "bundle/$name"
done
echo "bundle: built revision $revision" >&2
