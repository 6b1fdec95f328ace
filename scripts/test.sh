#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks, lints, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
npx tsc -p tsconfig.json --noEmit
bash scripts/lint.sh
npx mocha "$@"
