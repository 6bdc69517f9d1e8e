#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: install the Python
# requirements and the Debian packages the tests drive, lint, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
# Debian packages the tests drive: chromium (browser tests), redis-server (shared stores).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing ${missing[*]} and no apt-get: the tests that need them will be skipped." >&2
  fi
fi
echo "set-up done in ${SECONDS} s"
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
