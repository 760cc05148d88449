"""What an Alembic revision of vecpg's runs: its incremental files; the layer once, at the end."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import Connection

from ..resources import bundled_dir, sql_file
from .layer import apply_layer, layer_for

# Set on the migration's connection by upgrade_step: the run must end with the target's layer.
_LAYER_DUE = "vecpg_layer_due"


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


def upgrade_step(*incremental: str, layer_of: str | None = None) -> None:
    """Upgrade by one revision: its incremental files only. The layer comes once, at the end of
    the whole run (``after_run``, from migrations/env.py), so incremental files may not use the
    layer's functions (tests/test_schema_files.py) unless the revision asks for ``layer_of`` its
    previous revision: that layer is then applied first, if an earlier step of the run left it due.
    """
    from alembic import op

    info = op.get_bind().info
    if layer_of is not None and info.get(_LAYER_DUE):
        apply_layer(_connection(), layer_for(layer_of, _head()))
    for name in incremental:
        apply_sql_file(name)
    info[_LAYER_DUE] = True


def downgrade_step(previous: str, *down: str) -> None:
    """Downgrade to ``previous``: the down files of the revision being reverted, then the layer of
    ``previous``, at every step: older down files call their own revision's functions (009's
    calls vecpg.pin_search_paths, which only 0006's layer has)."""
    from alembic import op

    for name in down:
        apply_sql_file(name)
    apply_layer(_connection(), layer_for(previous, _head()))
    op.get_bind().info.pop(_LAYER_DUE, None)


def after_run(connection: Connection, revision: str | None, head: str) -> None:
    """After the revisions of a run, in its transaction: the layer of ``revision`` (where the
    database now is) when an upgrade_step ran. Revisions 0001-0006 predate the layer: an upgrade
    that runs only those applies none, as they never did."""
    if connection.info.pop(_LAYER_DUE, False) and revision is not None:
        driver_connection = connection.connection.driver_connection
        apply_layer(driver_connection, layer_for(revision, head))  # type: ignore[arg-type]
