"""BM25 statistics without hot rows: each write statement appends its counts, compaction folds them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step("incremental/013_keyword_stats_deltas.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/013_keyword_stats_deltas.sql")
