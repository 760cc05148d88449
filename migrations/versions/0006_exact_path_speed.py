"""Keyword scoring reads tsvectors in place; the exact hybrid path fuses in a function planned once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from vecpg.alembic_ops import apply_sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("009_exact_path_speed.sql")


def downgrade() -> None:
    apply_sql_file("down/009_exact_path_speed.sql")
    # Idempotent file: 008 restores the hybrid_sql and create_keyword_search_function that 009
    # replaced, and remakes the keyword indexes' search functions with them.
    apply_sql_file("008_keyword_index.sql")
