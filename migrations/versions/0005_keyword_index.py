"""Impact-ordered keyword index per collection (opt-in), hybrid search that reads it, vectors stored in the row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from vecpg.schema import apply_sql_file, downgrade_step

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/008_keyword_index.sql")


def downgrade() -> None:
    downgrade_step("0004", "incremental/down/008_keyword_index.sql")
