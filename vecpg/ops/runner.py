"""The synchronous runner: executes operations (statement.py) on a store's pooled connections.

A ``Statement`` alone takes a connection for its round trip. A generator of steps takes one when
its first statement comes (not before: an operation that first embeds its query holds no
connection while the model runs) and keeps it to the end, so its statements share the tenant's
transaction. A statement that fails ends its connection (its transaction rolls back) and its
error, as ``Store.connection`` translates it, is thrown into the operation: the operation may
catch it and go on, on a new connection. The asynchronous runner of psycopg's AsyncConnection
is this module's twin: same steps, ``await`` where this one blocks.

With read replicas (vecpg/db/replicas.py) a search may get a replica's connection. Writes never
run there: a step that is not a search, after steps held a replica's connection, ends that
(read-only) transaction and goes on with the primary's. A replica that goes away during a search
is the store's to mark down, and the search runs again where the store sends it next; a failure
of the search's own SQL is thrown into the operation as any other.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import psycopg

from . import session
from .statement import Call, Operation, Result, Statement, Step, steps

T = TypeVar("T")


class Connections(Protocol):
    """Where a runner gets connections (``Store`` is one)."""

    def connection(self, *, for_search: bool = False) -> AbstractContextManager[psycopg.Connection]: ...

    def admin_connection(self) -> AbstractContextManager[psycopg.Connection]: ...


class Routed(Connections, Protocol):
    """Connections that may be a read replica's (``Store`` with ``read_urls``: ``routed``)."""

    @property
    def routed(self) -> bool: ...

    def on_replica(self, conn: psycopg.Connection) -> bool: ...

    def replica_lost(self, conn: psycopg.Connection, exc: BaseException) -> bool: ...


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

    def __init__(self, connections: Routed) -> None:
        self._connections = connections

    def run(self, operation: Operation[T]) -> T:
        """The operation's value."""
        if type(operation) is Statement:
            if operation.admin:
                with self._connections.admin_connection() as conn:
                    return execute(conn, operation)
            if not self._connections.routed:  # one connection, one round trip: no steps to drive
                with self._connections.connection(for_search=operation.settings is not None) as conn:
                    return execute(conn, operation)
            return self._steps(steps(operation))  # one step: a replica's failure handled once, below
        return self._steps(operation)  # type: ignore[arg-type]

    def _steps(self, operation: Generator[Step, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        held: AbstractContextManager[psycopg.Connection] | None = None  # the connection the steps share
        conn: psycopg.Connection | None = None
        try:
            while True:
                try:
                    step = operation.send(value) if error is None else operation.throw(error)
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
                if held is not None and step.settings is None and self._connections.on_replica(conn):  # type: ignore[arg-type]
                    done, held, conn = held, None, None  # a write after searches: onto the primary
                    done.__exit__(None, None, None)
                while True:  # again only when a replica went away under the step
                    if held is None:
                        held = self._connections.connection(for_search=step.settings is not None)
                        conn = held.__enter__()
                    try:
                        value = execute(conn, step)  # type: ignore[arg-type]
                        break
                    except Exception as exc:  # noqa: BLE001 - thrown into the operation below
                        failed, held = held, None
                        lost = self._connections.replica_lost(conn, exc)  # type: ignore[arg-type]
                        conn = None
                        try:
                            failed.__exit__(type(exc), exc, exc.__traceback__)
                            error = exc
                        except Exception as translated:  # noqa: BLE001 - Store.connection's vecpg error
                            error = translated
                        if not lost:
                            break
                        error = None  # the replica's read-only transaction is gone: the step elsewhere
        except BaseException as exc:
            if held is not None:  # the transaction of a failed operation rolls back
                failed, held = held, None
                failed.__exit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            operation.close()
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
    routed = False

    def on_replica(self, conn: psycopg.Connection) -> bool:
        return False

    def replica_lost(self, conn: psycopg.Connection, exc: BaseException) -> bool:
        return False
