"""vecpg's JSON filters as Qdrant filters with the same meaning, for searches on the mirror.

The filter language is defined once, in SQL (sql/idempotent/04_filters.sql). This module is a
second reading of it over the payload of vecpg/mirror/points.py (metadata nested under
"metadata"; "doc_id", "created_at", "updated_at" as columns), and every construct it emits was
checked against PostgreSQL on the same rows (tests/test_mirror_filters.py). What it cannot say
exactly in Qdrant it refuses with a FilterError naming the key, never a near miss.

How Qdrant reads a path (measured on qdrant-edge 0.9 and qdrant-client's local mode, identical):
a key never steps into an array, and the value at the end of the path, when it is an array,
stands for its elements (one level). ``path[]`` stands only for the elements of an array (two
levels: elements, and the elements of elements that are arrays); on a scalar it stands for
nothing. So ``C(path) AND NOT C(path[])`` is "the value itself, not an array, satisfies C" and
``C(path) AND C(path[])`` is "an array with an element satisfying C" -- exactly the scalar and
array halves of PostgreSQL's jsonb containment, which never confuses ``"a"`` with ``["a"]``.

Translation table (P = the metadata path in Qdrant, quoted key by key):

    {"k": s} / {"k": {"$eq": s}}, s a string or boolean  MatchValue(P, s) and not MatchValue(P[], s)
    ... s a number                  Range(P, gte=s, lte=s) and not the same on P[]  (1 == 1.0)
    ... s null                      IsNull(P) and not IsNull(P[])
    ... {"k": {"a": V, ...}}        the same, key by key, on P.a (only an object has keys)
    ... {"k": [X, ...]}             for each X: an array element equal to X: C(P) and C(P[]);
                                    an object X: NestedCondition(P, X's conditions)
    $ne V                           must_not [equality with V]  (missing keys match, as in SQL)
    $in [V, ...] / $nin             should [equality with each V] / must_not of that;
                                    $in [] matches nothing, $nin [] everything
    $gt $gte $lt $lte number        Range(P, op) and not Range(P[], op)  (a JSON number only)
    $gt ... ISO-8601 string         DatetimeRange(P, op) and not on P[]  (the value as UTC)
    $contains X (array)             equality with the array X;  scalar or object X: with [X]
    $and / $or / $not               must / should / must_not of sub-filters
    id $eq/$ne/$in/$nin             MatchValue / MatchAny on "doc_id" (must_not for $ne/$nin)
    created_at / updated_at ops     DatetimeRange on the payload's ISO-8601 column copies

Untranslatable, always refused with FilterError (Qdrant has no condition that says it):
  * ``$exists`` (either way): Qdrant cannot tell a key holding ``[]`` from a missing key (both
    are "empty"), while SQL says the key exists.
  * equality, ``$ne``, ``$in``/``$nin`` or ``$contains`` with an empty array or empty object,
    anywhere in the value: "is an array" / "is an object" have no Qdrant condition.
  * an array inside an array value (``{"k": [["a"]]}``): ``P[]`` flattens nested arrays, so an
    element of an element cannot be addressed on its own.
  * ``$gt``..``$lte`` on a path with an integer-looking part ("tags.0"): SQL's ``#>`` indexes
    arrays with it, Qdrant's key only looks up object keys.
  * keys containing ``"`` or ``\\``: Qdrant's path syntax cannot quote them.
  * date/time filter values outside ``YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|+HH[:MM]]``
    (PostgreSQL also accepts "PST", "allballs", "24:00", nanoseconds...); integers beyond
    +-2**53 (Qdrant compares numbers as doubles); ``id`` $in/$nin elements that are null,
    fractional numbers, arrays or objects (SQL compares their text, and null makes $nin
    match nothing at all through SQL's three-valued logic).

Exact only for mirrored data within these bounds (data, not filters, so not checkable here):
  * metadata date strings in the form above (Qdrant parses "2024-1-5" and refuses
    "2024-01-05T12:00Z" where PostgreSQL does the opposite), and the PostgreSQL session
    TimeZone being UTC (PostgreSQL reads a date without offset in the session's zone, Qdrant
    always in UTC; vecpg's embedded server runs in UTC);
  * metadata numbers that are IEEE doubles (integers within +-2**53; PostgreSQL compares
    numerics exactly, Qdrant as doubles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..errors import FilterError, InvalidArgument
from ..filters import parse_filter
from . import points

MAX_DEPTH = 32  # as vecpg._filter_node
MAX_EXACT_INT = 2**53  # beyond it a double (Qdrant's number) no longer tells integers apart
COLUMNS = ("id", "created_at", "updated_at")
_OPERATORS = ("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$contains")
_RANGE = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
# The date and time forms PostgreSQL and Qdrant both read, and read the same way.
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
                   r"(Z|[+-]\d{2}(?::?\d{2})?)?$")
_INTEGER_PART = re.compile(r"^\s*[+-]?\d+\s*$")


# -- a small boolean tree, rendered by one adapter per Qdrant model family --------------------
@dataclass(frozen=True)
class All:
    parts: tuple[Node, ...]  # empty: matches everything


@dataclass(frozen=True)
class Any_:
    parts: tuple[Node, ...]  # never empty


@dataclass(frozen=True)
class Not:
    part: Node


@dataclass(frozen=True)
class Match:
    key: str
    value: str | bool


@dataclass(frozen=True)
class MatchAny:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    key: str
    bounds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class TimeRange:
    key: str
    bounds: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IsNull:
    key: str


@dataclass(frozen=True)
class IsEmpty:
    key: str


@dataclass(frozen=True)
class Nested:
    key: str
    part: Node


Node = All | Any_ | Not | Match | MatchAny | Range | TimeRange | IsNull | IsEmpty | Nested
EVERYTHING = All(())
NOTHING = Not(EVERYTHING)  # must_not [empty filter]: matches no point (checked in both families)


class Models(Protocol):
    """The Qdrant classes of one model family."""

    def filter(self, must: list[Any] | None = None, should: list[Any] | None = None,
               must_not: list[Any] | None = None) -> Any: ...
    def match(self, key: str, value: str | bool) -> Any: ...
    def match_any(self, key: str, values: list[str]) -> Any: ...
    def range(self, key: str, bounds: dict[str, float]) -> Any: ...
    def datetime_range(self, key: str, bounds: dict[str, str]) -> Any: ...
    def is_null(self, key: str) -> Any: ...
    def is_empty(self, key: str) -> Any: ...
    def nested(self, key: str, filter: Any) -> Any: ...


class EdgeModels:
    """qdrant_edge's classes (the in-process engine)."""

    def __init__(self) -> None:
        import qdrant_edge

        self.q = qdrant_edge

    def filter(self, must=None, should=None, must_not=None):  # type: ignore[no-untyped-def]
        return self.q.Filter(must=must, should=should, must_not=must_not)

    def match(self, key: str, value: str | bool) -> Any:
        if isinstance(value, bool):
            # qdrant-edge 0.9 reads a Python bool as the integer 0 or 1 (bool is an int), so
            # MatchValue(True) would match the number 1 and miss true; numpy's bool is no int.
            import numpy as np

            return self.q.FieldCondition(key, match=self.q.MatchValue(np.bool_(value)))  # type: ignore[arg-type]
        return self.q.FieldCondition(key, match=self.q.MatchValue(value))

    def match_any(self, key: str, values: list[str]) -> Any:
        return self.q.FieldCondition(key, match=self.q.MatchAny(values))

    def range(self, key: str, bounds: dict[str, float]) -> Any:
        return self.q.FieldCondition(key, range=self.q.RangeFloat(**bounds))

    def datetime_range(self, key: str, bounds: dict[str, str]) -> Any:
        return self.q.FieldCondition(key, range=self.q.RangeDateTime(**bounds))

    def is_null(self, key: str) -> Any:
        return self.q.IsNullCondition(key)

    def is_empty(self, key: str) -> Any:
        return self.q.IsEmptyCondition(key)

    def nested(self, key: str, filter: Any) -> Any:
        return self.q.NestedCondition(key, filter)


class ClientModels:
    """qdrant_client.models (a Qdrant server, or the client's local mode)."""

    def __init__(self) -> None:
        from qdrant_client import models

        self.m = models

    def filter(self, must=None, should=None, must_not=None):  # type: ignore[no-untyped-def]
        return self.m.Filter(must=must, should=should, must_not=must_not)

    def match(self, key: str, value: str | bool) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchValue(value=value))

    def match_any(self, key: str, values: list[str]) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchAny(any=values))

    def range(self, key: str, bounds: dict[str, float]) -> Any:
        return self.m.FieldCondition(key=key, range=self.m.Range(**bounds))

    def datetime_range(self, key: str, bounds: dict[str, str]) -> Any:
        return self.m.FieldCondition(key=key, range=self.m.DatetimeRange(**bounds))  # type: ignore[arg-type]  # ISO text parses

    def is_null(self, key: str) -> Any:
        return self.m.IsNullCondition(is_null=self.m.PayloadField(key=key))

    def is_empty(self, key: str) -> Any:
        return self.m.IsEmptyCondition(is_empty=self.m.PayloadField(key=key))

    def nested(self, key: str, filter: Any) -> Any:
        return self.m.NestedCondition(nested=self.m.Nested(key=key, filter=filter))


_FAMILIES: dict[str, Models] = {}


def models_for(family: str | Models) -> Models:
    """The adapter for "edge" or "client" (made once), or the adapter given."""
    if not isinstance(family, str):
        return family
    if family not in _FAMILIES:
        if family == "edge":
            _FAMILIES[family] = EdgeModels()
        elif family == "client":
            _FAMILIES[family] = ClientModels()
        else:
            raise InvalidArgument(f"unknown Qdrant model family {family!r} (use 'edge' or 'client')")
    return _FAMILIES[family]


def _flat(node: All) -> list[Node]:
    """An AND's parts with nested ANDs inlined: the same meaning, shallower Qdrant filters."""
    out: list[Node] = []
    for part in node.parts:
        out.extend(_flat(part) if isinstance(part, All) and part.parts else [part])
    return out


def render(node: Node, models: Models) -> Any:
    """A node as a Qdrant condition (a Filter for the combinators)."""
    if isinstance(node, All):
        return models.filter(must=[render(p, models) for p in _flat(node)])
    if isinstance(node, Any_):
        return models.filter(should=[render(p, models) for p in node.parts])
    if isinstance(node, Not):
        return models.filter(must_not=[render(node.part, models)])
    if isinstance(node, Match):
        return models.match(node.key, node.value)
    if isinstance(node, MatchAny):
        return models.match_any(node.key, list(node.values))
    if isinstance(node, Range):
        return models.range(node.key, dict(node.bounds))
    if isinstance(node, TimeRange):
        return models.datetime_range(node.key, dict(node.bounds))
    if isinstance(node, IsNull):
        return models.is_null(node.key)
    if isinstance(node, IsEmpty):
        return models.is_empty(node.key)
    return models.nested(node.key, render_filter(node.part, models))


def render_filter(node: Node, models: Models) -> Any:
    """A node as a Qdrant Filter (what searches, scrolls and Nested conditions take)."""
    if isinstance(node, (All, Any_, Not)):
        return render(node, models)
    return models.filter(must=[render(node, models)])


# -- messages in the SQL compiler's words -----------------------------------------------------
def _lit(text: str) -> str:
    """quote_literal, as the SQL messages quote keys."""
    return "'" + text.replace("'", "''") + "'"


def _json_type(value: Any) -> str:
    """jsonb_typeof of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _refuse(field: str, why: str) -> FilterError:
    return FilterError(f"filter on {_lit(field)} cannot be searched on the Qdrant mirror: {why}")


# -- paths ------------------------------------------------------------------------------------
def _quote(part: str, field: str) -> str:
    # Quoted, every key is read literally (spaces, "[", "$", unicode); Qdrant's path syntax has
    # no escape for these two, so such a key cannot be named at all.
    if '"' in part or "\\" in part:
        raise _refuse(field, 'Qdrant paths cannot name a key containing " or \\')
    return f'"{part}"'


def _metadata_parts(field: str) -> list[str]:
    """The metadata path of a field, split as the SQL compiler splits it."""
    path = field.removeprefix("metadata.")  # once: "metadata.metadata.x" is the key "metadata"
    parts = path.split(".")
    if "" in parts:
        raise FilterError(f"invalid filter key {_lit(field)}: empty part in a dotted path")
    return parts


def _join(base: str, part: str) -> str:
    return f"{base}.{part}" if base else part


# -- containment: metadata @> {path: value}, below the top level ------------------------------
def _number(value: float, field: str) -> float:
    if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
        raise _refuse(field, f"{value} is beyond +-2**53, where Qdrant's doubles lose integers")
    return float(value)


def _scalar(key: str, value: str | float | None, field: str) -> tuple[Node, Node]:
    """The condition "some value at key equals value" on key and on key[]."""
    if value is None:
        return IsNull(key), IsNull(key + "[]")
    if isinstance(value, (bool, str)):
        return Match(key, value), Match(key + "[]", value)
    # Numbers by range, never MatchValue: SQL's 1 equals 1.0, Qdrant's integer match does not.
    n = _number(value, field)
    bounds = (("gte", n), ("lte", n))
    return Range(key, bounds), Range(key + "[]", bounds)


def _contains(key: str, value: Any, field: str) -> Node:
    """jsonb containment of value at key: a scalar equals, an object's keys each contain, an
    array's every element is contained in some element of an array."""
    if isinstance(value, dict):
        if not value:
            raise _refuse(field, "Qdrant cannot test that a value is an object ({} in the filter)")
        # Only an object has keys: Qdrant's key never steps into an array or a scalar.
        return All(tuple(_contains(_join(key, _quote(k, field)), v, field) for k, v in value.items()))
    if isinstance(value, list):
        if not value:
            raise _refuse(field, "Qdrant cannot test that a value is an array ([] in the filter)")
        return All(tuple(_element(key, v, field) for v in value))
    whole, elements = _scalar(key, value, field)
    # On a scalar key[] stands for nothing; on an array key stands for its elements too.
    return All((whole, Not(elements)))


def _element(key: str, value: Any, field: str) -> Node:
    """An array at key with an element containing value."""
    if isinstance(value, list):
        raise _refuse(field, "an array inside an array value: Qdrant flattens nested arrays")
    if isinstance(value, dict):
        if not value:
            raise _refuse(field, "Qdrant cannot test that an element is an object ({} in the filter)")
        # Nested evaluates the inner filter element by element, and only over arrays.
        return Nested(key, _contains("", value, field))
    whole, elements = _scalar(key, value, field)
    # Both: a direct element of an array (key), and not a scalar (key[] needs an array).
    return All((whole, elements))


# -- operators on metadata --------------------------------------------------------------------
def _time_value(value: Any, field: str) -> str:
    """A filter's date or time as an RFC 3339 UTC string, read as PostgreSQL reads it."""
    if not (isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value)):
        raise FilterError(f"filter on {_lit(field)}: {_json_text(value)} is not an ISO-8601 date or time")
    found = _TIME.match(value)
    if not found:
        raise _refuse(field, f"{_json_text(value)} is not in a date form Qdrant reads as PostgreSQL does "
                             "(YYYY-MM-DD, optionally THH:MM[:SS[.ffffff]] and Z or +HH:MM)")
    day, clock, seconds, fraction, zone = found.groups()
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    try:
        moment = datetime.fromisoformat(f"{day}T{clock or '00:00'}:{seconds or '00'}.{(fraction or '0').ljust(6, '0')}")
        # No offset: UTC, which is what PostgreSQL does when its session TimeZone is UTC.
        return (moment - offset).replace(tzinfo=timezone.utc).isoformat()
    except (ValueError, OverflowError):
        # "2024-02-30" (SQL refuses it too) or "24:00", a leap second (SQL reads them): refused.
        raise _refuse(field, f"{_json_text(value)} is not a date or time the mirror can compare") from None


def _range(field: str, key: str, op: str, arg: Any, parts: list[str]) -> Node:
    if not (isinstance(arg, str) or (isinstance(arg, (int, float)) and not isinstance(arg, bool))):
        raise FilterError(f"filter on {_lit(field)}: {op} needs a number or an ISO-8601 date, got {_json_type(arg)}")
    if any(_INTEGER_PART.match(p) for p in parts):
        raise _refuse(field, f"{op} reads the path with #>, where an integer part indexes an array")
    whole: Node
    elements: Node
    if isinstance(arg, str):
        bound = ((_RANGE[op], _time_value(arg, field)),)
        whole, elements = TimeRange(key, bound), TimeRange(key + "[]", bound)
    else:
        nbound = ((_RANGE[op], _number(arg, field)),)
        whole, elements = Range(key, nbound), Range(key + "[]", nbound)
    # SQL compares only a JSON number (or a date string) itself, never an array's elements.
    return All((whole, Not(elements)))


def _any_of(field: str, key: str, op: str, arg: Any) -> Node:
    if not isinstance(arg, list):
        raise FilterError(f"filter on {_lit(field)}: {op} needs an array")
    if not arg:
        return NOTHING  # EXISTS over no values; a Qdrant should [] would match everything
    return Any_(tuple(_contains(key, v, field) for v in arg))


def _metadata_op(field: str, parts: list[str], op: str, arg: Any) -> Node:
    key = _join(points.METADATA, ".".join(_quote(p, field) for p in parts))
    if op == "$eq":
        return _contains(key, arg, field)
    if op == "$ne":
        # A missing key is "not equal" in SQL; must_not of the equality keeps that.
        return Not(_contains(key, arg, field))
    if op == "$in":
        return _any_of(field, key, op, arg)
    if op == "$nin":
        return Not(_any_of(field, key, op, arg))
    if op in _RANGE:
        return _range(field, key, op, arg, parts)
    if op == "$exists":
        if not isinstance(arg, bool):
            raise FilterError(f"filter on {_lit(field)}: $exists needs true or false")
        raise _refuse(field, "$exists: Qdrant cannot tell a key holding [] from a missing key")
    if op == "$contains":
        # SQL nests the array as is, and wraps anything else in one: metadata @> {path: [arg]}.
        return _contains(key, arg if isinstance(arg, list) else [arg], field)
    raise FilterError(f"unknown filter operator {op} on {_lit(field)} (use {', '.join(_OPERATORS)})")


# -- the columns ------------------------------------------------------------------------------
def _id_text(value: Any, op: str) -> str:
    # jsonb_array_elements_text: a string is itself, an integer or a boolean its JSON text.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise _refuse("id", f"{op} with a {_json_type(value)} element: SQL compares its text "
                        "(and a null makes the whole condition unknown)")


def _id_op(op: str, arg: Any) -> Node:
    if op in ("$eq", "$ne"):
        if not isinstance(arg, str):
            raise FilterError(f"filter on id: {op} needs a string")
        node: Node = Match(points.DOC_ID, arg)
        return node if op == "$eq" else Not(node)
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise FilterError(f"filter on id: {op} needs an array")
        node = MatchAny(points.DOC_ID, tuple(dict.fromkeys(_id_text(v, op) for v in arg)))
        return node if op == "$in" else Not(node)
    raise FilterError(f"operator {op} is not supported on id (use $eq, $ne, $in, $nin)")


def _time_column_op(column: str, op: str, arg: Any) -> Node:
    if op not in ("$eq", "$ne") and op not in _RANGE:
        raise FilterError(f"operator {op} is not supported on {column} (use $eq, $ne, $gt, $gte, $lt, $lte)")
    moment = _time_value(arg, column)
    if op in _RANGE:
        return TimeRange(column, ((_RANGE[op], moment),))
    same: Node = TimeRange(column, (("gte", moment), ("lte", moment)))
    if op == "$eq":
        return same
    # SQL's <> is false for a NULL column; the columns are NOT NULL, but a point without one
    # must not match either.
    return All((Not(IsEmpty(column)), Not(same)))


# -- the filter tree --------------------------------------------------------------------------
def _field(field: str, value: Any) -> Node:
    if field == "":
        raise FilterError("filter keys must not be empty")
    parts = None if field in COLUMNS else _metadata_parts(field)
    if isinstance(value, dict) and any(k.startswith("$") for k in value):
        if any(not k.startswith("$") for k in value):
            raise FilterError(f"filter on {_lit(field)} mixes operators and plain keys")
        ops = value
    else:
        ops = {"$eq": value}  # a plain value (an object without $keys too) means equality
    nodes: list[Node] = []
    for op, arg in ops.items():
        if field == "id":
            nodes.append(_id_op(op, arg))
        elif parts is None:
            nodes.append(_time_column_op(field, op, arg))
        else:
            nodes.append(_metadata_op(field, parts, op, arg))
    return nodes[0] if len(nodes) == 1 else All(tuple(nodes))


def _node(node: Any, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, Mapping):
        raise FilterError(f"a filter must be a JSON object, got {_json_type(node)}")
    parts: list[Node] = []
    for key, value in node.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise FilterError(f"{key} needs a non-empty array of filters")
            subs = tuple(_node(v, depth + 1) for v in value)
            parts.append(All(subs) if key == "$and" else Any_(subs))
        elif key == "$not":
            parts.append(Not(_node(value, depth + 1)))
        elif key.startswith("$"):
            raise FilterError(f"unknown filter operator {key} (top-level operators: $and, $or, $not)")
        else:
            parts.append(_field(key, value))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def translate(filter: Mapping[str, Any] | str | None) -> Node:
    """A vecpg filter as a tree of Qdrant conditions; FilterError for what is not exact."""
    return _node(parse_filter(filter), 0)


def to_qdrant(filter: Mapping[str, Any] | str | None, models: str | Models = "edge") -> Any | None:
    """A vecpg filter as a Qdrant Filter of the given model family ("edge", "client" or an
    adapter), or None when it filters nothing out."""
    node = translate(filter)
    if node == EVERYTHING:
        return None
    return render_filter(node, models_for(models))


def tenant_node(tenant: str | None, shared_rows: bool) -> Node:
    """The points a caller acting for ``tenant`` may see, as row-level security decides."""
    # Empty covers a null tenant_id and a point written before the key existed.
    shared = IsEmpty(points.TENANT)
    if tenant is None:
        return shared
    if not isinstance(tenant, str) or not tenant:
        raise InvalidArgument("tenant must be a non-empty string or None")
    own = Match(points.TENANT, tenant)
    return Any_((own, shared)) if shared_rows else own


def live_node(now: datetime) -> Node:
    """The points whose document has not expired at ``now``: no expires_at, or a later one (as
    vecpg.where_sql says it in SQL)."""
    moment = now.astimezone(timezone.utc).isoformat()
    return Any_((IsEmpty(points.EXPIRES_AT), TimeRange(points.EXPIRES_AT, (("gt", moment),))))


def tenant_filter(user_filter: Mapping[str, Any] | str | None, tenant: str | None, shared_rows: bool,
                  models: str | Models = "edge", now: datetime | None = None) -> Any:
    """The user's filter within the caller's tenant: the tenant is a must beside the whole user
    filter, so no $or, $not or key in the user's filter can widen it (a user's "tenant_id" is
    a metadata key, metadata.tenant_id, never the payload's column). ``now``: also only the
    points not expired then (every search passes it)."""
    user = translate(user_filter)
    parts = [tenant_node(tenant, shared_rows)]
    if now is not None:
        parts.append(live_node(now))
    if user != EVERYTHING:
        parts.append(user)
    return render_filter(parts[0] if len(parts) == 1 else All(tuple(parts)), models_for(models))


__all__ = ["ClientModels", "EdgeModels", "Models", "models_for", "tenant_filter", "to_qdrant", "translate"]

