"""Haystack's filters in vecpg's filter language (docs/filters.md).

Haystack writes ``{"field": "meta.year", "operator": ">=", "value": 2020}`` and combines
conditions with ``{"operator": "AND" | "OR" | "NOT", "conditions": [...]}``. The translation
keeps Haystack's semantics where they differ from a plain reading of vecpg's operators: ``!=`` and
``not in`` match documents without the field, ``== None`` matches documents without it (or with
a null), an ordering comparison with None matches nothing, and one with anything but a number or
an ISO-8601 date is a FilterError. What has no translation (a filter on ``content``, say) is a
FilterError too, never a filter quietly dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from haystack.errors import FilterError

_COMPARISONS = {"==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte",
                "in": "$in", "not in": "$nin"}
_LOGIC = ("AND", "OR", "NOT")
NOTHING: dict[str, Any] = {"$not": {}}  # matches no document ({} matches every one)


def translate(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """A vecpg filter for Haystack ``filters``; {} (every document) for none."""
    if not filters:
        return {}
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters must be a dictionary, got {type(filters).__name__}")
    return _node(filters)


def _node(node: Any) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        raise FilterError(f"a filter condition must be a dictionary, got {type(node).__name__}")
    if "field" in node:
        return _comparison(node)
    if "operator" not in node:
        raise FilterError(f"filter {dict(node)!r} has no 'operator' key")
    if "conditions" not in node:
        raise FilterError(f"filter {dict(node)!r} is missing 'field' (a comparison) or 'conditions' (AND, OR, NOT)")
    operator, conditions = node["operator"], node["conditions"]
    if operator not in _LOGIC:
        raise FilterError(f"unknown logical operator {operator!r}: use AND, OR or NOT")
    if not isinstance(conditions, list):
        raise FilterError(f"the conditions of {operator} must be a list, got {type(conditions).__name__}")
    parts = [_node(c) for c in conditions]
    if operator == "OR":
        return {"$or": parts} if parts else NOTHING
    both = {"$and": parts} if parts else {}
    return {"$not": both} if operator == "NOT" else both


def _field(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise FilterError(f"a filter field must be a non-empty string, got {name!r}")
    if name == "id":
        return "id"
    if name.startswith("meta.") and len(name) > 5:
        return "metadata." + name[5:]  # vecpg reads metadata.<key> as metadata even where a column shadows it
    raise FilterError(f"cannot filter on field {name!r}: vecpg filters on 'id' and on metadata, "
                      "written 'meta.<key>' ('meta.a.b' for a nested key)")


def _is_date(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _comparison(node: Mapping[str, Any]) -> dict[str, Any]:
    if "operator" not in node:
        raise FilterError(f"filter condition {dict(node)!r} has no 'operator' key")
    if "value" not in node:
        raise FilterError(f"filter condition {dict(node)!r} has no 'value' key")
    field, operator, value = _field(node["field"]), node["operator"], node["value"]
    if operator not in _COMPARISONS:
        raise FilterError(f"unknown comparison operator {operator!r} on {node['field']!r}: "
                          f"use {', '.join(_COMPARISONS)}")
    if field == "id" and operator not in ("==", "!=", "in", "not in"):
        raise FilterError(f"operator {operator!r} is not supported on id (use ==, !=, in, not in)")
    missing = {field: {"$exists": False}}
    if operator in ("in", "not in"):
        if not isinstance(value, list):
            raise FilterError(f"operator {operator!r} on {node['field']!r} needs a list, got {type(value).__name__}")
        if None in value:
            raise FilterError(f"operator {operator!r} on {node['field']!r}: None in the list is not supported")
        _check_scalars(value, node)
        return {field: {_COMPARISONS[operator]: value}}
    if operator in ("==", "!="):
        if value is None:
            absent = {"$or": [missing, {field: {"$eq": None}}]} if field != "id" else NOTHING
            return absent if operator == "==" else {"$not": absent}
        _check_scalars([value], node)
        return {field: {_COMPARISONS[operator]: value}}
    if value is None:
        return NOTHING  # Haystack: nothing is greater or smaller than None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (
            isinstance(value, str) and not _is_date(value)):
        raise FilterError(f"operator {operator!r} on {node['field']!r} compares numbers or ISO-8601 dates, "
                          f"got {value!r}")
    return {field: {_COMPARISONS[operator]: value}}


def _check_scalars(values: list[Any], node: Mapping[str, Any]) -> None:
    # Equality on metadata is JSON containment: a list or an object would match any superset.
    for value in values:
        if isinstance(value, (list, dict, tuple)):
            raise FilterError(f"operator {node['operator']!r} on {node['field']!r} compares single values, "
                              f"got {value!r}")
