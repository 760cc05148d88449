"""Metadata filters: validated in Python, compiled to a parameterised SQL predicate.

A filter is a JSON object of metadata keys and the values they must equal, e.g.
``{"topic": "astronomy", "year": 2024}``. It compiles to ``metadata @> %(filter)s`` which the
collection's GIN ``jsonb_path_ops`` index serves. An empty filter compiles to nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from .errors import FilterError


def parse_filter(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A filter from a dict or JSON text; FilterError names what is wrong."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise FilterError(f"filter is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(value, Mapping):
        raise FilterError(f"filter must be a JSON object, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise FilterError(f"filter keys must be non-empty strings, got {key!r}")
        if key.startswith("$"):
            raise FilterError(f"unsupported filter key {key!r}: only equality on metadata keys is supported")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"filter is not valid JSON: {exc}") from None
    return dict(value)


def compile_filter(value: str | Mapping[str, Any] | None) -> tuple[sql.Composable, dict[str, Any]]:
    """SQL predicate (``AND ...`` or empty) and its parameters for a filter."""
    parsed = parse_filter(value)
    if not parsed:
        return sql.SQL(""), {}
    return sql.SQL("AND metadata @> %(filter)s"), {"filter": Jsonb(parsed)}
