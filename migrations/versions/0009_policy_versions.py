"""payer policy versions: the requested regimen on a PA case (first dose, sessions a week), the criterion-level
change a payer file made to an open case, and the text of each payer file as last seen

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'payer_policy_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('payer_id'),
    )
    with op.batch_alter_table('pa_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_dose_mg', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sessions_per_week', sa.Float(), nullable=True))
        # Existing cases carry no policy change.
        batch_op.add_column(sa.Column('policy_change', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('policy_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pa_case', schema=None) as batch_op:
        batch_op.drop_column('policy_changed_at')
        batch_op.drop_column('policy_change')
        batch_op.drop_column('sessions_per_week')
        batch_op.drop_column('first_dose_mg')
    op.drop_table('payer_policy_file')
