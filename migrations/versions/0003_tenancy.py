"""Multi-tenancy: roles, row-level security on every collection, per-tenant statistics visibility.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from vecpg.alembic_ops import apply_sql_file

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("005_tenancy.sql")
    apply_sql_file("006_tenancy_functions.sql")


def downgrade() -> None:
    apply_sql_file("down/006_tenancy_functions.sql")
    apply_sql_file("004_search_functions.sql")  # idempotent: restores the bodies 006 replaced
    apply_sql_file("down/005_tenancy.sql")
