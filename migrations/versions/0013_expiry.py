"""Documents that expire (expires_at on every collection table, a TTL per collection), and the
one tenant of each document id in collections partitioned by tenant.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step("incremental/015_expiry.sql", "incremental/016_partitioned_ids.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/016_partitioned_ids.sql", "incremental/down/015_expiry.sql")
