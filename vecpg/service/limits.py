"""What one request of ``vecpg serve`` may ask for: bounds set once, checked before any work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument


@dataclass(frozen=True)
class Limits:
    """``max_body_bytes``: a request body (413 beyond); ``max_k``: results per query;
    ``max_batch``: queries per batch search; ``max_documents``: documents per upsert or ids per
    delete; ``max_filter_depth``: nesting of a filter's objects and lists; ``statement_timeout``:
    seconds each statement of a request may run (408 beyond, rolled back)."""

    max_body_bytes: int = 8 * 1024 * 1024
    max_k: int = 200
    max_batch: int = 100
    max_documents: int = 1000
    max_filter_depth: int = 8
    statement_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_k", "max_batch", "max_documents", "max_filter_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.statement_timeout, int | float) or not 0 < self.statement_timeout <= 3600:
            raise InvalidArgument(f"statement_timeout must be in (0, 3600] seconds, got {self.statement_timeout!r}")

    def check_k(self, k: int) -> None:
        if k > self.max_k:
            raise InvalidArgument(f"k is {k}: this service returns at most {self.max_k} results a query")

    def check_count(self, count: int, what: str, most: int) -> None:
        if count > most:
            raise InvalidArgument(f"{count:,} {what} in one request: at most {most:,}")

    def check_filter(self, filter: Any) -> None:
        if filter is not None and depth(filter) > self.max_filter_depth:
            raise InvalidArgument(f"the filter nests deeper than {self.max_filter_depth} levels")


def depth(value: Any) -> int:
    """How deep objects and lists nest in a JSON value (a scalar is 0), without recursion: a
    hostile body nests deeper than Python's stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest
