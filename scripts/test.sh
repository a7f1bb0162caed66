#!/usr/bin/env bash
# The whole test suite: lint, format, strict types, layer contracts, then every test.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy --strict"; mypy src dev tests
echo "== import-linter"; lint-imports
echo "== pytest"; pytest "$@"
