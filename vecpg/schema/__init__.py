"""vecpg's database schema: the files in sql/ and how Alembic revisions apply them.

sql/ holds three kinds of file (sql/README.md has the rules):

- ``incremental/`` run-once files (tables, columns, roles, grants on tables, data backfills),
  each applied by one revision, frozen once released, with a ``down/`` file each;
- ``idempotent/`` one file per area in which every function is defined exactly once, edited in
  place and applied again at the end of every upgrade;
- ``history/`` one reverse delta per revision below the head: what that revision's layer had
  that the next revision's changed (old definitions, with comments and grants) or added.

A revision's *layer* is the head's (``idempotent/``) followed by the deltas from the newest down
to that revision's. Applying a layer drops the vecpg functions it does not define, so a
downgrade restores the older functions exactly, with no human choosing files to replay. An
upgrade runs each revision's incremental files and then the target's layer once (``after_run``),
all in one transaction.
"""

from .layer import apply_layer, head_layer, layer_for, layer_parts
from .steps import after_run, apply_sql_file, downgrade_step, upgrade_step

__all__ = [
    "after_run",
    "apply_layer",
    "apply_sql_file",
    "downgrade_step",
    "head_layer",
    "layer_for",
    "layer_parts",
    "upgrade_step",
]
