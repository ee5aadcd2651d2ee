"""worklist: items staff have marked handled

Revision ID: 7c4e2a91d5b3
Revises: 2513dd896a94
Create Date: 2026-12-06 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e2a91d5b3'
down_revision = '2513dd896a94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handled_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('flagged_reply', 'rebook_request', 'cancellation', 'opt_out', 'failed_message', name='workkind', native_enum=False, length=24), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('handled_by_user_id', sa.Integer(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_handled_items_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['handled_by_user_id'], ['staff_users.id'], name=op.f('fk_handled_items_handled_by_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handled_items')),
    sa.UniqueConstraint('kind', 'record_id', name=op.f('uq_handled_items_kind_record_id'))
    )
    with op.batch_alter_table('handled_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_items_clinic_id'), ['clinic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('handled_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handled_items_clinic_id'))

    op.drop_table('handled_items')
