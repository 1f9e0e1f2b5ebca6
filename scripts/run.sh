#!/usr/bin/env bash
# Install the runtime packages and start the desk on its embedded SQLite database (demo data on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec python3 -m streamlit run server.py --server.port "${PORT:-8501}" --server.maxUploadSize "${DESK_UPLOAD_MAX_MB:-20}" "$@"
