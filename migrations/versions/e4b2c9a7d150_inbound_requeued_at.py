"""inbound messages: when the clock last queued one again

Revision ID: e4b2c9a7d150
Revises: d71f3a0c5e29
Create Date: 2026-12-06 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b2c9a7d150'
down_revision = 'd71f3a0c5e29'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requeued_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('requeued_at')
