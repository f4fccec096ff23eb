#!/usr/bin/env bash
# What the dashboard's browser tests (pytest -m browser) need beyond the Python extras: a browser.
# Playwright comes from PyPI with the dev extra, but `playwright install` downloads its own
# browser builds, which this CI cannot fetch; the tests launch Debian's chromium instead
# (executable_path=/usr/bin/chromium). Without it they skip and say why.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
else
    echo "warning: no apt-get; the dashboard's browser tests will be skipped and say why" >&2
fi
