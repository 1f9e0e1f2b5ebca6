"""Cached engine and settings for the running app (no PHI is ever cached here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from desk.bootstrap import prepare_database
from desk.database import unit_of_work
from desk.settings import Settings, load_settings


@st.cache_resource(show_spinner="Preparing the database…")
def get_engine() -> Engine:
    return prepare_database(load_settings())


def get_settings() -> Settings:
    return load_settings()


@contextmanager
def work(actor: str) -> Iterator[Session]:
    """One unit of work for the signed-in user (commits on success)."""
    with unit_of_work(get_engine(), actor=actor) as session:
        yield session
