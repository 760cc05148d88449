"""The asynchronous runner: runner.py's twin on psycopg's AsyncConnection.

The same operations, the same steps, ``await`` where the sync runner blocks. A ``Call`` (embedding
a query, a COPY on a connection of the store's own) runs in a worker thread, so the event loop
never waits on the model; the thread sees the task's tenant (contextvars are copied). A statement
marked ``admin`` goes to the sync store's admin connection, in a thread, as rare as it is. Read
replicas as in runner.py: a write after searches on a replica's connection goes on with the
primary's, and a search whose replica went away runs again where the store sends it next.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

import psycopg

from . import session
from .statement import Call, Operation, Result, Statement, Step, steps

T = TypeVar("T")


class AsyncConnections(Protocol):
    """Where the async runner gets connections (``vecpg.aio.AsyncStore`` is one)."""

    def connection(self, *, for_search: bool = False) -> AbstractAsyncContextManager[psycopg.AsyncConnection]: ...

    def run_admin(self, statement: Statement[T]) -> T: ...

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T: ...

    def on_replica(self, conn: psycopg.AsyncConnection) -> bool: ...

    def replica_lost(self, conn: psycopg.AsyncConnection, exc: BaseException) -> bool: ...


async def execute(conn: psycopg.AsyncConnection, statement: Statement[T]) -> T:
    """runner.execute on an AsyncConnection: a search's settings go first (session.py)."""
    if statement.settings is None:
        cursor = await conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        return statement.result(Result(await cursor.fetchall() if cursor.description else [], cursor.rowcount))
    state = session.known(conn)
    if state is None:
        read = session.READ
        state = session.remember(conn, await (await conn.execute(read.query, read.params)).fetchall())  # type: ignore[arg-type]
    changes = state.changes(statement.settings, statement.ef_search_floor)
    try:
        if changes:
            change = session.setting(changes)
            async with conn.pipeline():
                await conn.execute(change.query, change.params)  # type: ignore[arg-type]
                cursor = await conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        else:
            cursor = await conn.execute(statement.query, statement.params, binary=statement.binary)  # type: ignore[arg-type]
        rows = await cursor.fetchall()
    except BaseException:
        state.forget()
        raise
    state.applied(changes)
    return statement.result(Result(rows, cursor.rowcount))


async def restore(conn: psycopg.AsyncConnection) -> None:
    """runner.restore on an AsyncConnection."""
    state = session.known(conn)
    if state is None:
        return
    changes = state.restoring()
    if changes:
        try:
            await execute(conn, session.setting(changes))
        except BaseException:
            state.forget()
            raise
        state.applied(changes)


class AsyncRunner:
    """Runs operations on the async connections of ``connections``."""

    def __init__(self, connections: AsyncConnections) -> None:
        self._connections = connections

    async def run(self, operation: Operation[T]) -> T:
        """The operation's value."""
        if type(operation) is Statement:
            if operation.admin:
                return await self._connections.in_thread(self._connections.run_admin, operation)
            return await self._steps(steps(operation))  # one step: a replica's failure handled once, below
        return await self._steps(operation)  # type: ignore[arg-type]

    async def _steps(self, operation: Generator[Step, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        held: AbstractAsyncContextManager[psycopg.AsyncConnection] | None = None
        conn: psycopg.AsyncConnection | None = None
        try:
            while True:
                try:
                    step = operation.send(value) if error is None else operation.throw(error)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                value, error = None, None
                if type(step) is Call:
                    value = await self._connections.in_thread(step.function, *step.args)
                    continue
                assert type(step) is Statement
                if step.admin:
                    value = await self._connections.in_thread(self._connections.run_admin, step)
                    continue
                if held is not None and step.settings is None and self._connections.on_replica(conn):  # type: ignore[arg-type]
                    done, held, conn = held, None, None  # a write after searches: onto the primary
                    await done.__aexit__(None, None, None)
                while True:  # again only when a replica went away under the step
                    if held is None:
                        held = self._connections.connection(for_search=step.settings is not None)
                        conn = await held.__aenter__()
                    try:
                        value = await execute(conn, step)  # type: ignore[arg-type]
                        break
                    except Exception as exc:  # noqa: BLE001 - thrown into the operation below
                        failed, held = held, None
                        lost = self._connections.replica_lost(conn, exc)  # type: ignore[arg-type]
                        conn = None
                        try:
                            await failed.__aexit__(type(exc), exc, exc.__traceback__)
                            error = exc
                        except Exception as translated:  # noqa: BLE001 - the store's vecpg error
                            error = translated
                        if not lost:
                            break
                        error = None  # the replica's read-only transaction is gone: the step elsewhere
        except BaseException as exc:
            if held is not None:  # the transaction of a failed or cancelled operation rolls back
                failed, held = held, None
                await failed.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            operation.close()
            if held is not None:
                await held.__aexit__(None, None, None)
