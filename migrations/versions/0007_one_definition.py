"""One definition per function: the idempotent layer of sql/idempotent/ replaces the functions of 002-009.

Nothing in tables changes; the functions keep their bodies. Each now pins its own search_path,
and pin_search_paths, which did that after the fact, is dropped with the layer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step()


def downgrade() -> None:
    downgrade_step(down_revision)
