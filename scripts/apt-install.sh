#!/usr/bin/env bash
# Installs Debian packages for the project's own set-ups (tests, benchmarks): as root directly,
# otherwise through sudo without a prompt, so that a missing right fails instead of hanging.
set -euo pipefail
(($# > 0)) || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
sudo=(); [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
