#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs the service. Without
# NATS_URL the service starts its own nats-server from nats.conf (store under
# ./data/) and stops it on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PATH:/usr/sbin"
npx tsc -p tsconfig.build.json
# A young generation of 64 MiB semi-spaces: fewer scavenges per webhook (docs/benchmarks.md).
exec node --enable-source-maps --max-semi-space-size=64 dist/src/main.js
