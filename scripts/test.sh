#!/usr/bin/env bash
# Install everything the tests use (Python packages, Chromium, poppler, PostgreSQL where needed) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "need root to run: $*" >&2; return 1; fi; }

python3 -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
# Fonts the form tests render and fill with: ZapfDingbats for checkmarks (poppler), Noto CJK for Chinese names,
# Noto Ethiopic as a font added through DESK_FALLBACK_FONTS.
fc-list 2>/dev/null | grep -q D050000L || missing+=(fonts-urw-base35)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf ] || missing+=(fonts-noto-core)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pg_ready() { python3 - <<'PY'
import sys, psycopg
try:
    psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}
if [ "${CI:-}" = "true" ] || [ "${DESK_REQUIRE_POSTGRES:-}" = "1" ]; then
  export DESK_REQUIRE_POSTGRES=1
  if ! pg_ready; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /etc/postgresql | sort -n | tail -1)
    conf=/etc/postgresql/$version/main/pg_hba.conf
    # Local test server only: trust connections from this machine, as the project's machines do.
    grep -q "^host all all 127.0.0.1/32 trust" "$conf" || as_root sed -i '1i host all all 127.0.0.1/32 trust' "$conf"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    for _ in $(seq 30); do pg_ready && break; sleep 1; done
  fi
fi

python3 -m ruff check .
python3 -m mypy
python3 -m pytest "$@"
