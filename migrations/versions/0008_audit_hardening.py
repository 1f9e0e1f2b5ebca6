"""audit trail: PostgreSQL refuses TRUNCATE of audit_event (row-level triggers do not fire on TRUNCATE)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:00:00.000000
"""
from typing import Sequence, Union

from alembic import op

from desk.audit import audit_truncate_guard_sql

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # SQLite has no TRUNCATE: its DELETE trigger (0001) also stops the truncate optimisation.
    if op.get_bind().dialect.name == 'postgresql':
        for statement in audit_truncate_guard_sql():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_no_truncate()")
