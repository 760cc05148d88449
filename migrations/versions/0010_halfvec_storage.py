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
    # 012 drops two functions of 0009's layer (their arguments change): that layer comes first.
    upgrade_step("incremental/012_halfvec_storage.sql", layer_of=down_revision)


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/012_halfvec_storage.sql")
