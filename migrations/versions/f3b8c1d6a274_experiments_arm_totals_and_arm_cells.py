"""experiments: arm totals, and attendance arm cells the experiment pages read

Each arm's assigned total (kept by the assigner) and the outcomes of each arm's
appointments per clinic and day, so that experiment pages no longer join every
assignment to its appointment. The totals of existing experiments are counted here
once; their arm cells are built the first time a page asks for them.

Revision ID: f3b8c1d6a274
Revises: c4a7e2d9f813
Create Date: 2026-12-06 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8c1d6a274'
down_revision = 'c4a7e2d9f813'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('experiment_arms',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('arm', sa.String(length=32), nullable=False),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_arms_experiment_id_experiments')),
    sa.PrimaryKeyConstraint('experiment_id', 'arm', name=op.f('pk_experiment_arms'))
    )
    op.execute(
        "INSERT INTO experiment_arms (experiment_id, arm, assigned) "
        "SELECT experiment_id, arm, count(*) FROM experiment_assignments "
        "GROUP BY experiment_id, arm"
    )
    op.create_table('attendance_experiments',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_attendance_experiments_experiment_id_experiments')),
    sa.PrimaryKeyConstraint('experiment_id', name=op.f('pk_attendance_experiments'))
    )
    op.create_table('attendance_arm_cells',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('arm', sa.String(length=32), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=False),
    sa.Column('dna', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('withdrawn', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_attendance_arm_cells_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_attendance_arm_cells_experiment_id_experiments')),
    sa.PrimaryKeyConstraint('clinic_id', 'day', 'experiment_id', 'arm', name=op.f('pk_attendance_arm_cells'))
    )
    with op.batch_alter_table('attendance_arm_cells', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_arm_cells_experiment_id', ['experiment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attendance_arm_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_arm_cells_experiment_id')

    op.drop_table('attendance_arm_cells')
    op.drop_table('attendance_experiments')
    op.drop_table('experiment_arms')
