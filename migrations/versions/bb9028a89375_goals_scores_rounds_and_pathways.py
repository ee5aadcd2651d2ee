"""goals: goals in the patient's words, their scores, rounds of asking before appointments,
and the pathways that use goals

Revision ID: bb9028a89375
Revises: b7d3e5a1c920
Create Date: 2026-12-06 11:06:24.994419

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bb9028a89375'
down_revision = 'b7d3e5a1c920'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('goal_pathways',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.String(length=64), nullable=False),
    sa.Column('ask_hours_before', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_goal_pathways_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_pathways')),
    sa.UniqueConstraint('clinic_id', 'pathway', name=op.f('uq_goal_pathways_clinic_id_pathway'))
    )
    with op.batch_alter_table('goal_pathways', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_pathways_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_locale', sa.String(length=16), nullable=False),
    sa.Column('translation_en', sa.Text(), nullable=True),
    sa.Column('opened_by_user_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_token_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Enum('reached', 'changed', 'dropped', name='closereason', native_enum=False, length=16), nullable=True),
    sa.Column('closed_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_goals_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['closed_by_user_id'], ['staff_users.id'], name=op.f('fk_goals_closed_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['opened_by_token_id'], ['api_tokens.id'], name=op.f('fk_goals_opened_by_token_id_api_tokens')),
    sa.ForeignKeyConstraint(['opened_by_user_id'], ['staff_users.id'], name=op.f('fk_goals_opened_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_goals_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals'))
    )
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_goals_patient_closed_at', ['patient_id', 'closed_at'], unique=False)

    op.create_table('goal_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', 'voice', 'web', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Enum('open', 'completed', 'expired', 'opted_out', 'undelivered', 'erased', name='roundstate', native_enum=False, length=16), nullable=False),
    sa.Column('current_goal_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reasks', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_goal_rounds_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_goal_rounds_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['current_goal_id'], ['goals.id'], name=op.f('fk_goal_rounds_current_goal_id_goals')),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_messages.id'], name=op.f('fk_goal_rounds_message_id_outbound_messages')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_goal_rounds_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_rounds')),
    sa.UniqueConstraint('message_id', name=op.f('uq_goal_rounds_message_id'))
    )
    with op.batch_alter_table('goal_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_rounds_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goal_rounds_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_goal_rounds_patient_state', ['patient_id', 'state'], unique=False)
        batch_op.create_index('ix_goal_rounds_state_expires_at', ['state', 'expires_at'], unique=False)

    op.create_table('goal_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'whatsapp', 'voice', 'web', name='channel', native_enum=False, length=16), nullable=True),
    sa.Column('source', sa.Enum('reply', 'keypad', 'web_form', 'staff', name='scoresource', native_enum=False, length=16), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('score >= 0 AND score <= 10', name=op.f('ck_goal_scores_score_0_to_10')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_goal_scores_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_scores_goal_id_goals')),
    sa.ForeignKeyConstraint(['round_id'], ['goal_rounds.id'], name=op.f('fk_goal_scores_round_id_goal_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_scores')),
    sa.UniqueConstraint('goal_id', 'round_id', name=op.f('uq_goal_scores_goal_id_round_id'))
    )
    with op.batch_alter_table('goal_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_scores_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goal_scores_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_goal_scores_round_id'), ['round_id'], unique=False)



def downgrade():
    with op.batch_alter_table('goal_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_scores_round_id'))
        batch_op.drop_index(batch_op.f('ix_goal_scores_goal_id'))
        batch_op.drop_index(batch_op.f('ix_goal_scores_clinic_id'))

    op.drop_table('goal_scores')
    with op.batch_alter_table('goal_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_goal_rounds_state_expires_at')
        batch_op.drop_index('ix_goal_rounds_patient_state')
        batch_op.drop_index(batch_op.f('ix_goal_rounds_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_goal_rounds_appointment_id'))

    op.drop_table('goal_rounds')
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index('ix_goals_patient_closed_at')
        batch_op.drop_index(batch_op.f('ix_goals_clinic_id'))

    op.drop_table('goals')
    with op.batch_alter_table('goal_pathways', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_pathways_clinic_id'))

    op.drop_table('goal_pathways')
