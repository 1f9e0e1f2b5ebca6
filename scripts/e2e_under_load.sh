#!/usr/bin/env bash
# Run the browser tests while every core is kept busy, to prove they wait for state and not for time.
# Uses Debian's stress-ng (installed when missing); pytest arguments pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v stress-ng >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null
fi
workers=$(nproc)
stress-ng --cpu "$workers" --cpu-load 100 --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null || true' EXIT
echo "stress-ng: $workers CPU workers at 100 % while the browser tests run"
python3 -m pytest -m e2e -p no:cacheprovider "$@"
