"""indexes for data at scale: the sweep's expiry, partial outbox indexes, organisation cohorts

Revision ID: b7d3e5a91c42
Revises: e4b2c9a7d150
Create Date: 2026-12-08 10:00:00.000000

- outbound_messages: the open messages by expiry (the clock's sweep); the one-answer-
  per-reply rule, the provider's sid and the conversation index hold only the rows
  that have a reply, a sid or a conversation (most are reminders, which have no reply
  or conversation, and no message has a sid before it is sent): each change of state
  rewrites one entry in every index that holds the row.
- survey_invitations: an organisation's cohort of a survey and month (with the
  languages it speaks), as a snapshot reads it.

On PostgreSQL the indexes are built CONCURRENTLY, outside the migration's transaction:
the outbox may hold tens of millions of rows, and a plain CREATE INDEX would hold up
every send while it reads them. Each new unique index is built before the constraint it
replaces is dropped, so the rule holds throughout. (bench/data_scale.py; README, "Data
at scale".)
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e5a91c42'
down_revision = 'e4b2c9a7d150'
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('pending', 'claimed')")
A_REPLY = sa.text("reply_to_id IS NOT NULL")
SENT = sa.text("provider_sid IS NOT NULL")
IN_A_CONVERSATION = sa.text("survey_session_id IS NOT NULL")


def _where(condition):
    return {"postgresql_where": condition, "sqlite_where": condition}


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def _create_index(name, table, columns, condition=None, unique=False):
    options = _where(condition) if condition is not None else {}
    op.create_index(
        name, table, columns, unique=unique, postgresql_concurrently=_postgresql(), **options
    )


def _drop_index(name, table, condition=None):
    options = _where(condition) if condition is not None else {}
    op.drop_index(name, table_name=table, postgresql_concurrently=_postgresql(), **options)


def upgrade():
    with op.get_context().autocommit_block():
        _create_index(
            'ix_outbound_messages_open_expires_at', 'outbound_messages', ['expires_at'], OPEN
        )
        _create_index(
            'uq_outbound_messages_reply_to_kind',
            'outbound_messages',
            ['reply_to_id', 'kind'],
            A_REPLY,
            unique=True,
        )
        _create_index(
            'uq_outbound_messages_sent_provider_sid',
            'outbound_messages',
            ['provider_sid'],
            SENT,
            unique=True,
        )
        _drop_index('ix_outbound_messages_survey_session_id', 'outbound_messages')
        _create_index(
            'ix_outbound_messages_survey_session_id',
            'outbound_messages',
            ['survey_session_id'],
            IN_A_CONVERSATION,
        )
        _create_index(
            'ix_survey_invitations_organisation_scope',
            'survey_invitations',
            ['survey_slug', 'organisation_id', 'period', 'language'],
        )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbound_messages_reply_to_id_kind', type_='unique')
        batch_op.drop_constraint('uq_outbound_messages_provider_sid', type_='unique')


def downgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_outbound_messages_reply_to_id_kind', ['reply_to_id', 'kind']
        )
        batch_op.create_unique_constraint('uq_outbound_messages_provider_sid', ['provider_sid'])
    with op.get_context().autocommit_block():
        _drop_index('ix_survey_invitations_organisation_scope', 'survey_invitations')
        _drop_index(
            'ix_outbound_messages_survey_session_id', 'outbound_messages', IN_A_CONVERSATION
        )
        _create_index(
            'ix_outbound_messages_survey_session_id', 'outbound_messages', ['survey_session_id']
        )
        _drop_index('uq_outbound_messages_sent_provider_sid', 'outbound_messages', SENT)
        _drop_index('uq_outbound_messages_reply_to_kind', 'outbound_messages', A_REPLY)
        _drop_index('ix_outbound_messages_open_expires_at', 'outbound_messages', OPEN)
