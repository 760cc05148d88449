"""Hybrid search: BM25 statistics, keyword and hybrid search, the filter language.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from vecpg.schema import apply_sql_file, downgrade_step

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/003_keyword_stats.sql")
    apply_sql_file("incremental/004_search_functions.sql")


def downgrade() -> None:
    downgrade_step("0001", "incremental/down/004_search_functions.sql", "incremental/down/003_keyword_stats.sql")
