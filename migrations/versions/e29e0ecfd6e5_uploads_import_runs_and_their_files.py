"""uploads: import runs and their files

Revision ID: e29e0ecfd6e5
Revises: 9ad0751551ff
Create Date: 2026-12-06 08:27:42.042867

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e29e0ecfd6e5'
down_revision = '9ad0751551ff'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('patients', 'appointments', 'outcomes', 'fhir', name='importkind', native_enum=False, length=16), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.Column('file_bytes', sa.Integer(), nullable=False),
    sa.Column('strict', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'imported', 'refused', 'failed', name='importstate', native_enum=False, length=16), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('bad_rows', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('problems', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_import_runs_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_import_runs_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index('ix_import_runs_clinic_id_created_at', ['clinic_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_user_id'), ['user_id'], unique=False)

    op.create_table('import_uploads',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], name=op.f('fk_import_uploads_run_id_import_runs')),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_import_uploads'))
    )


def downgrade():
    op.drop_table('import_uploads')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_user_id'))
        batch_op.drop_index('ix_import_runs_clinic_id_created_at')

    op.drop_table('import_runs')
