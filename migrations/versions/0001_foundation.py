"""foundation: sites, prescribers, users, patients, clinical record, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 17:41:08.593050
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from desk.audit import audit_trigger_sql


revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fields', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_entity'), ['entity'], unique=False)

    op.create_table('site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('address_line', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('zip_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fax', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('npi', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rems_setting_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rems_certified_on', sa.Date(), nullable=True),
    sa.Column('authorized_representative', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_name'), ['name'], unique=True)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('roles', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_sign_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_username'), ['username'], unique=True)

    op.create_table('prescriber',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('credentials', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('npi', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('specialty', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fax', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prescriber', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescriber_npi'), ['npi'], unique=True)

    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('mrn', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('middle_initial', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dob', sa.Date(), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('address_line', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('zip_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('prescriber_id', sa.Integer(), nullable=True),
    sa.Column('aneurysmal_vascular_disease', sa.Boolean(), nullable=True),
    sa.Column('intracerebral_hemorrhage_history', sa.Boolean(), nullable=True),
    sa.Column('esketamine_hypersensitivity', sa.Boolean(), nullable=True),
    sa.Column('psychosis_history', sa.Boolean(), nullable=True),
    sa.Column('substance_use', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('substance_remission_since', sa.Date(), nullable=True),
    sa.Column('concurrent_therapies', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('prior_esketamine', sa.Boolean(), nullable=True),
    sa.Column('prior_esketamine_improvement_pct', sa.Float(), nullable=True),
    sa.Column('pdmp_checked_on', sa.Date(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['prescriber_id'], ['prescriber.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'mrn', name='uq_patient_site_mrn')
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_last_name'), ['last_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_mrn'), ['mrn'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_site_id'), ['site_id'], unique=False)

    op.create_table('coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('plan_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('benefit', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('group_number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rx_bin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rx_pcn', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rx_group', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_payer_id'), ['payer_id'], unique=False)

    op.create_table('current_medication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('drug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('daily_dose_mg', sa.Float(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('current_medication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_current_medication_patient_id'), ['patient_id'], unique=False)

    op.create_table('diagnosis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('icd10', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('episode_start', sa.Date(), nullable=True),
    sa.Column('episode_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('psychotic_features', sa.Boolean(), nullable=False),
    sa.Column('diagnosis_method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('dsm_edition', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('diagnosed_on', sa.Date(), nullable=True),
    sa.Column('acute_suicidal_ideation', sa.Boolean(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagnosis_patient_id'), ['patient_id'], unique=False)

    op.create_table('inpatient_stay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('admitted_on', sa.Date(), nullable=False),
    sa.Column('discharged_on', sa.Date(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('esketamine_started', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inpatient_stay', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inpatient_stay_patient_id'), ['patient_id'], unique=False)

    op.create_table('medication_trial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('drug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('daily_dose_mg', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('adherence_pct', sa.Float(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('improvement_pct', sa.Float(), nullable=True),
    sa.Column('current_episode', sa.Boolean(), nullable=False),
    sa.Column('at_max_tolerated_dose', sa.Boolean(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('medication_trial', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medication_trial_patient_id'), ['patient_id'], unique=False)

    op.create_table('psychotherapy_trial',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('modality', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('current_episode', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('psychotherapy_trial', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psychotherapy_trial_patient_id'), ['patient_id'], unique=False)

    op.create_table('rating_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('instrument', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rating_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_score_patient_id'), ['patient_id'], unique=False)


    # The audit trail is append-only at the database level as well.
    for statement in audit_trigger_sql(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('rating_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_score_patient_id'))

    op.drop_table('rating_score')
    with op.batch_alter_table('psychotherapy_trial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psychotherapy_trial_patient_id'))

    op.drop_table('psychotherapy_trial')
    with op.batch_alter_table('medication_trial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_medication_trial_patient_id'))

    op.drop_table('medication_trial')
    with op.batch_alter_table('inpatient_stay', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inpatient_stay_patient_id'))

    op.drop_table('inpatient_stay')
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagnosis_patient_id'))

    op.drop_table('diagnosis')
    with op.batch_alter_table('current_medication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_current_medication_patient_id'))

    op.drop_table('current_medication')
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_payer_id'))
        batch_op.drop_index(batch_op.f('ix_coverage_patient_id'))

    op.drop_table('coverage')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_site_id'))
        batch_op.drop_index(batch_op.f('ix_patient_mrn'))
        batch_op.drop_index(batch_op.f('ix_patient_last_name'))

    op.drop_table('patient')
    with op.batch_alter_table('prescriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescriber_npi'))

    op.drop_table('prescriber')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_username'))
        batch_op.drop_index(batch_op.f('ix_user_email'))

    op.drop_table('user')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_name'))

    op.drop_table('site')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_entity'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
