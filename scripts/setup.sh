#!/usr/bin/env bash
# Set up everything resumeflow needs on this machine, idempotently:
#   system packages (Tesseract for OCR; redis-server and PostgreSQL, which the tests start
#   themselves on free ports) and a virtualenv in .venv with the project and its dev tools, at
#   the versions pinned in requirements/lock.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "resumeflow needs Python 3.11 or newer (found: $("$python" --version 2>&1))." >&2
  exit 1
fi

need=()
command -v tesseract >/dev/null || need+=(tesseract-ocr tesseract-ocr-eng)
tesseract --list-langs 2>/dev/null | grep -qx chi_sim || need+=(tesseract-ocr-chi-sim)  # Chinese resumes
command -v redis-server >/dev/null || need+=(redis-server)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing system packages; install them with:" >&2
    echo "  sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

# The exact versions of requirements/lock.txt (scripts/lock.sh makes it), then the project itself
# without resolving anything again.
stamp=.venv/.resumeflow-installed
want=$(cat requirements/lock.txt pyproject.toml dev/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements/lock.txt
  .venv/bin/python -m pip install -q --no-deps -e '.[dev]' -e ./dev
  echo "$want" > "$stamp"
fi
