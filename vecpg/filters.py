"""Filters in Python: parsed here, compiled by the database's own ``vecpg.compile_filter``.

The filter language lives in one place, sql/idempotent/04_filters.sql, so it is the same from
psql, Python and the CLI. A compiled predicate reads every value from the filter itself, passed
as a parameter, so it depends only on the filter's *shape* (keys, operators, value types):
each store caches predicates by shape and a search with a known shape costs no extra round trip.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from threading import Lock
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from .errors import FilterError
from .ops.statement import Statement, Steps, scalar

# Stands for the filter parameter in compiled text until it becomes a psycopg placeholder.
# Random per process, so no key a user writes can aim at it.
_TOKEN = f"vecpg_filter_{secrets.token_hex(8)}"


def parse_filter(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A filter from a dict or JSON text; FilterError names what is wrong with the JSON."""
    if value is None or (isinstance(value, dict) and not value):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            raise FilterError("filter is nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise FilterError(f"filter is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(value, Mapping):
        raise FilterError(f"filter must be a JSON object, got {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise FilterError(f"filter is not valid JSON: {exc}") from None
    if "\\u0000" in encoded:
        raise FilterError("filter contains a NUL character, which PostgreSQL cannot store")
    return dict(value)


def _shape(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _shape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    if isinstance(value, bool):
        return "b"
    if isinstance(value, (int, float)):
        return "n"
    if value is None:
        return "z"
    return "s"


def filter_shape(value: Mapping[str, Any]) -> str:
    """The filter with every scalar replaced by its JSON type: what its predicate depends on."""
    return json.dumps(_shape(value), sort_keys=True)


_EMPTY: tuple[sql.Composable, dict[str, Any]] = (sql.SQL(""), {})


class FilterCompiler:
    """Compiles filters through the database, caching predicates by shape."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._cache: OrderedDict[str, sql.Composable] = OrderedDict()
        self._lock = Lock()

    def compile(self, value: str | Mapping[str, Any] | None) -> Steps[tuple[sql.Composable, dict[str, Any]]]:
        """``AND (predicate)`` over table alias ``d`` and its parameters; nothing for an empty
        filter. An operation (vecpg/ops/): a shape not seen before is compiled by the database."""
        parsed = parse_filter(value)
        if not parsed:
            return _EMPTY[0], {}
        key = filter_shape(parsed)
        with self._lock:
            predicate = self._cache.get(key)
            if predicate is not None:
                self._cache.move_to_end(key)
        if predicate is None:
            compiled = yield Statement("SELECT vecpg.compile_filter(%s, %s, 'd')", (Jsonb(parsed), _TOKEN), scalar)
            text = "true" if compiled is None else str(compiled)
            # The text came from compile_filter: identifiers and keys quoted there, no values in it.
            text = text.replace("%", "%%").replace(_TOKEN, "%(filter)s")
            predicate = sql.SQL("AND (" + text + ")")  # type: ignore[arg-type]
            with self._lock:
                self._cache[key] = predicate
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return predicate, {"filter": Jsonb(parsed)}
