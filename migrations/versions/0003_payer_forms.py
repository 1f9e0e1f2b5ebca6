"""payer forms: payers' own fillable PDFs with their field maps

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 18:30:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('payer_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('field_map_yaml', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payer_id', 'revision', name='uq_payer_form_revision')
    )
    with op.batch_alter_table('payer_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payer_form_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payer_form_sha256'), ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payer_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payer_form_sha256'))
        batch_op.drop_index(batch_op.f('ix_payer_form_payer_id'))
    op.drop_table('payer_form')
