"""A collection's vector index through vecpg's SQL functions, one operation per call (build, rebuild,
drop, list, prewarm, the inputs of advice). Concurrent builds run outside any function and
transaction: builds.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ..errors import InvalidArgument
from ..ops.statement import Call, Result, Statement, Steps, each, number, scalar
from ..resources import composed as q
from .specs import IndexInfo, Prewarmed


def _followed(follow: Callable[[int], None] | None) -> Steps[None]:
    # A progress bar follows the backend that will run the build: the operation's connection.
    if follow is not None:
        pid = yield Statement("SELECT pg_backend_pid()", None, scalar)
        yield Call(follow, (pid,))


def create_index(name: str, method: str, params: Mapping[str, Any],
                 follow: Callable[[int], None] | None = None) -> Steps[str]:
    yield from _followed(follow)
    made = yield Statement("SELECT vecpg.create_index(%s, %s, %s)", (name, method, Jsonb(dict(params))), scalar)
    return "" if made is None else str(made)


def rebuild_index(name: str, follow: Callable[[int], None] | None = None) -> Steps[int]:
    yield from _followed(follow)
    return (yield Statement("SELECT vecpg.rebuild_index(%s)", (name,), number))


def drop_index(name: str) -> Statement[int]:
    return Statement("SELECT vecpg.drop_index(%s)", (name,), number)


def indexes(name: str) -> Statement[list[IndexInfo]]:
    """A collection's vector indexes, valid or not (``vecpg.index_info``)."""
    return Statement("SELECT * FROM vecpg.index_info(%s)", (name,), each(IndexInfo))


def prewarm(name: str) -> Statement[list[Prewarmed]]:
    return Statement("SELECT * FROM vecpg.prewarm(%s)", (name,), each(Prewarmed))


def _inputs(result: Result) -> tuple[int, int, int]:
    row = result.rows[0]  # one row per collection, which exists
    return int(row[0]), int(row[1]), int(row[2])


def advice_inputs(name: str, table: sql.Identifier, rows: int | None,
                  **sizes: int | str | None) -> Statement[tuple[int, int, int]]:
    """(rows, maintenance_work_mem, shared_buffers) that index advice starts from: the sizes
    given (bytes, or PostgreSQL's units such as '64MB'), else the database's."""
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
        raise InvalidArgument(f"rows must be a non-negative integer, got {rows!r}")
    for key, value in sizes.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))
                                  or (isinstance(value, int) and value < 0)):
            raise InvalidArgument(f"{key} must be a size in bytes or a string such as '64MB', got {value!r}")
    sizes = {key: None if value is None else str(value) for key, value in sizes.items()}
    return Statement(q("index_inputs", table=table), {"collection": name, "rows": rows, **sizes}, _inputs)
