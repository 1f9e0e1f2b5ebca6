"""documents a clinic can sign: diagnosis details may be 'not recorded', the REMS certification's end date, the
prescriber on site for each session, and the stated reason for a request outside the label or payer limits

Existing diagnoses keep their values; a detail that holds the value the form used to fill in by default is
marked not recorded (listed in diagnosis.not_recorded), since nobody can tell whether it was recorded or defaulted.
Saving the diagnosis again clears the mark.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:30:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The defaults the diagnosis columns had before this revision.
_OLD_DEFAULTS = {
    'episode_type': "'recurrent'",
    'psychotic_features': 'false',
    'diagnosis_method': "'clinical_interview'",
    'dsm_edition': "'DSM-5-TR'",
}
_TEXT = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        for name in ('episode_type', 'diagnosis_method', 'dsm_edition'):
            batch_op.alter_column(name, existing_type=_TEXT, nullable=True)
        batch_op.alter_column('psychotic_features', existing_type=sa.Boolean(), nullable=True)
        batch_op.add_column(sa.Column('not_recorded', _TEXT, nullable=False, server_default=''))
    marks = " || ".join(f"CASE WHEN {name} = {value} THEN '{name},' ELSE '' END" for name, value in _OLD_DEFAULTS.items())
    op.execute(sa.text(f"UPDATE diagnosis SET not_recorded = {marks}"))
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rems_certified_until', sa.Date(), nullable=True))
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prescriber_on_site_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_treatment_session_prescriber_on_site', 'prescriber',
                                    ['prescriber_on_site_id'], ['id'])
    with op.batch_alter_table('pa_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_reason', _TEXT, nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('pa_case', schema=None) as batch_op:
        batch_op.drop_column('schedule_reason')
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.drop_constraint('fk_treatment_session_prescriber_on_site', type_='foreignkey')
        batch_op.drop_column('prescriber_on_site_id')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('rems_certified_until')
    # The older schema cannot say "not recorded": it gets its old defaults back.
    for name, value in _OLD_DEFAULTS.items():
        op.execute(sa.text(f"UPDATE diagnosis SET {name} = {value} WHERE {name} IS NULL"))
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        batch_op.drop_column('not_recorded')
        for name in ('episode_type', 'diagnosis_method', 'dsm_edition'):
            batch_op.alter_column(name, existing_type=_TEXT, nullable=False)
        batch_op.alter_column('psychotic_features', existing_type=sa.Boolean(), nullable=False)
