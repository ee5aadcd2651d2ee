"""results: every question's figures in snapshots, snapshots found by place, and one
version number per service (pathway) rather than per organisation

Revision ID: b7d3e5a1c920
Revises: 768e74a2c55f
Create Date: 2026-12-06 10:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e5a1c920'
down_revision = '768e74a2c55f'
branch_labels = None
depends_on = None


def upgrade():
    # Null in the versions computed before every question was estimated.
    with op.batch_alter_table('result_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions', sa.JSON(), nullable=True))
        batch_op.create_index('ix_result_snapshots_place', ['scope', 'scope_id', 'scope_key'], unique=False)
        # Two pathways of one organisation each have their own version 1.
        batch_op.drop_constraint('uq_result_snapshots_survey_slug_scope_scope_id_period_version', type_='unique')
        batch_op.create_unique_constraint(
            'uq_result_snapshots_place_period_version',
            ['survey_slug', 'scope', 'scope_id', 'scope_key', 'period', 'version'],
        )


def downgrade():
    with op.batch_alter_table('result_snapshots', schema=None) as batch_op:
        batch_op.drop_constraint('uq_result_snapshots_place_period_version', type_='unique')
        batch_op.create_unique_constraint(
            'uq_result_snapshots_survey_slug_scope_scope_id_period_version',
            ['survey_slug', 'scope', 'scope_id', 'period', 'version'],
        )
        batch_op.drop_index('ix_result_snapshots_place')
        batch_op.drop_column('questions')
