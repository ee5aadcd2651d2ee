"""you said, we did: entries and the quotes approved for the public page

Revision ID: d71f3a0c5e29
Revises: 8b95bcc4d414
Create Date: 2026-12-06 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd71f3a0c5e29'
down_revision = '8b95bcc4d414'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('you_said_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('said', sa.Text(), nullable=False),
    sa.Column('did', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', name='entrystatus', native_enum=False, length=16), nullable=False),
    sa.Column('theme_ids', sa.JSON(), nullable=False),
    sa.Column('quote_ids', sa.JSON(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_you_said_entries_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['staff_users.id'], name=op.f('fk_you_said_entries_created_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_you_said_entries_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_you_said_entries'))
    )
    with op.batch_alter_table('you_said_entries', schema=None) as batch_op:
        batch_op.create_index('ix_you_said_entries_org_clinic', ['organisation_id', 'clinic_id'], unique=False)

    op.create_table('published_quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('approved_by_user_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_by_user_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_user_id'], ['staff_users.id'], name=op.f('fk_published_quotes_approved_by_user_id_staff_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_published_quotes_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['comment_id'], ['theme_comments.id'], name=op.f('fk_published_quotes_comment_id_theme_comments')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_published_quotes_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['withdrawn_by_user_id'], ['staff_users.id'], name=op.f('fk_published_quotes_withdrawn_by_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_quotes')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_published_quotes_comment_id'))
    )
    with op.batch_alter_table('published_quotes', schema=None) as batch_op:
        batch_op.create_index('ix_published_quotes_clinic', ['clinic_id', 'withdrawn_at'], unique=False)


def downgrade():
    with op.batch_alter_table('published_quotes', schema=None) as batch_op:
        batch_op.drop_index('ix_published_quotes_clinic')
    op.drop_table('published_quotes')
    with op.batch_alter_table('you_said_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_you_said_entries_org_clinic')
    op.drop_table('you_said_entries')
