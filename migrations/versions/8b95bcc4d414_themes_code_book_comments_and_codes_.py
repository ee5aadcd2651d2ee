"""themes: code-book, comments and codes, models per organisation, PALS contacts

The framework's codes and organisations' own codes, each free-text answer or PALS text
to code with its suggested and confirmed codes, each organisation's trained models (plain
arrays, no pickle), and PALS contacts, complaints and compliments.

Revision ID: 8b95bcc4d414
Revises: a5e1c7d3b902
Create Date: 2026-12-06 13:21:18.124487

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b95bcc4d414'
down_revision = 'a5e1c7d3b902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('theme_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_theme_models_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_models')),
    sa.UniqueConstraint('organisation_id', 'version', name=op.f('uq_theme_models_organisation_id_version'))
    )
    with op.batch_alter_table('theme_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_models_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=120), nullable=False),
    sa.Column('framework_version', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_themes_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    sa.UniqueConstraint('organisation_id', 'key', name=op.f('uq_themes_organisation_id_key'))
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('pals_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('contact_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('pals', 'complaint', 'compliment', name='palskind', native_enum=False, length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('ethnic_category', sa.String(length=1), nullable=True),
    sa.Column('imd_quintile', sa.Integer(), nullable=True),
    sa.Column('row_key', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_pals_contacts_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_pals_contacts_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pals_contacts')),
    sa.UniqueConstraint('organisation_id', 'row_key', name=op.f('uq_pals_contacts_organisation_id_row_key'))
    )
    with op.batch_alter_table('pals_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pals_contacts_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_pals_contacts_org_date', ['organisation_id', 'contact_date'], unique=False)

    op.create_table('theme_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('survey', 'pals', name='commentsource', native_enum=False, length=16), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.String(length=40), nullable=True),
    sa.Column('pals_contact_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('suggested', sa.JSON(), nullable=True),
    sa.Column('suggested_sentiment', sa.Integer(), nullable=True),
    sa.Column('suggested_by', sa.String(length=32), nullable=True),
    sa.Column('sentiment', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('sentiment IS NULL OR sentiment BETWEEN 1 AND 5', name=op.f('ck_theme_comments_sentiment')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_theme_comments_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['confirmed_by_user_id'], ['staff_users.id'], name=op.f('fk_theme_comments_confirmed_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_theme_comments_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['pals_contact_id'], ['pals_contacts.id'], name=op.f('fk_theme_comments_pals_contact_id_pals_contacts')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_theme_comments_response_id_survey_responses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_comments')),
    sa.UniqueConstraint('pals_contact_id', name=op.f('uq_theme_comments_pals_contact_id')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_theme_comments_response_id_question_id'))
    )
    with op.batch_alter_table('theme_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_comments_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_theme_comments_queue', ['organisation_id', 'confirmed_at', 'id'], unique=False)

    op.create_table('theme_codes',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['theme_comments.id'], name=op.f('fk_theme_codes_comment_id_theme_comments')),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_theme_codes_theme_id_themes')),
    sa.PrimaryKeyConstraint('comment_id', 'theme_id', name=op.f('pk_theme_codes'))
    )
    with op.batch_alter_table('theme_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_codes_theme_id'), ['theme_id'], unique=False)



def downgrade():
    with op.batch_alter_table('theme_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_codes_theme_id'))

    op.drop_table('theme_codes')
    with op.batch_alter_table('theme_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_theme_comments_queue')
        batch_op.drop_index(batch_op.f('ix_theme_comments_clinic_id'))

    op.drop_table('theme_comments')
    with op.batch_alter_table('pals_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_pals_contacts_org_date')
        batch_op.drop_index(batch_op.f('ix_pals_contacts_clinic_id'))

    op.drop_table('pals_contacts')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_organisation_id'))

    op.drop_table('themes')
    with op.batch_alter_table('theme_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_models_organisation_id'))

    op.drop_table('theme_models')
