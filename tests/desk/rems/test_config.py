"""REMS settings come from the environment, with the label/REMS defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.cli import main
from desk.rems.config import RemsSettingRefused, RemsSettings, load_rems_settings


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
    with pytest.raises(RemsSettingRefused, match="DESK_REMS_DEVICE_SPACING_MINUTES must be a whole number"):
        load_rems_settings()


LOOSER = [
    ("DESK_REMS_MIN_MONITORING_MINUTES", "30", "must be at least 120 minutes"),
    ("DESK_REMS_MIN_MONITORING_MINUTES", "119", "must be at least 120 minutes"),
    ("DESK_REMS_PMF_DUE_DAYS", "30", "must be at most 7 days"),
    ("DESK_REMS_PMF_DUE_DAYS", "8", "must be at most 7 days"),
    ("DESK_REMS_PMF_DUE_DAYS", "0", "must be a positive whole number"),
    ("DESK_REMS_DEVICE_SPACING_MINUTES", "0", "must be at least 5 minutes"),
    ("DESK_REMS_DEVICE_SPACING_MINUTES", "4", "must be at least 5 minutes"),
]


@pytest.mark.parametrize(("name", "value", "message"), LOOSER)
def test_a_looser_rems_limit_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str,
                                                             value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(RemsSettingRefused, match=name) as refused:
        load_rems_settings()
    assert message in str(refused.value)


def test_stricter_rems_limits_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_REMS_MIN_MONITORING_MINUTES", "150")
    monkeypatch.setenv("DESK_REMS_PMF_DUE_DAYS", "3")
    monkeypatch.setenv("DESK_REMS_DEVICE_SPACING_MINUTES", "6")
    settings = load_rems_settings()
    assert (settings.min_monitoring_minutes, settings.pmf_due_days, settings.device_spacing_minutes) == (150, 3, 6)


@pytest.mark.parametrize("command", [["init"], ["demo"], ["payers", "list"], ["export", "--help"]])
def test_every_command_refuses_to_start_with_a_looser_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            command: list[str]) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DESK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DESK_REMS_MIN_MONITORING_MINUTES", "30")
    if command[-1] == "--help":
        command = ["rems", "forms", "--start", "2026-01-01", "--end", "2026-01-02", "--user", "nurse", "--out",
                   str(tmp_path / "forms.pdf")]
    assert main(command) == 1
    assert "DESK_REMS_MIN_MONITORING_MINUTES=30" in capsys.readouterr().err
    assert not data_dir.exists() and not (tmp_path / "forms.pdf").exists()
