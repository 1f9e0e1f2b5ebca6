"""REMS settings come from the environment, with the label/REMS defaults."""

from __future__ import annotations

import pytest

from desk.rems.config import RemsSettings, load_rems_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DESK_REMS_PMF_DUE_DAYS", "DESK_REMS_MIN_MONITORING_MINUTES", "DESK_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_rems_settings()
    assert settings == RemsSettings(timezone="America/New_York")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_REMS_PMF_DUE_DAYS", "5")
    monkeypatch.setenv("DESK_TIMEZONE", "America/Chicago")
    settings = load_rems_settings()
    assert (settings.pmf_due_days, settings.timezone) == (5, "America/Chicago")


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_REMS_DEVICE_SPACING_MINUTES", "five")
    with pytest.raises(ValueError, match="DESK_REMS_DEVICE_SPACING_MINUTES must be a whole number"):
        load_rems_settings()
