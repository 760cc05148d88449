"""A progress bar (on stderr) for index builds, read from PostgreSQL's progress view while they run."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..resources import query

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from ..ops.runner import Connections
    from .builds import Follow


class _IndexBuildBar:
    """A bar (on stderr) following one backend's row of pg_stat_progress_create_index.

    The build runs in the caller's thread (so Ctrl-C cancels its statement); this thread reads
    the view from a second pooled connection every ``interval`` seconds. The bar appears once
    the build has started, so a refused build prints nothing but its error.
    """

    def __init__(self, store: Connections, label: str, interval: float) -> None:
        self.store, self.label, self.interval = store, label, interval
        self._pid: int | None = None
        self._stop = threading.Event()
        self._bar: Any = None
        self._phase: tuple[str, str] | None = None
        # A context of its own: the caller's tenant (a ContextVar) would put every read of the
        # view in one transaction, which sees one snapshot of it.
        self._thread = threading.Thread(target=contextvars.Context().run, args=(self._watch,),
                                        name="vecpg-index-progress", daemon=True)

    def follow(self, pid: int) -> None:
        """Follow the build statement that backend ``pid`` runs from now on."""
        self._pid = pid

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._bar is not None:
            self._bar.close()

    def _watch(self) -> None:
        from tqdm import tqdm

        while not self._stop.wait(self.interval):
            if self._pid is None:
                continue
            try:
                with self.store.connection() as conn:
                    row = conn.execute(query("index_progress"), {"pid": self._pid}).fetchone()  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - a bar is a convenience: it never fails the build
                return
            if row is None:
                continue
            phase, tuples_done, tuples_total, blocks_done, blocks_total = row
            # Some phases count tuples, others table blocks; each starts its own count.
            unit, done, total = (("row", tuples_done, tuples_total) if tuples_total
                                 else ("block", blocks_done, blocks_total))
            if self._bar is None:
                self._bar = tqdm(desc=self.label, leave=True)
            if (phase, unit) != self._phase:
                self._phase = (phase, unit)
                self._bar.unit = unit
                self._bar.reset(total=total or None)
                self._bar.set_postfix_str(phase, refresh=False)
            self._bar.update((done or 0) - self._bar.n)


@contextmanager
def index_build_progress(store: Connections, label: str, enabled: bool = True,
                         interval: float = 0.5) -> Iterator[Follow | None]:
    """A progress bar for index builds run inside the block, fed by pg_stat_progress_create_index:
    yields the function to tell it which backend builds (None when not ``enabled``)."""
    if not enabled:
        yield None
        return
    with _IndexBuildBar(store, label, interval) as bar:
        yield bar.follow
