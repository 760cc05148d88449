"""Faster BM25 (term frequencies from ts_rank, tsvectors stored inline) and one-statement hybrid search.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from vecpg.schema import apply_sql_file, downgrade_step

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/007_keyword_speed.sql")


def downgrade() -> None:
    downgrade_step("0003", "incremental/down/007_keyword_speed.sql")
