#!/usr/bin/env bash
# Install the runtime packages (locked, hash-checked) and start the desk on its embedded SQLite database (demo data
# on first run). It listens on 127.0.0.1 only; set DESK_ADDRESS (e.g. 0.0.0.0) to serve a LAN behind a TLS proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
exec python3 -m streamlit run server.py --server.address "${DESK_ADDRESS:-127.0.0.1}" --server.port "${PORT:-8501}" \
  --server.maxUploadSize "${DESK_UPLOAD_MAX_MB:-20}" "$@"
