"""Alembic environment for vecpg's schema: each revision applies files from sql/."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from vecpg.db.connection import resolve_url, sqlalchemy_url
from vecpg.db.migrate import VERSION_TABLE
from vecpg.schema import after_run

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations(connection: Connection) -> None:
    """Every revision of the run, then the layer of the revision reached, in one transaction.

    The layer is applied once, at the end (vecpg.schema.after_run), not after each revision; one
    transaction means a run that fails half-way leaves the database as it found it, at its
    revision and with its layer, never between revisions without the layer that goes with them.
    """
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
        migration = context.get_context()
        after_run(connection, migration.get_current_revision(), context.get_head_revision() or "")


def run_migrations_online() -> None:
    """Run the revisions on a connection (a shared one when a caller passes it in)."""
    shared = config.attributes.get("connection")
    if shared is not None:
        run_migrations(shared)
        return

    url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(resolve_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("vecpg migrations run against a database; offline (--sql) mode is not supported")
run_migrations_online()
