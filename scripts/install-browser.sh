#!/usr/bin/env bash
# Debian's Chromium for the browser tests and the inbox benchmark, which drive it through
# playwright-core (never a browser download). Installs it only when missing.
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
echo "install-browser: installing Debian's chromium" >&2
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium
