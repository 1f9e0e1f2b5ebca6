"""Security settings that live outside the code paths other tests exercise.

Streamlit's XSRF protection is on and error details are hidden; the upload limit is the same number in
Streamlit's config, the desk's settings and the start script; no secret is written into the repository
(secrets come from the environment or an untracked secrets.toml). Lockout and idle sign-out are tested in
tests/desk/test_auth.py and tests/ui/test_sign_in.py; passwords in logs by tests/e2e/test_zz_phi_logs.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from desk.demo import DEMO_PASSWORD
from desk.pdf.inspect import PdfLimits, limits_from_settings
from desk.settings import SECRET_KEY_MISSING, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"


def _config() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_xsrf_protection_is_on_and_errors_are_not_shown() -> None:
    config = _config()
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["fileWatcherType"] == "none", "a running desk must not hot-reload source files"
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.parametrize("path", ["scripts/run.sh", "scripts/test.sh", ".ci/run", "app.py", "server.py"])
def test_nothing_turns_xsrf_protection_off(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not re.search(r"enableXsrfProtection\W+false", text, re.IGNORECASE)


def test_upload_limit_is_one_number_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESK_UPLOAD_MAX_MB", raising=False)
    default_mb = load_settings().upload_max_mb
    assert _config()["server"]["maxUploadSize"] == default_mb == Settings.upload_max_mb
    assert PdfLimits().max_bytes == default_mb * 1024 * 1024
    # The start script hands the clinic's DESK_UPLOAD_MAX_MB to Streamlit, so the two cannot drift apart.
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    expected = f'--server.maxUploadSize "${{DESK_UPLOAD_MAX_MB:-{default_mb}}}"'
    assert expected in run, run
    monkeypatch.setenv("DESK_UPLOAD_MAX_MB", "7")
    assert limits_from_settings(load_settings()).max_bytes == 7 * 1024 * 1024
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `DESK_UPLOAD_MAX_MB` | `{default_mb}` |" in readme
    assert f"client_max_body_size {default_mb}m" in readme


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESK_SECRET_KEY", raising=False)
    assert load_settings().secret_key == ""
    monkeypatch.setenv("DESK_SECRET_KEY", "from-the-environment")
    assert load_settings().secret_key == "from-the-environment"


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_secret_files_are_not_tracked_and_are_ignored() -> None:
    names = [str(path.relative_to(ROOT)) for path in _tracked_files()]
    offenders = [n for n in names if re.search(r"(^|/)(secrets\.toml|\.env(\..*)?|.*\.(pem|key|p12|pfx))$", n)]
    assert offenders == []
    ignored = subprocess.run(["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=ROOT)
    assert ignored.returncode == 0, "add .streamlit/secrets.toml to .gitignore"


# Anywhere in the repository: key material, cloud keys, password hashes, credentials inside URLs.
ALWAYS = [
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("an AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("a GitHub or Slack token", re.compile(r"\b(ghp_[A-Za-z0-9]{30,}|xox[bap]-[A-Za-z0-9-]{10,})")),
    ("an argon2 or bcrypt hash", re.compile(r"\$argon2(id|i|d)\$v=\d+\$m=\d+|\$2[aby]\$\d\d\$[./A-Za-z0-9]{50}")),
    ("a password inside a URL", re.compile(r"\w+://[^\s/:@'\"]+:(?!PASSWORD@|password@)[^\s/@'\"]{3,}@")),
]
# Outside tests/: a password, secret, token or key written as a literal value.
LITERAL = re.compile(
    r"""(?ix)\b[\w.-]*(password|passwd|secret|token|api[_-]?key|client[_-]?secret|cookie[_-]?secret)[\w-]*
        ["']?\s*[:=]\s*["']([^"'\s]{4,})["']"""
)
# Values that name a setting or a placeholder rather than being one.
NOT_SECRETS = {DEMO_PASSWORD, "DESK_PASSWORD", "DESK_SECRET_KEY", "password", "current-password", "new-password"}


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_secret_is_written_into_the_repository() -> None:
    findings = []
    for path in _tracked_files():
        text = _text(path)
        if text is None:
            continue
        relative = str(path.relative_to(ROOT))
        for number, line in enumerate(text.splitlines(), start=1):
            findings += [f"{relative}:{number}: {what}" for what, pattern in ALWAYS if pattern.search(line)]
            if relative.startswith("tests/"):
                continue  # synthetic passwords of test accounts
            for match in LITERAL.finditer(line):
                if match.group(2) not in NOT_SECRETS:
                    findings.append(f"{relative}:{number}: a literal {match.group(1).lower()}")
    assert findings == [], "\n".join(findings)


def test_the_demo_password_appears_only_where_it_is_documented() -> None:
    # The sign-in page shows it beside the demo accounts, in demo mode only.
    allowed = {"desk/auth.py", "ui/sign_in.py", "README.md",
               "bench/bench_ui_latency.py", "tests/e2e/conftest.py", "tests/e2e/test_zz_phi_logs.py",
               "tests/test_security.py"}
    holders = {str(path.relative_to(ROOT)) for path in _tracked_files()
               if (text := _text(path)) is not None and DEMO_PASSWORD in text}
    assert holders <= allowed, sorted(holders - allowed)


def test_start_script_listens_on_loopback_unless_told_otherwise() -> None:
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert '--server.address "${DESK_ADDRESS:-127.0.0.1}"' in run
    assert "| `DESK_ADDRESS` | `127.0.0.1` |" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_server_refuses_to_start_without_a_secret_key_outside_demo_mode(tmp_path: Path) -> None:
    env = {**os.environ, "DESK_DEMO": "0", "DESK_SECRET_KEY": "", "DESK_DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    run = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.headless", "true",
         "--server.port", "1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert SECRET_KEY_MISSING in run.stdout + run.stderr
    assert not (tmp_path / "desk.sqlite3").exists()
