#!/usr/bin/env bash
# Install the runtime packages (locked, hash-checked) and start the desk on its embedded SQLite database (demo data on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
exec python3 -m streamlit run app.py --server.port "${PORT:-8501}" --server.maxUploadSize "${DESK_UPLOAD_MAX_MB:-20}" "$@"
