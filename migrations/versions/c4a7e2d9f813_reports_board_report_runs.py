"""reports: board report runs made by a job, with their PDF

Revision ID: c4a7e2d9f813
Revises: bb9028a89375
Create Date: 2026-12-06 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7e2d9f813'
down_revision = 'bb9028a89375'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('board_report_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('reach', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'ready', 'failed', name='reportstate', native_enum=False, length=16), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_bytes', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('board_report_runs', schema=None) as batch_op:
        batch_op.create_index('ix_board_report_runs_user_id_created_at', ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('board_report_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_board_report_runs_user_id_created_at')

    op.drop_table('board_report_runs')
