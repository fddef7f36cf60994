#!/usr/bin/env bash
# CI: the PostgreSQL server the store tests start on loopback (tests/conftest.py,
# jupyter_sleeptime/testing/postgres.py): Debian's `postgresql` package. Its cluster service
# is not started; each test session makes its own cluster in a temporary folder.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends postgresql
fi
ls -d /usr/lib/postgresql/*/bin
