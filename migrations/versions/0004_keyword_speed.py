"""Faster BM25 (term frequencies from ts_rank, tsvectors stored inline) and one-statement hybrid search.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from vecpg.alembic_ops import apply_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("007_keyword_speed.sql")


def downgrade() -> None:
    apply_sql_file("down/007_keyword_speed.sql")
    # Idempotent files: 004 restores keyword_search and hybrid_search, then 006 the hooks
    # and row-level security that 004's versions predate.
    apply_sql_file("004_search_functions.sql")
    apply_sql_file("006_tenancy_functions.sql")
