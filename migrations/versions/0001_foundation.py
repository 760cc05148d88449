"""Foundation: collection catalog, collection management, vector indexes and vector search.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from vecpg.schema import apply_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/001_catalog.sql")
    apply_sql_file("incremental/002_functions.sql")


def downgrade() -> None:
    apply_sql_file("incremental/down/002_functions.sql")
    apply_sql_file("incremental/down/001_catalog.sql")
