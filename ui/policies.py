"""The payer policy catalog for the running app, reloaded when a file in the payers folder changes."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from desk.policies.drugs import default_drugs
from desk.policies.loader import PolicyCatalog, load_catalog, policy_files
from desk.settings import load_settings


def _signature(folder: Path) -> tuple[tuple[str, float, int], ...]:
    files = policy_files([folder]) if folder.is_dir() else []
    return tuple((f.name, f.stat().st_mtime, f.stat().st_size) for f in files)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(folder: str, _signature: tuple[tuple[str, float, int], ...]) -> PolicyCatalog:
    return load_catalog([Path(folder)], drugs=default_drugs())


def policy_catalog() -> PolicyCatalog:
    """Policies are data, not PHI: cached per folder and file signature, so an edited file shows on the next run."""
    folder = load_settings().payers_dir
    return _load(str(folder), _signature(folder))


def reload_catalog() -> None:
    """Forget every cached catalog, so the next read takes each file as it is now."""
    _load.clear()
