"""Qdrant mirror: the mirrored collections and the outbox their capture triggers fill.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step("incremental/010_mirror.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/010_mirror.sql")
