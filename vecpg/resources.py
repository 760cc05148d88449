"""Locate the SQL files, Alembic environment and named queries that ship with vecpg."""

from __future__ import annotations

import functools
from pathlib import Path

from psycopg import sql

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """``sql`` or ``migrations``: inside the wheel (``vecpg/_sql``) or at the root of a checkout."""
    for candidate in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"vecpg's {name}/ directory is missing from the installation")


def sql_file(name: str) -> str:
    """Text of a schema file in sql/, e.g. ``incremental/001_catalog.sql`` or ``idempotent/00_catalog.sql``."""
    return (bundled_dir("sql") / name).read_text(encoding="utf-8")


@functools.cache
def query(name: str) -> str:
    """Text of a named query in vecpg/queries/, with ``{identifier}`` placeholders for psycopg.sql."""
    text = (_PACKAGE / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    # Leading comment lines document the query; the database need not see them.
    body = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(body).strip()


def composed(name: str, **identifiers: sql.Composable) -> sql.Composed:
    """A named query of vecpg/queries/ with its ``{identifier}`` placeholders filled in."""
    return sql.SQL(query(name)).format(**identifiers)  # type: ignore[arg-type]
