"""vecpg's database schema: the files in sql/ and how Alembic revisions apply them.

sql/ holds two kinds of file (sql/README.md has the rules):

- ``incremental/`` run-once files (tables, columns, roles, grants on tables, data backfills),
  each applied by one revision, frozen once released, with a ``down/`` file each;
- ``idempotent/`` one file per area in which every function is defined exactly once, edited in
  place and applied again at the end of every upgrade.

A revision's *layer* is the idempotent layer as it was when the revision was released: the head
revision uses ``idempotent/``, every older one the frozen copy in ``snapshots/<revision>.sql``.
Applying a layer drops the vecpg functions it does not define, so a downgrade restores the older
functions exactly, with no human choosing files to replay.
"""

from .layer import apply_layer, head_layer, layer_for, snapshot_layer
from .steps import apply_sql_file, downgrade_step, upgrade_step

__all__ = [
    "apply_layer",
    "apply_sql_file",
    "downgrade_step",
    "head_layer",
    "layer_for",
    "snapshot_layer",
    "upgrade_step",
]
