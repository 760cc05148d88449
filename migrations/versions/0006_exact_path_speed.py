"""Keyword scoring reads tsvectors in place; the exact hybrid path fuses in a function planned once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from vecpg.schema import apply_sql_file, downgrade_step

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/009_exact_path_speed.sql")


def downgrade() -> None:
    downgrade_step("0005", "incremental/down/009_exact_path_speed.sql")
