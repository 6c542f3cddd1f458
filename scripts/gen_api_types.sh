#!/usr/bin/env bash
# Write the front end's API types from the OpenAPI schema that Django serves
# (manage.py spectacular → openapi-typescript). No network: both run locally.
# Usage: scripts/gen_api_types.sh [OUT]   (default: frontend/src/api/schema.d.ts)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/frontend/src/api/schema.d.ts}"
schema="$(mktemp --suffix=.yaml)"
trap 'rm -f "$schema"' EXIT
(cd "$root" && .venv/bin/python manage.py spectacular --file "$schema")
(cd "$root/frontend" && node_modules/.bin/openapi-typescript "$schema" --output "$out" >/dev/null)
