#!/usr/bin/env bash
# `npm run lint`: ESLint (type-aware), dependency-cruiser (layering, cycles,
# orphans) and knip (unused files, exports, dependencies). The three run side
# by side (ESLint takes one core, the other two share the second); each one's
# report is printed whole, and the step fails if any of them fails.
set -uo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

npx eslint --max-warnings 0 . >"$out/eslint" 2>&1 &
eslint=$!
{ npx depcruise src test bench --config .dependency-cruiser.cjs --output-type err >"$out/depcruise" 2>&1; echo $? >"$out/depcruise.rc"
  npx knip --no-progress --treat-config-hints-as-errors >"$out/knip" 2>&1; echo $? >"$out/knip.rc"; } &
others=$!

wait "$eslint"; eslint_rc=$?
wait "$others"

failed=0
for tool in eslint depcruise knip; do
  case $tool in
    eslint) rc=$eslint_rc ;;
    *) rc=$(cat "$out/$tool.rc") ;;
  esac
  if [ "$rc" != 0 ]; then
    failed=1
    echo "lint: $tool found problems:" >&2
    cat "$out/$tool" >&2
  fi
done
[ "$failed" = 0 ] && echo "lint: ESLint, dependency-cruiser and knip pass"
exit "$failed"
