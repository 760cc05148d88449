"""Apply vecpg's Alembic revisions (which run the files in sql/) to a database."""

from __future__ import annotations

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from ..ops.statement import Statement, scalar
from ..resources import bundled_dir
from ..schema.layer import apply_layer, head_layer
from .connection import sqlalchemy_url

VERSION_TABLE = "vecpg_version"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for vecpg's own revisions against ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(bundled_dir("migrations")))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to ``revision``.

    At head the idempotent layer is applied again even when there is no revision to run, so that
    a function edited in sql/idempotent/ reaches a database that is already at head.
    """
    already_at_head = revision == "head" and current(url) == head()
    command.upgrade(alembic_config(url), revision)
    if already_at_head:
        with psycopg.connect(url) as conn:
            apply_layer(conn, head_layer())


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` removes vecpg entirely)."""
    command.downgrade(alembic_config(url), revision)


def head() -> str:
    """The newest revision this version of vecpg ships."""
    return ScriptDirectory(str(bundled_dir("migrations"))).get_current_head() or ""


def revision() -> Statement[str | None]:
    """The revision the database is at, read on a store's own connection (``vecpg serve``'s
    readiness)."""
    return Statement(f"SELECT version_num FROM {VERSION_TABLE}", None, scalar)


def current(url: str) -> str | None:
    """The revision the database is at, or None before the first migration."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        engine.dispose()

