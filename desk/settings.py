"""Typed settings read from the environment (never from files in the repository)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a whole number, got {raw!r}") from exc


def _days(name: str, default: int, *, low: int, high: int) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise ValueError(f"setting {name} must be between {low} and {high} days, got {value}")
    return value


def _timezone(name: str, default: str) -> str:
    raw = (os.environ.get(name) or "").strip() or default
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"setting {name} must be an IANA time zone such as America/New_York, got {raw!r}") from exc
    return raw


def _dates(name: str) -> tuple[date, ...]:
    raw = os.environ.get(name) or ""
    days = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            days.append(date.fromisoformat(part))
        except ValueError as exc:
            raise ValueError(f"setting {name} must list dates as YYYY-MM-DD separated by commas, got {part!r}") from exc
    return tuple(sorted(days))


@dataclass(frozen=True)
class Settings:
    """Everything a clinic can configure; see the README's configuration table."""

    database_url: str
    data_dir: Path
    demo: bool = True
    secret_key: str = ""
    idle_minutes: int = 30
    session_max_hours: int = 12
    download_minutes: int = 10
    trusted_proxy: bool = False
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    upload_max_mb: int = 20
    ehr_import_max_mb: int = 50
    payers_dir: Path = field(default=PROJECT_ROOT / "payers")
    forms_dir: Path = field(default=PROJECT_ROOT / "forms")
    timezone: str = "America/New_York"
    renewal_lead_days: int = 21
    draft_idle_days: int = 7
    # Days after a denial to file an appeal. 180 is the floor for group health plans under ERISA
    # (29 CFR 2560.503-1(h)(3)(i)); Medicare plans allow 65 days (42 CFR 422.582, 423.582): payers differ.
    appeal_window_days: int = 180
    appeal_warning_days: int = 14
    business_holidays: tuple[date, ...] = ()
    fallback_fonts: tuple[Path, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def payers_folder() -> Path:
    """The folder of payer policy files (DESK_PAYERS_DIR); cheaper than load_settings() for per-row lookups."""
    return Path(os.environ.get("DESK_PAYERS_DIR", PROJECT_ROOT / "payers"))


def load_settings() -> Settings:
    """Read the settings from the process environment."""
    data_dir = Path(os.environ.get("DESK_DATA_DIR", PROJECT_ROOT / "data"))
    default_url = f"sqlite:///{data_dir / 'desk.sqlite3'}"
    return Settings(
        database_url=os.environ.get("DATABASE_URL", default_url),
        data_dir=data_dir,
        demo=_flag("DESK_DEMO", True),
        secret_key=os.environ.get("DESK_SECRET_KEY", ""),
        idle_minutes=_int("DESK_IDLE_MINUTES", 30),
        session_max_hours=_int("DESK_SESSION_MAX_HOURS", 12),
        download_minutes=_int("DESK_DOWNLOAD_MINUTES", 10),
        trusted_proxy=_flag("DESK_TRUSTED_PROXY", False),
        lockout_attempts=_int("DESK_LOCKOUT_ATTEMPTS", 5),
        lockout_minutes=_int("DESK_LOCKOUT_MINUTES", 15),
        upload_max_mb=_int("DESK_UPLOAD_MAX_MB", 20),
        ehr_import_max_mb=_int("DESK_EHR_IMPORT_MAX_MB", 50),
        payers_dir=payers_folder(),
        forms_dir=Path(os.environ.get("DESK_FORMS_DIR", PROJECT_ROOT / "forms")),
        timezone=_timezone("DESK_TIMEZONE", "America/New_York"),
        renewal_lead_days=_days("DESK_RENEWAL_LEAD_DAYS", 21, low=1, high=365),
        draft_idle_days=_int("DESK_DRAFT_IDLE_DAYS", 7),
        appeal_window_days=_days("DESK_APPEAL_WINDOW_DAYS", 180, low=1, high=730),
        appeal_warning_days=_days("DESK_APPEAL_WARNING_DAYS", 14, low=1, high=365),
        business_holidays=_dates("DESK_BUSINESS_HOLIDAYS"),
        fallback_fonts=tuple(
            Path(p.strip()) for p in (os.environ.get("DESK_FALLBACK_FONTS") or "").split(",") if p.strip()
        ),
    )


class SecretKeyMissing(ValueError):
    """The desk must not start for real use without a signing key."""


SECRET_KEY_MISSING = (
    "DESK_SECRET_KEY is empty. With DESK_DEMO=0 the desk needs a long random secret to sign sign-in "
    "cookies: set it, for example DESK_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')."
)


def require_secret_key(settings: Settings) -> str:
    """The signing key; refuses (SecretKeyMissing) an empty one outside demo mode. Empty in demo mode."""
    key = settings.secret_key.strip()
    if not key and not settings.demo:
        raise SecretKeyMissing(SECRET_KEY_MISSING)
    return key
