"""events: subscriptions, the delivery outbox and FHIR endpoints

Events the clinic's own systems hear (appointment answers, opt-outs, failed messages,
new survey responses), the HTTPS endpoints subscribed to them, each clinic's FHIR
server for the write-back, and one outbox row per event and target.

Revision ID: 846804e74656
Revises: f3b8c1d6a274
Create Date: 2026-12-06 13:15:10.860014

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '846804e74656'
down_revision = 'f3b8c1d6a274'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('appointment.confirmed', 'appointment.cancelled_by_patient', 'appointment.rebook_requested', 'patient.opted_out', 'message.failed', 'survey.response_recorded', name='eventtype', native_enum=False, length=48), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_events_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_events_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('public_id', name=op.f('uq_events_public_id'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_patient_id'), ['patient_id'], unique=False)

    op.create_table('fhir_endpoints',
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('base_url', sa.String(length=2000), nullable=False),
    sa.Column('identifier_system', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_fhir_endpoints_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_fhir_endpoints'))
    )
    op.create_table('event_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_token_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_event_subscriptions_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_token_id'], ['api_tokens.id'], name=op.f('fk_event_subscriptions_created_by_token_id_api_tokens')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['staff_users.id'], name=op.f('fk_event_subscriptions_created_by_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_subscriptions'))
    )
    with op.batch_alter_table('event_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_subscriptions_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('event_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.Enum('webhook', 'fhir', name='target', native_enum=False, length=16), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'claimed', 'sending', 'delivered', 'failed', 'cancelled', name='deliverystate', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_event_deliveries_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_deliveries_event_id_events')),
    sa.ForeignKeyConstraint(['subscription_id'], ['event_subscriptions.id'], name=op.f('fk_event_deliveries_subscription_id_event_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_deliveries')),
    sa.UniqueConstraint('event_id', 'target', 'subscription_id', name=op.f('uq_event_deliveries_event_id_target_subscription_id'))
    )
    with op.batch_alter_table('event_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_event_deliveries_clinic_created_at', ['clinic_id', 'created_at'], unique=False)
        batch_op.create_index('ix_event_deliveries_state_due_at', ['state', 'due_at'], unique=False)



def downgrade():
    with op.batch_alter_table('event_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_event_deliveries_state_due_at')
        batch_op.drop_index('ix_event_deliveries_clinic_created_at')

    op.drop_table('event_deliveries')
    with op.batch_alter_table('event_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_subscriptions_clinic_id'))

    op.drop_table('event_subscriptions')
    op.drop_table('fhir_endpoints')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_patient_id'))
        batch_op.drop_index(batch_op.f('ix_events_clinic_id'))

    op.drop_table('events')
