"""Get a database ready to serve: migrate, and load demo data into an empty one when enabled."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.database import make_engine, migrate
from desk.errors import StartRefused
from desk.models import User
from desk.settings import Settings
from desk.users import accounts_with_demo_password


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
    if not settings.demo:
        refuse_published_demo_passwords(engine)
    return engine


def refuse_published_demo_passwords(engine: Engine) -> None:
    """Outside demo mode, no active account may still sign in with the demo password printed in the README."""
    with Session(engine) as session:
        names = accounts_with_demo_password(session)
    if names:
        first = names[0]
        raise StartRefused(
            f"DESK_DEMO=0 but these active accounts still have the published demo password: {', '.join(names)}. "
            f"Give each a new password (DESK_PASSWORD=... python -m desk users password --username {first}) or "
            f"deactivate it (python -m desk users deactivate --username {first}), then start again."
        )
