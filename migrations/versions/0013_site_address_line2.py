"""site address line 2 (suite, floor), which the REMS Patient Monitoring Form's setting address needs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 21:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('site') as batch:
        batch.add_column(sa.Column('address_line2', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('site') as batch:
        batch.drop_column('address_line2')
