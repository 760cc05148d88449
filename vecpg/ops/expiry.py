"""Documents that expire: a collection's TTL, how many expired documents wait, and the purge.

A document past its ``expires_at`` is gone for every read at once (``vecpg.where_sql``); the
purge deletes it later through the table's own DELETE triggers, so the keyword statistics and
index, the chunks and the Qdrant mirror follow (sql/idempotent/17_expiry.sql). The purge and
its count run where row-level security does not restrict them (``Statement.admin``): expiry is
every tenant's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from ..errors import InvalidArgument
from .statement import Statement, Steps, number

DEFAULT_PURGE_BATCH = 1000
MAX_PURGE_BATCH = 100_000  # as vecpg.purge_expired checks


def check_ttl(ttl: Any) -> timedelta | None:
    """A TTL is a positive timedelta, or None for none."""
    if ttl is None:
        return None
    if not isinstance(ttl, timedelta):
        raise InvalidArgument(f"ttl must be a datetime.timedelta or None, got {type(ttl).__name__}")
    if ttl <= timedelta(0):
        raise InvalidArgument(f"ttl must be positive, got {ttl}")
    return ttl


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta | None:
    """A TTL as the CLI takes it: a whole number of s, m, h, d or w ("30d"), or "none"."""
    if text.strip().lower() == "none":
        return None
    found = _DURATION.match(text.lower())
    if not found or int(found[1]) == 0:
        raise InvalidArgument(f"ttl {text!r}: give a positive whole number of s, m, h, d or w (30d, 12h), or none")
    return timedelta(seconds=int(found[1]) * _UNITS[found[2]])


def format_duration(ttl: timedelta | None) -> str | None:
    """A TTL in the largest unit that says it exactly ("30d"), or None."""
    if ttl is None:
        return None
    seconds = int(ttl.total_seconds())
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{ttl.total_seconds():g}s"  # pragma: no cover - a fraction of a second


def check_batch(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_PURGE_BATCH:
        raise InvalidArgument(f"batch_size must be an integer between 1 and {MAX_PURGE_BATCH:,}, got {batch_size!r}")
    return batch_size


def set_ttl(name: str, ttl: timedelta | None, apply_to_existing: bool) -> Statement[int]:
    """Set or clear the TTL; the value: the documents given an expiry (``apply_to_existing``)."""
    return Statement("SELECT vecpg.set_ttl(%s, %s, %s)", (name, ttl, apply_to_existing), number)


def expired_count(name: str) -> Statement[int]:
    return Statement("SELECT vecpg.expired_count(%s)", (name,), number, admin=True)


def purge(name: str, batch_size: int, progress: bool = False) -> Steps[int]:
    """Delete every expired document, ``batch_size`` a transaction (short locks: the rows of one
    batch), until a batch comes back short; the value: how many went."""
    total = (yield expired_count(name)) if progress else None
    purged = 0
    with _bar(progress, total, name) as advance:
        while True:
            n = yield Statement("SELECT vecpg.purge_expired(%s, %s)", (name, batch_size), number, admin=True)
            purged += n
            advance(n)
            if n < batch_size:
                return purged


@contextmanager
def _bar(enabled: bool, total: int | None, name: str) -> Iterator[Any]:
    if not enabled:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="doc", desc=f"purging {name}") as bar:
        yield bar.update
