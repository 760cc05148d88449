"""Index builds that do not block writers, and the settings every index build runs with.

``CREATE INDEX CONCURRENTLY`` (and ``REINDEX ... CONCURRENTLY``) cannot run in a function or a
transaction block, so SQL keeps the DDL (``vecpg.index_ddl``, which ``vecpg.create_index``
builds its own statement with) and this module runs it on an autocommit connection, with
``vecpg.build_settings`` applied to that session only and restored afterwards.

Replacing an index builds the new one beside it, under another name when the old one holds the
name it will take (``vecpg.index_name(..., building => true)``), then drops the old one
(``DROP INDEX CONCURRENTLY``) and renames the new one: searches have a valid index throughout.

A concurrent build that fails leaves an INVALID index behind, which writes keep maintaining and
searches cannot use. A build that fails here drops what it left; one whose client died cannot,
and ``vecpg.index_info`` reports the index (``valid`` false) until a rebuild or a new build
replaces it (both drop an invalid index beside a valid one, and rebuild one that is alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from ..errors import InvalidArgument
from ..resources import composed, query
from .specs import IndexInfo

if TYPE_CHECKING:
    from ..ops.catalog import CollectionInfo

# Told the backend pid of each build statement before it runs (a progress bar follows it).
Follow = Callable[[int], None]


def _scalar(conn: psycopg.Connection, statement: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(statement, params).fetchone()  # type: ignore[arg-type]  # constant text
    return row[0] if row else None


def vector_indexes(conn: psycopg.Connection, collection: str) -> list[IndexInfo]:
    """A collection's vector indexes, valid or not (``vecpg.index_info``)."""
    rows = conn.execute("SELECT * FROM vecpg.index_info(%s)", (collection,)).fetchall()
    return [IndexInfo(*r) for r in rows]


def check_outside_transaction(conn: psycopg.Connection, collection: str) -> None:
    """InvalidArgument unless a concurrent build can run on ``conn`` now: autocommit, no
    transaction open, and no other build on the collection (it would wait for that one, then
    this one would drop or replace what that one made)."""
    if not conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        raise InvalidArgument(
            "a concurrent index build cannot run inside a transaction (PostgreSQL runs CREATE INDEX "
            "CONCURRENTLY only outside one): call it on an autocommit connection, outside store.tenant() "
            "and any transaction block, or build without concurrently=True"
        )
    running = conn.execute(query("create_index_running"), {"collection": collection}).fetchall()  # type: ignore[arg-type]
    if running:
        pid = running[0][0]
        raise InvalidArgument(f"another index build on collection {collection!r} is running (backend {pid}): "
                              f"wait for it, or cancel it with SELECT pg_cancel_backend({pid})")


@contextmanager
def build_session(conn: psycopg.Connection, params: dict[str, Any]) -> Iterator[dict[str, str]]:
    """The build settings (``vecpg.build_settings(params)``) for this session inside the block,
    and what the session had before them afterwards. Yields the settings applied."""
    rows = conn.execute(query("build_settings"), {"params": Jsonb(params)}).fetchall()  # type: ignore[arg-type]
    names = [r[0] for r in rows]
    conn.execute(query("set_session"), {"names": names, "settings": [r[1] for r in rows]})  # type: ignore[arg-type]
    try:
        yield {r[0]: r[1] for r in rows}
    finally:
        if not conn.broken and not conn.closed:
            try:
                conn.execute(query("set_session"), {"names": names, "settings": [r[2] for r in rows]})  # type: ignore[arg-type]
            except psycopg.Error:
                conn.close()  # never hand a pool a connection with the build's settings


def _drop(conn: psycopg.Connection, info: CollectionInfo, index: str) -> None:
    # DROP INDEX CONCURRENTLY does not take a partitioned index: a partitioned collection's goes
    # at once, a short ACCESS EXCLUSIVE lock (no build).
    drop = "drop_index" if info.partitioned else "drop_index_concurrently"
    conn.execute(composed(drop, index=sql.Identifier(info.schema, index)))


def _build_partitions(conn: psycopg.Connection, info: CollectionInfo, method: str, params: dict[str, Any],
                      name: str, follow: Follow | None) -> None:
    """Build a partitioned collection's index partition by partition (``vecpg.partition_index_steps``):
    ON ONLY each partitioned table, CONCURRENTLY on each leaf, then attached bottom up. If a step
    fails, what the build made goes (the top index takes its attached parts with it)."""
    steps = conn.execute("SELECT * FROM vecpg.partition_index_steps(%s, %s, %s, %s)",
                         (info.name, method, Jsonb(params), name)).fetchall()
    made: list[str] = []
    try:
        for step, index, statement in steps:
            if step == "leaf" and follow is not None:
                follow(conn.info.backend_pid)
            conn.execute(sql.SQL(statement))  # type: ignore[arg-type]  # vecpg's own DDL
            if step != "attach":
                made.append(index)
    except BaseException:
        if not conn.broken and not conn.closed:
            try:
                for index in made:  # the top one first: it drops the parts attached to it
                    conn.execute(composed("drop_index", index=sql.Identifier(info.schema, index)))
            except psycopg.Error:
                pass  # left INVALID: reported by index_info, replaced by the next build
        raise


def _run_build(conn: psycopg.Connection, info: CollectionInfo, statement: sql.SQL | sql.Composed,
               follow: Follow | None) -> None:
    """Run one concurrent build statement; if it fails, drop the invalid index it left."""
    before = {ix.name for ix in vector_indexes(conn, info.name)}
    if follow is not None:
        follow(conn.info.backend_pid)
    try:
        conn.execute(statement)
    except BaseException:  # a cancel or Ctrl-C too: psycopg cancels the statement in the server
        if not conn.broken and not conn.closed:
            try:
                for ix in vector_indexes(conn, info.name):
                    if not ix.valid and ix.name not in before:
                        _drop(conn, info, ix.name)
            except psycopg.Error:
                pass  # it stays INVALID: reported by index_info, replaced by the next build
        raise


def create_concurrently(conn: psycopg.Connection, info: CollectionInfo, method: str, params: dict[str, Any],
                        follow: Follow | None = None) -> str:
    """Build the collection's vector index without blocking writers, replacing any other;
    returns its name. ``conn`` must be an autocommit connection outside any transaction."""
    check_outside_transaction(conn, info.name)
    final = _scalar(conn, "SELECT vecpg.index_name(%s, %s)", (info.name, method))
    before = vector_indexes(conn, info.name)
    old = [ix for ix in before if ix.valid]
    name = final
    if any(ix.name == final for ix in old):
        name = _scalar(conn, "SELECT vecpg.index_name(%s, %s, true)", (info.name, method))
    # Checked (method, parameters) before anything is dropped.
    ddl = _scalar(conn, "SELECT vecpg.index_ddl(%s, %s, %s, true, %s)", (info.name, method, Jsonb(params), name))
    for ix in before:
        if not ix.valid:  # left by a failed concurrent build
            _drop(conn, info, ix.name)
    with build_session(conn, params):
        if info.partitioned:
            _build_partitions(conn, info, method, params, name, follow)
        else:
            _run_build(conn, info, sql.SQL(ddl), follow)
    # Searches switch to what the new index holds (its quantization) while the old one still
    # stands, then the old one goes.
    conn.execute("SELECT vecpg.index_built(%s, %s)", (info.name, Jsonb(params)))
    for ix in old:
        _drop(conn, info, ix.name)
    if name != final:
        conn.execute(composed("rename_index", index=sql.Identifier(info.schema, name), new_name=sql.Identifier(final)))
    return str(final)


def rebuild_concurrently(conn: psycopg.Connection, info: CollectionInfo, follow: Follow | None = None) -> int:
    """Rebuild the collection's vector indexes without blocking writers (``REINDEX INDEX
    CONCURRENTLY``), as ``vecpg.rebuild_index`` does in place: an invalid index beside a valid
    one is dropped, every other one rebuilt. Returns how many were rebuilt."""
    check_outside_transaction(conn, info.name)
    current = vector_indexes(conn, info.name)
    any_valid = any(ix.valid for ix in current)
    rebuilt = 0
    with build_session(conn, {}):
        for ix in current:
            if any_valid and not ix.valid:
                _drop(conn, info, ix.name)
            else:
                _run_build(conn, info, composed("reindex_concurrently", index=sql.Identifier(info.schema, ix.name)), follow)
                rebuilt += 1
    return rebuilt
