"""Collections that store halfvec: the catalog's storage column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step(revision, "incremental/012_halfvec_storage.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/012_halfvec_storage.sql")
