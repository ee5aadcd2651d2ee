"""results store: invitations, responses and snapshots

The cohort of each survey wave (with its weighting categories), pseudonymous responses
and immutable, versioned snapshots of weighted results.

Revision ID: 55e6ba73163f
Revises: 660c6d96835d
Create Date: 2026-11-22 04:39:02.072925

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55e6ba73163f'
down_revision = '660c6d96835d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('result_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_slug', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('diagnostics', sa.JSON(), nullable=False),
    sa.Column('estimates', sa.JSON(), nullable=False),
    sa.Column('nonresponse', sa.JSON(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_snapshots')),
    sa.UniqueConstraint('survey_slug', 'scope', 'scope_id', 'period', 'version', name=op.f('uq_result_snapshots_survey_slug_scope_scope_id_period_version'))
    )
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('survey_version_id', sa.Integer(), nullable=False),
    sa.Column('survey_slug', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.String(length=64), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('respondent_key', sa.String(length=64), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=False),
    sa.Column('ethnic', sa.String(length=8), nullable=False),
    sa.Column('imd', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_survey_invitations_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_survey_invitations_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['session_id'], ['survey_sessions.id'], name=op.f('fk_survey_invitations_session_id_survey_sessions')),
    sa.ForeignKeyConstraint(['survey_version_id'], ['survey_versions.id'], name=op.f('fk_survey_invitations_survey_version_id_survey_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('session_id', name=op.f('uq_survey_invitations_session_id'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitations_respondent_key'), ['respondent_key'], unique=False)
        batch_op.create_index('ix_survey_invitations_scope', ['survey_slug', 'clinic_id', 'period'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('respondent_key', sa.String(length=64), nullable=False),
    sa.Column('survey_version_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('fft', sa.String(length=16), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations')),
    sa.ForeignKeyConstraint(['survey_version_id'], ['survey_versions.id'], name=op.f('fk_survey_responses_survey_version_id_survey_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_survey_responses_invitation_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_fft'), ['fft'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_respondent_key'), ['respondent_key'], unique=False)



def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_respondent_key'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_fft'))

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_invitations_scope')
        batch_op.drop_index(batch_op.f('ix_survey_invitations_respondent_key'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_survey_invitations_clinic_id'))

    op.drop_table('survey_invitations')
    op.drop_table('result_snapshots')
