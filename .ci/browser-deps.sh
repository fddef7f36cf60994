#!/usr/bin/env bash
# CI: what the browser end-to-end test (tests/test_browser.py) needs besides the venv:
# Debian's Chromium (Playwright drives it through `executablePath`, no browser download)
# and playwright-core in ui-tests/ (pinned by ui-tests/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
fi
/usr/bin/chromium --version

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "browser-deps: node and npm are needed (the extension build needs Node >= 20.19 too)" >&2
    exit 1
fi
node --version

cd ui-tests
# playwright-core has no install script and downloads no browser.
npm ci --no-audit --no-fund
