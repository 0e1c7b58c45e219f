#!/usr/bin/env bash
# npm test: the whole suite against a real Docker engine and registry, set up first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# A fresh clone has no node_modules: install exactly the locked versions.
[ -d node_modules/.bin ] || npm ci --no-audit --no-fund

bash scripts/test-env.sh up
# shellcheck disable=SC1091
source "${LWF_TEST_DIR:-/tmp/lwf-test}/env"

NODE_OPTIONS=--experimental-vm-modules NODE_NO_WARNINGS=1 npx jest "$@"
