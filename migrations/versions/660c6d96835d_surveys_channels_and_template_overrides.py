"""surveys, channels and template overrides

Survey versions, sessions and answers; clinic template overrides; the clinic's survey
settings and WhatsApp templates (existing clinics get the defaults); the appointment's
pathway; and, on the outbox, the survey session, the fallback link and the channel in
the reminder uniqueness (a fallback is a second row on another channel).

Revision ID: 660c6d96835d
Revises: 35d01e6e7f69
Create Date: 2026-11-22 04:26:25.552457

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '660c6d96835d'
down_revision = '35d01e6e7f69'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_survey_versions_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_versions')),
    sa.UniqueConstraint('owner', 'slug', 'digest', name=op.f('uq_survey_versions_owner_slug_digest')),
    sa.UniqueConstraint('owner', 'slug', 'version', name=op.f('uq_survey_versions_owner_slug_version'))
    )
    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_versions_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('template_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_template_overrides_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_overrides')),
    sa.UniqueConstraint('clinic_id', 'kind', 'locale', name=op.f('uq_template_overrides_clinic_id_kind_locale'))
    )
    with op.batch_alter_table('template_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_overrides_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('survey_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('survey_version_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Enum('open', 'completed', 'expired', 'opted_out', 'undelivered', name='sessionstate', native_enum=False, length=16), nullable=False),
    sa.Column('current_question', sa.String(length=40), nullable=True),
    sa.Column('reasks', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_survey_sessions_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_survey_sessions_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_survey_sessions_patient_id_patients')),
    sa.ForeignKeyConstraint(['survey_version_id'], ['survey_versions.id'], name=op.f('fk_survey_sessions_survey_version_id_survey_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_sessions'))
    )
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_sessions_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_sessions_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_survey_sessions_patient_state', ['patient_id', 'state'], unique=False)
        batch_op.create_index('ix_survey_sessions_state_expires_at', ['state', 'expires_at'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('survey_version_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('raw_text', sa.Text(), nullable=True),
    sa.Column('raw_locale', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['survey_sessions.id'], name=op.f('fk_survey_answers_session_id_survey_sessions')),
    sa.ForeignKeyConstraint(['survey_version_id'], ['survey_versions.id'], name=op.f('fk_survey_answers_survey_version_id_survey_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('session_id', 'question_id', name=op.f('uq_survey_answers_session_id_question_id'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_survey_version_id'), ['survey_version_id'], unique=False)

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pathway', sa.String(length=64), nullable=True))

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_slug', sa.String(length=64), nullable=False, server_default='fft'))
        batch_op.add_column(sa.Column('survey_delay_minutes', sa.Integer(), nullable=False, server_default='120'))
        batch_op.add_column(sa.Column('survey_window_minutes', sa.Integer(), nullable=False, server_default='1440'))
        batch_op.add_column(sa.Column('survey_interval_days', sa.Integer(), nullable=False, server_default='30'))
        batch_op.add_column(sa.Column('survey_session_hours', sa.Integer(), nullable=False, server_default='48'))
        batch_op.add_column(sa.Column('survey_suppressed_pathways', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('whatsapp_templates', sa.JSON(), nullable=False, server_default='{}'))

    # The JSON defaults only fill existing rows; the application supplies them afterwards.
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.alter_column('survey_suppressed_pathways', server_default=None)
        batch_op.alter_column('whatsapp_templates', server_default=None)

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fallback_for_id', sa.Integer(), nullable=True))
        batch_op.drop_index('uq_outbound_messages_reminder_plan')
        batch_op.create_index('uq_outbound_messages_reminder_plan', ['appointment_id', 'rule', 'plan_version', 'channel'], unique=True, postgresql_where=sa.text("kind = 'reminder'"), sqlite_where=sa.text("kind = 'reminder'"))
        batch_op.create_index(batch_op.f('ix_outbound_messages_survey_session_id'), ['survey_session_id'], unique=False)
        batch_op.create_index('uq_outbound_messages_survey_invite', ['appointment_id', 'channel'], unique=True, postgresql_where=sa.text("kind = 'survey_invite'"), sqlite_where=sa.text("kind = 'survey_invite'"))
        batch_op.create_foreign_key(batch_op.f('fk_outbound_messages_fallback_for_id_outbound_messages'), 'outbound_messages', ['fallback_for_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbound_messages_survey_session_id_survey_sessions'), 'survey_sessions', ['survey_session_id'], ['id'])



def downgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_messages_survey_session_id_survey_sessions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbound_messages_fallback_for_id_outbound_messages'), type_='foreignkey')
        batch_op.drop_index('uq_outbound_messages_survey_invite', postgresql_where=sa.text("kind = 'survey_invite'"), sqlite_where=sa.text("kind = 'survey_invite'"))
        batch_op.drop_index(batch_op.f('ix_outbound_messages_survey_session_id'))
        batch_op.drop_index('uq_outbound_messages_reminder_plan', postgresql_where=sa.text("kind = 'reminder'"), sqlite_where=sa.text("kind = 'reminder'"))
        batch_op.create_index('uq_outbound_messages_reminder_plan', ['appointment_id', 'rule', 'plan_version'], unique=True, postgresql_where=sa.text("kind = 'reminder'"), sqlite_where=sa.text("kind = 'reminder'"))
        batch_op.drop_column('fallback_for_id')
        batch_op.drop_column('survey_session_id')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('whatsapp_templates')
        batch_op.drop_column('survey_suppressed_pathways')
        batch_op.drop_column('survey_session_hours')
        batch_op.drop_column('survey_interval_days')
        batch_op.drop_column('survey_window_minutes')
        batch_op.drop_column('survey_delay_minutes')
        batch_op.drop_column('survey_slug')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('pathway')

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_survey_version_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_session_id'))

    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_sessions_state_expires_at')
        batch_op.drop_index('ix_survey_sessions_patient_state')
        batch_op.drop_index(batch_op.f('ix_survey_sessions_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_survey_sessions_appointment_id'))

    op.drop_table('survey_sessions')
    with op.batch_alter_table('template_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_overrides_clinic_id'))

    op.drop_table('template_overrides')
    with op.batch_alter_table('survey_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_versions_clinic_id'))

    op.drop_table('survey_versions')
