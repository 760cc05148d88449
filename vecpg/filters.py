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


_NO_SHAPE = filter_shape({})


def _key(parsed: dict[str, Any], live: bool) -> tuple[bool, str]:
    """A predicate's place in the cache (no filter, what every search asks, skips the shape)."""
    return live, filter_shape(parsed) if parsed else _NO_SHAPE


class FilterCompiler:
    """Compiles filters through the database, caching predicates by shape (and liveness)."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._cache: OrderedDict[tuple[bool, str], sql.Composable] = OrderedDict()
        self._lock = Lock()

    def known(self, value: str | Mapping[str, Any] | None, *,
              live: bool = True) -> tuple[sql.Composable, dict[str, Any]] | None:
        """What ``compile`` gives, when it needs no round trip (a shape seen before); else None."""
        return self._known(parse_filter(value), live)

    def _known(self, parsed: dict[str, Any], live: bool) -> tuple[sql.Composable, dict[str, Any]] | None:
        if not parsed and not live:
            return sql.SQL(""), {}
        key = _key(parsed, live)
        with self._lock:
            predicate = self._cache.get(key)
            if predicate is None:
                return None
            self._cache.move_to_end(key)
        return predicate, ({"filter": Jsonb(parsed)} if parsed else {})

    def compile(self, value: str | Mapping[str, Any] | None, *,
                live: bool = True) -> Steps[tuple[sql.Composable, dict[str, Any]]]:
        """``AND (predicate)`` over table alias ``d`` and its parameters. ``live``: also AND not
        expired (every read; a delete by filter reaches expired documents too). An operation
        (vecpg/ops/): a shape not seen before is compiled by the database (vecpg.where_sql)."""
        parsed = parse_filter(value)
        known = self._known(parsed, live)
        if known is not None:
            return known
        compiled = yield Statement("SELECT vecpg.where_sql(vecpg.compile_filter(%s, %s, 'd'), %s)",
                                   (Jsonb(parsed), _TOKEN, live), scalar, settings={})  # a read: replicas may answer
        # The text came from where_sql: identifiers and keys quoted there, no values in it.
        text = str(compiled or "").replace("%", "%%").replace(_TOKEN, "%(filter)s")
        predicate = sql.SQL(text)  # type: ignore[arg-type]
        with self._lock:
            self._cache[_key(parsed, live)] = predicate
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return predicate, ({"filter": Jsonb(parsed)} if parsed else {})
