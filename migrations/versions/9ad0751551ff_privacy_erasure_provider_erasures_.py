"""privacy: erasure, provider erasures, retention period

Revision ID: 9ad0751551ff
Revises: 7c4e2a91d5b3
Create Date: 2026-12-06 08:25:19.975616

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9ad0751551ff'
down_revision = '7c4e2a91d5b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('message', 'call', name='erasurekind', native_enum=False, length=16), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', 'voice', 'web', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Enum('pending', 'done', 'abandoned', name='erasurestate', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_outcome', sa.String(length=16), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_provider_erasures_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_provider_erasures_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_erasures')),
    sa.UniqueConstraint('provider_sid', 'kind', name=op.f('uq_provider_erasures_provider_sid_kind'))
    )
    with op.batch_alter_table('provider_erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_erasures_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_erasures_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_provider_erasures_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='13', nullable=False))

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('retention_months')

    with op.batch_alter_table('provider_erasures', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_erasures_state_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_provider_erasures_patient_id'))
        batch_op.drop_index(batch_op.f('ix_provider_erasures_clinic_id'))

    op.drop_table('provider_erasures')
