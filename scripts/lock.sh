#!/usr/bin/env bash
# Re-resolve requirements/lock.txt, the exact versions scripts/setup.sh installs, from
# pyproject.toml (the runtime dependencies and the dev extra; dev/pyproject.toml needs only
# resumeflow itself). The pins already in the lock are kept unless asked otherwise:
#   scripts/lock.sh                          add what pyproject.toml gained, keep the rest
#   scripts/lock.sh --upgrade-package NAME   move one package (and what it needs) to its newest
#   scripts/lock.sh --upgrade                move everything to its newest
# uv runs from a throwaway virtualenv, never the project's.
set -euo pipefail
cd "$(dirname "$0")/.."

uv=$(command -v uv || true)
if [ -z "$uv" ]; then
  tools=$(mktemp -d)
  trap 'rm -rf "$tools"' EXIT
  "${PYTHON:-python3}" -m venv "$tools"
  "$tools/bin/python" -m pip install -q uv
  uv=$tools/bin/uv
fi

"$uv" pip compile pyproject.toml --extra dev \
  --universal --python-version 3.11 \
  --custom-compile-command scripts/lock.sh \
  --output-file requirements/lock.txt --quiet "$@"
echo "requirements/lock.txt written; what changed: git diff requirements/lock.txt"
