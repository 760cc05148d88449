"""Embedding pipeline: the queue that triggers fill, worker batches, ingest checkpoints.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from vecpg.schema import downgrade_step, upgrade_step

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_step("incremental/011_embedding_queue.sql")


def downgrade() -> None:
    downgrade_step(down_revision, "incremental/down/011_embedding_queue.sql")
