"""LlamaIndex's ``MetadataFilters`` in vecpg's filter language (docs/filters.md).

Every operator has LlamaIndex's meaning (``llama_index.core.vector_stores.utils``, the reference
store's filter function) or is refused with a FilterError: a filter is never dropped or widened.
Values keep their JSON type, as LlamaIndex stores them: a number never equals the string of its
digits, and a comparison skips documents whose value is not a number (or a date), so no value
stored under a key can make a filter fail (llama-index #15962, #18648). Keys are metadata keys
(``metadata.`` is prefixed, so ``id`` is the metadata key, not the column); a dotted key reads
nested metadata, as vecpg's and Qdrant's filters do.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import FilterError, MissingDependency

try:
    from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
except ImportError as exc:
    raise MissingDependency("vecpg.llamaindex needs LlamaIndex: pip install 'vecpg[llamaindex]'") from exc

_COMPARE = {FilterOperator.GT: "$gt", FilterOperator.GTE: "$gte", FilterOperator.LT: "$lt", FilterOperator.LTE: "$lte"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def to_vecpg_filter(filters: MetadataFilters | None) -> dict[str, Any]:
    """The vecpg filter of LlamaIndex filters; ``{}`` (everything) for none."""
    if filters is None:
        return {}
    parts = [to_vecpg_filter(f) if isinstance(f, MetadataFilters) else _one(f) for f in filters.filters]
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:  # LlamaIndex: none of the filters match
        return {"$not": _combine("$or", parts)} if parts else {}
    if condition not in (FilterCondition.AND, FilterCondition.OR):
        raise FilterError(f"unknown LlamaIndex filter condition {condition!r}")
    return _combine("$and" if condition == FilterCondition.AND else "$or", parts)


def _combine(op: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    if not parts:
        return {}  # an empty group matches everything, as MetadataFilters(filters=[]) does
    return parts[0] if len(parts) == 1 else {op: parts}


def _one(f: MetadataFilter) -> dict[str, Any]:
    op, value = f.operator, f.value
    if not f.key:
        raise FilterError("LlamaIndex filter with an empty key")
    key = "metadata." + f.key
    if op in (FilterOperator.EQ, FilterOperator.NE):
        if isinstance(value, list):
            raise FilterError(f"filter on {f.key!r}: {op.name} compares one value, got a list "
                              "(use ANY, ALL or CONTAINS for list fields, IN for one of several values)")
        return {key: {"$eq" if op == FilterOperator.EQ else "$ne": value}}
    if op in _COMPARE:
        if isinstance(value, str) and not _ISO_DATE.match(value):
            raise FilterError(f"filter on {f.key!r}: {op.name} compares numbers or ISO-8601 dates, not the string "
                              f"{value!r} (vecpg has no ordering of arbitrary strings)")
        if not isinstance(value, (int, float, str)):
            raise FilterError(f"filter on {f.key!r}: {op.name} needs a number or an ISO-8601 date, got {value!r}")
        return {key: {_COMPARE[op]: value}}
    if op in (FilterOperator.IN, FilterOperator.NIN):
        return {key: {"$in" if op == FilterOperator.IN else "$nin": _values(f)}}
    if op == FilterOperator.CONTAINS:
        if isinstance(value, list) or value is None:
            raise FilterError(f"filter on {f.key!r}: CONTAINS takes one value (use ALL or ANY for several)")
        return {key: {"$contains": value}}
    if op == FilterOperator.ANY:
        values = _values(f)
        if not values:
            return {key: {"$in": []}}  # any of nothing: no document
        return _combine("$or", [{key: {"$contains": v}} for v in values])
    if op == FilterOperator.ALL:
        return {key: {"$contains": _values(f)}}
    if op == FilterOperator.IS_EMPTY:
        # Missing, null, "" or [] (an array with no element 0).
        return {"$or": [{key: {"$exists": False}}, {key: None}, {key: ""},
                        {"$and": [{key: {"$contains": []}}, {f"{key}.0": {"$exists": False}}]}]}
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        raise FilterError(f"filter on {f.key!r}: {op.name} (substring match) has no vecpg equivalent; "
                          "use EQ, IN or a keyword search (query mode text_search or hybrid)")
    raise FilterError(f"filter on {f.key!r}: LlamaIndex operator {op!r} has no vecpg equivalent")


def _values(f: MetadataFilter) -> list[Any]:
    if f.value is None:
        raise FilterError(f"filter on {f.key!r}: {f.operator.name} needs a list of values")
    return list(f.value) if isinstance(f.value, list) else [f.value]
