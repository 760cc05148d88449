"""The synchronous runner: executes operations (statement.py) on a store's pooled connections.

A ``Statement`` alone takes a connection for its round trip. A generator of steps takes one when
its first statement comes (not before: an operation that first embeds its query holds no
connection while the model runs) and keeps it to the end, so its statements share the tenant's
transaction. A statement that fails ends its connection (its transaction rolls back) and its
error, as ``Store.connection`` translates it, is thrown into the operation: the operation may
catch it and go on, on a new connection. The asynchronous runner of psycopg's AsyncConnection
is this module's twin: same steps, ``await`` where this one blocks.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import psycopg

from . import session
from .statement import Call, Operation, Result, Statement, Step

T = TypeVar("T")


class Connections(Protocol):
    """Where a runner gets connections (``Store`` is one)."""

    def connection(self, *, for_search: bool = False) -> AbstractContextManager[psycopg.Connection]: ...

    def admin_connection(self) -> AbstractContextManager[psycopg.Connection]: ...


def execute(conn: psycopg.Connection, statement: Statement[T]) -> T:
    """Run one statement on ``conn`` and map its rows; a search's settings go first (session.py)."""
    if statement.settings is None:
        cursor = conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        return statement.result(Result(cursor.fetchall() if cursor.description else [], cursor.rowcount))
    state = session.known(conn)
    if state is None:
        read = session.READ
        state = session.remember(conn, conn.execute(read.query, read.params).fetchall())  # type: ignore[arg-type]
    changes = state.changes(statement.settings, statement.ef_search_floor)
    try:
        if changes:
            change = session.setting(changes)
            with conn.pipeline():
                conn.execute(change.query, change.params)  # type: ignore[arg-type]
                cursor = conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        else:
            cursor = conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        rows = cursor.fetchall()
    except BaseException:
        state.forget()
        raise
    state.applied(changes)
    return statement.result(Result(rows, cursor.rowcount))


def restore(conn: psycopg.Connection) -> None:
    """Give a connection back the search settings it started with, if a search changed them."""
    state = session.known(conn)
    if state is None:
        return
    changes = state.restoring()
    if changes:
        try:
            execute(conn, session.setting(changes))
        except BaseException:
            state.forget()
            raise
        state.applied(changes)


class Runner:
    """Runs operations on the connections of ``connections`` (a store)."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections

    def run(self, operation: Operation[T]) -> T:
        """The operation's value."""
        if type(operation) is Statement:
            opened = (self._connections.admin_connection() if operation.admin
                      else self._connections.connection(for_search=operation.settings is not None))
            with opened as conn:
                return execute(conn, operation)
        return self._steps(operation)  # type: ignore[arg-type]

    def _steps(self, steps: Generator[Step, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        held: AbstractContextManager[psycopg.Connection] | None = None  # the connection the steps share
        conn: psycopg.Connection | None = None
        try:
            while True:
                try:
                    step = steps.send(value) if error is None else steps.throw(error)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                value, error = None, None
                if type(step) is Call:
                    value = step.function(*step.args)
                    continue
                assert type(step) is Statement
                if step.admin:
                    with self._connections.admin_connection() as admin:
                        value = execute(admin, step)
                    continue
                if held is None:
                    held = self._connections.connection(for_search=step.settings is not None)
                    conn = held.__enter__()
                try:
                    value = execute(conn, step)  # type: ignore[arg-type]
                except Exception as exc:  # noqa: BLE001 - thrown into the operation below
                    failed, held, conn = held, None, None
                    try:
                        failed.__exit__(type(exc), exc, exc.__traceback__)
                        error = exc
                    except Exception as translated:  # noqa: BLE001 - Store.connection's vecpg error
                        error = translated
        except BaseException as exc:
            if held is not None:  # the transaction of a failed operation rolls back
                failed, held = held, None
                failed.__exit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            steps.close()
            if held is not None:
                held.__exit__(None, None, None)


class Held:
    """Connections that are all one connection the caller holds (a measurement's, a migration's)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    @contextmanager
    def connection(self, *, for_search: bool = False) -> Iterator[psycopg.Connection]:
        yield self._conn

    admin_connection = connection
