"""Hybrid search: BM25 statistics, keyword and hybrid search, the filter language.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from vecpg.alembic_ops import apply_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("003_keyword_stats.sql")
    apply_sql_file("004_search_functions.sql")


def downgrade() -> None:
    apply_sql_file("down/004_search_functions.sql")
    apply_sql_file("002_functions.sql")  # idempotent: restores the bodies 004 replaced
    apply_sql_file("down/003_keyword_stats.sql")
