#!/usr/bin/env bash
# Builds the pinned OPA and Regal binaries from the Go module proxy into .tools/bin.
# Each tool lives in its own Go module because their dependency graphs disagree
# (Regal pins an older gobwas/glob than OPA's newest release needs).
# A binary already built at the pinned version is reused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$root/scripts/toolchain/versions.env"
bin="$root/.tools/bin"
mkdir -p "$bin"

build_tool() {
  local name="$1" module="$2" version="$3"
  local stamp="$bin/.$name.version"
  if [[ -x "$bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    return 0
  fi
  local pinned
  pinned="$(cd "$root/scripts/toolchain/$name" && go list -m -f '{{.Version}}' "$module")"
  if [[ "$pinned" != "$version" ]]; then
    echo "toolchain: $name is pinned to $version in versions.env but $pinned in scripts/toolchain/$name/go.mod" >&2
    exit 1
  fi
  echo "toolchain: building $name $version from the Go module proxy" >&2
  (cd "$root/scripts/toolchain/$name" && GOFLAGS=-mod=mod go build -trimpath -o "$bin/$name" "$module")
  echo "$version" > "$stamp"
}

build_tool opa github.com/open-policy-agent/opa "$OPA_VERSION"
build_tool regal github.com/open-policy-agent/regal "$REGAL_VERSION"
