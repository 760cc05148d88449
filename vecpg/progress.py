"""Progress bars (on stderr) for long work: index builds, read from PostgreSQL's progress views
while they run, and ingests, from how much of the file has been read."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .collection import Collection
    from .indexes import IndexSpec

_PROGRESS = """
SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total
FROM pg_stat_progress_create_index
WHERE relid = to_regclass(%s)
"""


def create_index_with_progress(collection: Collection, spec: IndexSpec, interval: float = 0.5) -> str:
    """Build an index while a progress bar (on stderr) follows pg_stat_progress_create_index.

    The bar appears only once the build has started, so a refused build prints nothing but its error.
    """
    from tqdm import tqdm

    outcome: dict[str, object] = {}

    def build() -> None:
        try:
            outcome["name"] = collection.create_index(spec)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=build, name="vecpg-index-build", daemon=True)
    worker.start()
    table = f'"{collection.info.schema}"."{collection.info.table}"'
    bar: tqdm | None = None
    try:
        with collection.store.connection() as conn:
            while worker.is_alive():
                worker.join(interval)
                row = conn.execute(_PROGRESS, (table,)).fetchone()
                if row is None:
                    continue
                phase, tuples_done, tuples_total, blocks_done, blocks_total = row
                # Some phases count tuples, others table blocks.
                unit, done, total = (("row", tuples_done, tuples_total) if tuples_total
                                     else ("block", blocks_done, blocks_total))
                if bar is None:
                    bar = tqdm(desc=f"{spec.method} index on {collection.name}", leave=True)
                bar.unit = unit
                bar.total = total or None
                bar.n = done or 0
                bar.set_postfix_str(phase)
    finally:
        worker.join()
        if bar is not None:
            bar.close()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return str(outcome["name"])


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
