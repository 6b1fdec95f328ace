#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
npx tsc -p tsconfig.json --noEmit
npx mocha "$@"
