"""A progress bar (on stderr) for ingests, from how much of the file has been read."""

from __future__ import annotations

import time


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
