"""API keys of the HTTP service, bound to tenants; the key of each write in the audit log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step("incremental/014_api_keys.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/014_api_keys.sql")
