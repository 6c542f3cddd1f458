#!/usr/bin/env bash
# Fail when frontend/src/api/schema.d.ts is not what the current OpenAPI schema generates.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
committed="$root/frontend/src/api/schema.d.ts"
fresh="$(mktemp --suffix=.d.ts)"
trap 'rm -f "$fresh"' EXIT
"$root/scripts/gen_api_types.sh" "$fresh"
if ! diff -q "$committed" "$fresh" >/dev/null 2>&1; then
  echo "frontend/src/api/schema.d.ts is stale: the API schema changed." >&2
  echo "Run 'npm run gen:api' in frontend/ and commit the result." >&2
  diff -u "$committed" "$fresh" | head -40 >&2 || true
  exit 1
fi
echo "API types are up to date."
