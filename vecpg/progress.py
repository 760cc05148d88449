"""Progress bars (on stderr) for long work: index builds, read from PostgreSQL's progress views
while they run, and ingests, from how much of the file has been read."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .resources import query

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

    from .collection import Collection
    from .index_builds import Follow
    from .indexes import IndexSpec
    from .search.target import Database


class _IndexBuildBar:
    """A bar (on stderr) following one backend's row of pg_stat_progress_create_index.

    The build runs in the caller's thread (so Ctrl-C cancels its statement); this thread reads
    the view from a second pooled connection every ``interval`` seconds. The bar appears once
    the build has started, so a refused build prints nothing but its error.
    """

    def __init__(self, store: Database, label: str, interval: float) -> None:
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
def index_build_progress(store: Database, label: str, enabled: bool = True,
                         interval: float = 0.5) -> Iterator[Follow | None]:
    """A progress bar for index builds run inside the block, fed by pg_stat_progress_create_index:
    yields the function to tell it which backend builds (None when not ``enabled``)."""
    if not enabled:
        yield None
        return
    with _IndexBuildBar(store, label, interval) as bar:
        yield bar.follow


def create_index_with_progress(collection: Collection, spec: IndexSpec, **options: Any) -> str:
    """``collection.create_index(spec, progress=True, **options)``: build an index with a bar."""
    return collection.create_index(spec, progress=True, **options)


class IngestBar:
    """How much of a file an ingest has read (bytes, or documents for Parquet), with the
    documents per second of this run beside it.

    Bytes rather than records: counting the records of a large gzipped file first would read it
    twice. tqdm redraws at most ten times a second, so ``update`` is cheap to call often.
    """

    def __init__(self, desc: str, total: int, unit: str) -> None:
        from tqdm import tqdm

        scaled = unit == "B"
        self._bar = tqdm(total=total or None, unit=unit, unit_scale=scaled, unit_divisor=1024 if scaled else 1000,
                         desc=desc, dynamic_ncols=True)
        self._start = time.monotonic()

    def update(self, position: int, docs: int) -> None:
        """``position``: how much of the total is read; ``docs``: documents read by this run."""
        elapsed = time.monotonic() - self._start
        rate = docs / elapsed if elapsed > 0 else 0.0
        self._bar.set_postfix_str(f"{docs:,} docs, {rate:,.0f} docs/s", refresh=False)
        self._bar.update(position - self._bar.n)

    def close(self) -> None:
        self._bar.close()
