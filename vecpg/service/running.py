"""Running a request's database work: in a worker thread, as its key's tenant and role, under
the statement timeout, and cancelled when the client goes away.

The sync store does the work; the event loop only waits, in slices of ``POLL`` seconds. A
request that is done within the first slice (most searches) costs one thread hop and no more;
past it, the loop checks the client's connection between slices, and once the client has
disconnected, the query running for it is cancelled on the server (``Connection.cancel_safe``),
so an abandoned request stops costing the database anything.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

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


async def run(request: Request, store: Any, acting: Acting | None, work: Callable[[], T],
              executor: Executor | None = None) -> T:
    """``work()`` in a thread of ``executor``, its transactions set up by ``acting`` (None: the
    store's own settings); its query cancelled if the client leaves."""
    await request.body()  # read (and kept) first: watching for a disconnect consumes what arrives
    watch = Watch()

    def in_context() -> T:
        if acting is None:
            return work()
        with store.acting(Acting(acting.tenant, acting.role, acting.settings, watch)):
            return work()

    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(executor, context.run, in_context)
    while True:
        done, _ = await asyncio.wait({future}, timeout=POLL)
        if done:
            return future.result()
        if not watch.cancelled and await request.is_disconnected():
            watch.cancel()  # the work ends with the cancelled statement's error, awaited above
