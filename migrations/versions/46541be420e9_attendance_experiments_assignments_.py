"""attendance: experiments, assignments, decisions

Reminder-wording experiments with their deterministic assignments and recorded
decisions, and the pre-aggregated attendance tables the DNA reports read.

Revision ID: 46541be420e9
Revises: 55e6ba73163f
Create Date: 2026-11-22 05:59:30.554404

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '46541be420e9'
down_revision = '55e6ba73163f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_watermark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_watermark'))
    )
    op.create_table('experiment_assignments',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('arm', sa.String(length=32), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('appointment_id', 'experiment_id', name=op.f('pk_experiment_assignments'))
    )
    op.create_table('experiments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('clinic_ids', sa.JSON(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('arms', sa.JSON(), nullable=False),
    sa.Column('primary_outcome', sa.String(length=16), nullable=False),
    sa.Column('planned_n_per_arm', sa.Integer(), nullable=False),
    sa.Column('alpha', sa.Double(), nullable=False),
    sa.Column('power', sa.Double(), nullable=False),
    sa.Column('baseline', sa.Double(), nullable=False),
    sa.Column('min_difference', sa.Double(), nullable=False),
    sa.Column('looks', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'stopped', 'shipped', name='experimentstatus', native_enum=False, length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_experiments_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments')),
    sa.UniqueConstraint('slug', name=op.f('uq_experiments_slug'))
    )
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiments_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('attendance_cells',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=False),
    sa.Column('dna', sa.Integer(), nullable=False),
    sa.Column('cancelled_patient', sa.Integer(), nullable=False),
    sa.Column('cancelled_clinic', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('rebooked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_attendance_cells_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', 'day', 'dimension', 'level', name=op.f('pk_attendance_cells'))
    )
    with op.batch_alter_table('attendance_cells', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_cells_all', ['clinic_id', 'day'], unique=False, postgresql_where=sa.text("dimension = 'all'"), postgresql_include=['attended', 'dna'], sqlite_where=sa.text("dimension = 'all'"))

    op.create_table('attendance_months',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_attendance_months_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', 'month', name=op.f('pk_attendance_months'))
    )
    op.create_table('experiment_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('analysis', sa.JSON(), nullable=False),
    sa.Column('n_per_arm', sa.Integer(), nullable=False),
    sa.Column('information_fraction', sa.Double(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_decisions_experiment_id_experiments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_decisions'))
    )
    with op.batch_alter_table('experiment_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_decisions_experiment_id'), ['experiment_id'], unique=False)

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_clinic_id_starts_at', ['clinic_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_updated_at', ['updated_at'], unique=False)

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_messages_reminder_updated_at', ['updated_at'], unique=False, postgresql_where=sa.text("kind = 'reminder'"), sqlite_where=sa.text("kind = 'reminder'"))

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index('ix_patients_updated_at', ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('ix_patients_updated_at')

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_reminder_updated_at', postgresql_where=sa.text("kind = 'reminder'"), sqlite_where=sa.text("kind = 'reminder'"))

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_updated_at')
        batch_op.drop_index('ix_appointments_clinic_id_starts_at')

    with op.batch_alter_table('experiment_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_decisions_experiment_id'))

    op.drop_table('experiment_decisions')
    op.drop_table('attendance_months')
    with op.batch_alter_table('attendance_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_cells_all', postgresql_where=sa.text("dimension = 'all'"), postgresql_include=['attended', 'dna'], sqlite_where=sa.text("dimension = 'all'"))

    op.drop_table('attendance_cells')
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiments_organisation_id'))

    op.drop_table('experiments')
    op.drop_table('experiment_assignments')
    op.drop_table('attendance_watermark')
