"""attendance: DNA targets and rebase months

Revision ID: 768e74a2c55f
Revises: e29e0ecfd6e5
Create Date: 2026-12-06 09:32:43.029101

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '768e74a2c55f'
down_revision = 'e29e0ecfd6e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_rebases',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_attendance_rebases_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', 'month', name=op.f('pk_attendance_rebases'))
    )
    op.create_table('attendance_targets',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('dna_rate', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_attendance_targets_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_attendance_targets'))
    )


def downgrade():
    op.drop_table('attendance_targets')
    op.drop_table('attendance_rebases')
