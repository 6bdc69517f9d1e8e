#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: install the Python
# requirements and the Debian packages the tests use (chromium for the browser
# tests, redis-server), lint, then pytest on two workers.
#
# Arguments go to pytest: `bash scripts/test.sh -m "not slow and not browser"` is the
# quick tier. CNNVIZ_TEST_WORKERS sets the number of pytest workers (0: one process,
# for --pdb or -s).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
apt_pid=""
apt_log=""
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # in the background: it downloads and unpacks while pip does the same
    apt_log=$(mktemp)
    (export DEBIAN_FRONTEND=noninteractive
     apt-get update -qq && apt-get install -y -qq "${missing[@]}") >"$apt_log" 2>&1 &
    apt_pid=$!
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "No apt-get to install ${missing[*]}: the browser tests will be skipped." >&2
  fi
fi
bash scripts/setup.sh requirements-dev.txt
if [ -n "$apt_pid" ] && ! wait "$apt_pid"; then
  cat "$apt_log" >&2
  echo "apt-get install ${missing[*]} failed" >&2
  exit 1
fi
[ -z "$apt_log" ] || rm -f "$apt_log"
echo "set-up done in ${SECONDS} s"
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
# --dist loadfile: a module's fixtures (trained models, AppTest pages, the browser
# tests' one server) are built on one worker only; modules go out in collection
# order, which conftest.py starts with the long browser module
exec .venv/bin/python -m pytest -n "${CNNVIZ_TEST_WORKERS:-2}" --dist loadfile \
  --no-loadscope-reorder "$@"
