"""What an Alembic revision of vecpg's runs: its incremental files, then its layer."""

from __future__ import annotations

import psycopg

from ..resources import bundled_dir, sql_file
from .layer import apply_layer, layer_for


def _connection() -> psycopg.Connection:
    from alembic import op

    driver_connection = op.get_bind().connection.driver_connection
    if driver_connection is None:  # pragma: no cover - only on a closed connection
        raise RuntimeError("the migration's connection is closed")
    return driver_connection  # type: ignore[no-any-return]


def _head() -> str:
    from alembic import op
    from alembic.script import ScriptDirectory

    script = op.get_context().script or ScriptDirectory(str(bundled_dir("migrations")))
    return script.get_current_head() or ""


def apply_sql_file(name: str) -> None:
    """Run one file of sql/ (e.g. ``incremental/001_catalog.sql``) in the migration's transaction."""
    # No parameters: psycopg sends the file as is, several statements at once, '%' untouched.
    _connection().execute(sql_file(name))  # type: ignore[arg-type]


def upgrade_step(revision: str, *incremental: str) -> None:
    """Upgrade to ``revision``: its incremental files, then its layer."""
    for name in incremental:
        apply_sql_file(name)
    apply_layer(_connection(), layer_for(revision, _head()))


def downgrade_step(previous: str, *down: str) -> None:
    """Downgrade to ``previous``: the down files of the revision being reverted, then the layer of ``previous``."""
    for name in down:
        apply_sql_file(name)
    apply_layer(_connection(), layer_for(previous, _head()))
