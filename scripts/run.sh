#!/usr/bin/env bash
# One command from a fresh clone to the running app: install, then `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec .venv/bin/python -m streamlit run streamlit_app.py "$@"
