"""provenance of clinical facts imported from an EHR export or spreadsheet

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('imported_fact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('source_file', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('resource_ids', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('imported_on', sa.Date(), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('imported_fact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_fact_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('imported_fact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_fact_patient_id'))
    op.drop_table('imported_fact')
