"""facts version per patient (and one for rows shared by many patients), read by the evaluation cache

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:40:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('facts_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('facts_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facts_version_scope'), ['scope'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('facts_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facts_version_scope'))

    op.drop_table('facts_version')
