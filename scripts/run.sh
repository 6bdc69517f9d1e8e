#!/usr/bin/env bash
# One command from a fresh clone to the running app: install, then `streamlit run`.
# Once the server answers, one request to its script health check runs the home page
# once, which starts the warm-up (cnnviz/ui/warm.py): the first student does not wait
# for the models to load and trace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
port=8501
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --server.port=*) port="${args[$i]#*=}" ;;
    --server.port) port="${args[$((i + 1))]:-$port}" ;;
  esac
done
.venv/bin/python -m cnnviz.ui.warm "http://127.0.0.1:$port" &
exec .venv/bin/python -m streamlit run streamlit_app.py "$@"
