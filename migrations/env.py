"""Alembic environment for vecpg's schema: each revision applies files from sql/."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from vecpg.db.connection import resolve_url, sqlalchemy_url
from vecpg.db.migrate import VERSION_TABLE

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_online() -> None:
    """Run the revisions on a connection (a shared one when a caller passes it in)."""
    shared = config.attributes.get("connection")
    if shared is not None:
        context.configure(connection=shared, version_table=VERSION_TABLE, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(resolve_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, version_table=VERSION_TABLE, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("vecpg migrations run against a database; offline (--sql) mode is not supported")
run_migrations_online()
