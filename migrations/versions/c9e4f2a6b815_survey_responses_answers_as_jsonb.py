"""survey responses: answers as binary JSON on PostgreSQL

Revision ID: c9e4f2a6b815
Revises: b7d3e5a91c42
Create Date: 2026-12-07 14:20:00.000000

A results snapshot reads each question's status and value of every respondent in SQL
(`app.results.cohort._readings`). Stored as text (`json`), each answer is parsed again
for every one of them: over the 354,889 answers of a million-invitation month that
statement took 1.8 s, and 1.1 s with `jsonb`. SQLite keeps its text JSON.

The change of type rewrites the table once, holding it locked while it does (1.9 s for
468,613 responses): on a large trust, run it when no survey is being answered.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c9e4f2a6b815'
down_revision = 'b7d3e5a91c42'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE survey_responses ALTER COLUMN answers TYPE jsonb USING answers::jsonb"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE survey_responses ALTER COLUMN answers TYPE json USING answers::json"
        )
