"""Multi-tenancy: roles, row-level security on every collection, per-tenant statistics visibility.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from vecpg.schema import apply_sql_file, downgrade_step

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_file("incremental/005_tenancy.sql")
    apply_sql_file("incremental/006_tenancy_functions.sql")


def downgrade() -> None:
    downgrade_step(
        "0002",
        "incremental/down/006_tenancy_functions.sql",
        "incremental/down/006_tenancy_owners.sql",
        "incremental/down/005_tenancy.sql",
    )
