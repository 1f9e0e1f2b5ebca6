"""patient facts payer policies ask about: psychiatric consultation, treated substance use, esketamine start,
concurrent-therapy screening date

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 18:30:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('substance_treated', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('concurrent_therapies_screened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('esketamine_started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('psychiatric_consult_on', sa.Date(), nullable=True))
        # Existing rows get an empty name (no consultation recorded).
        batch_op.add_column(sa.Column('psychiatric_consultant', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_column('psychiatric_consultant')
        batch_op.drop_column('psychiatric_consult_on')
        batch_op.drop_column('esketamine_started_on')
        batch_op.drop_column('concurrent_therapies_screened_on')
        batch_op.drop_column('substance_treated')
