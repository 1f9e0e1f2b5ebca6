"""Get a database ready to serve: migrate, and load demo data into an empty one when enabled."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.database import make_engine, migrate
from desk.models import User
from desk.settings import Settings


def database_is_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(User.id).limit(1)).first() is None


def prepare_database(settings: Settings) -> Engine:
    """Migrate to the newest schema; on first start with DESK_DEMO on, load the synthetic demo data; re-check
    the open cases of any payer file that changed since the last start."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    if settings.demo and database_is_empty(engine):
        from desk.demo import load_demo

        load_demo(engine)
    from desk.prior_auth.policy_changes import recheck_payer_files

    recheck_payer_files(engine, actor="system", settings=settings)
    return engine
