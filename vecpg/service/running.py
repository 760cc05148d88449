"""Running a request's database work: in a worker thread, as its key's tenant and role, under
the statement timeout, and cancelled when the client goes away.

The sync store does the work (the async runner comes with the async API); the event loop only
waits. While it waits it polls the connection of the client: once the client has disconnected,
the query running for it is cancelled on the server (``Connection.cancel_safe``), so an
abandoned request stops costing the database anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import psycopg
from starlette.requests import Request

from ..db.acting import Acting

T = TypeVar("T")
POLL = 0.05  # seconds between checks of the client's connection


class Watch:
    """The connection a request's work is using, so another thread can cancel its query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self.cancelled = False

    def __call__(self, conn: psycopg.Connection | None) -> None:
        with self._lock:
            self._conn = conn

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._conn is not None:
                try:
                    self._conn.cancel_safe(timeout=2.0)
                except psycopg.Error:  # the query ended meanwhile: nothing to cancel
                    pass


async def run(request: Request, store: Any, acting: Acting, work: Callable[[], T]) -> T:
    """``work()`` in a thread, its transactions set up by ``acting``; cancelled if the client leaves."""
    await request.body()  # read (and kept) first: watching for a disconnect consumes what arrives
    watch = Watch()
    acting = Acting(acting.tenant, acting.role, acting.settings, watch)

    def in_context() -> T:
        with store.acting(acting):
            return work()

    done = anyio.Event()

    async def watch_client() -> None:
        while not done.is_set():
            if await request.is_disconnected():
                watch.cancel()
                return
            with anyio.move_on_after(POLL):
                await done.wait()

    error: BaseException | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(watch_client)
        try:
            result = await anyio.to_thread.run_sync(in_context)
        except BaseException as exc:  # noqa: BLE001 - raised below, not wrapped in the group's ExceptionGroup
            error = exc
        finally:
            done.set()
    if error is not None:
        raise error
    return result
