#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: install the Python
# requirements and Debian's chromium (for the browser tests), lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
  else
    echo "No /usr/bin/chromium and no apt-get: the browser tests will be skipped." >&2
  fi
fi
echo "set-up done in ${SECONDS} s"
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
