#!/usr/bin/env bash
# Debian's Chromium for the browser tests and the inbox benchmark, which drive it through
# playwright-core (never a browser download). Installs it only when missing.
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
echo "install-browser: installing Debian's chromium" >&2
sudo=(); [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
