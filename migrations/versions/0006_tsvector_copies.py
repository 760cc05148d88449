"""Keyword scoring reads tsvectors in place unless they are compressed (no copy per candidate).

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
    apply_sql_file("009_tsvector_copies.sql")


def downgrade() -> None:
    apply_sql_file("down/009_tsvector_copies.sql")
