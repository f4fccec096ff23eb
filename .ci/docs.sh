#!/usr/bin/env bash
# Build the documentation site strictly: any warning (a broken link or anchor, a page missing
# from the nav, an API name mkdocstrings cannot find) fails the build. Installs the docs extra.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q -e ".[docs]"
export NO_MKDOCS_2_WARNING=1
mkdocs build --strict -f docs/mkdocs/mkdocs.yml --site-dir "${1:-$PWD/build/site}"
