"""Impact-ordered keyword index per collection (opt-in), hybrid search that reads it, vectors stored in the row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from vecpg.alembic_ops import apply_sql_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("008_keyword_index.sql")


def downgrade() -> None:
    apply_sql_file("down/008_keyword_index.sql")
    # Idempotent file: 007 restores the hybrid_search and collection_created hook that 008 replaced.
    apply_sql_file("007_keyword_speed.sql")
