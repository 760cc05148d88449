"""The filter language: every operator against a Python evaluation of the same filter over the
same rows, through SQL and Python; hostile keys and values; index use; clear errors."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

import vecpg
from vecpg.errors import FilterError
from vecpg.filters import filter_shape, parse_filter

MISSING = object()
COLUMNS = ("id", "created_at", "updated_at")


# -- a reference evaluator: what each filter means, written independently of the SQL ----------
def _eq(doc: Any, value: Any) -> bool:
    if isinstance(value, bool) or isinstance(doc, bool):
        return type(doc) is type(value) and doc == value
    return doc == value


def _contains(doc: Any, value: Any) -> bool:
    """PostgreSQL's jsonb @> below the top level."""
    if isinstance(value, dict):
        return isinstance(doc, dict) and all(k in doc and _contains(doc[k], v) for k, v in value.items())
    if isinstance(value, list):
        return isinstance(doc, list) and all(any(_contains(d, x) for d in doc) for x in value)
    return not isinstance(doc, (dict, list)) and _eq(doc, value)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _lookup(row: dict[str, Any], field: str) -> Any:
    if field in COLUMNS:
        return row[field]
    path = field.removeprefix("metadata.")
    node: Any = row["metadata"]
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _compare(doc: Any, op: str, value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(doc, bool) or not isinstance(doc, (int, float)):
            return False
        left, right = doc, value
    else:
        left, right = _time(doc) if not isinstance(doc, datetime) else doc, _time(value)
        if left is None or right is None:
            return False
    return {"$gt": left > right, "$gte": left >= right, "$lt": left < right, "$lte": left <= right}[op]


def _field(row: dict[str, Any], field: str, spec: Any) -> bool:
    ops = spec if isinstance(spec, dict) and spec and all(k.startswith("$") for k in spec) else {"$eq": spec}
    doc = _lookup(row, field)
    results = []
    for op, value in ops.items():
        if field == "id":
            results.append({"$eq": doc == value, "$ne": doc != value,
                            "$in": doc in value, "$nin": doc not in value}[op])
            continue
        if op in ("$gt", "$gte", "$lt", "$lte"):
            results.append(doc is not MISSING and _compare(doc, op, value))
        elif op == "$eq":
            results.append(doc is not MISSING and _contains(doc, value))
        elif op == "$ne":
            results.append(doc is MISSING or not _contains(doc, value))
        elif op == "$in":
            results.append(doc is not MISSING and any(_contains(doc, v) for v in value))
        elif op == "$nin":
            results.append(doc is MISSING or not any(_contains(doc, v) for v in value))
        elif op == "$exists":
            results.append((doc is not MISSING) == value)
        elif op == "$contains":
            results.append(doc is not MISSING and _contains(doc, value if isinstance(value, list) else [value]))
    return all(results)


def matches(row: dict[str, Any], flt: dict[str, Any]) -> bool:
    """Whether a row matches a filter, by the documented semantics."""
    for key, spec in flt.items():
        if key == "$and" and not all(matches(row, f) for f in spec):
            return False
        if key == "$or" and not any(matches(row, f) for f in spec):
            return False
        if key == "$not" and matches(row, spec):
            return False
        if not key.startswith("$") and not _field(row, key, spec):
            return False
    return True


# -- data ---------------------------------------------------------------------------------------
ROWS = [
    {"id": "r0", "metadata": {"colour": "red", "n": 1, "tags": ["a", "b"], "when": "2024-01-05", "author": {"name": "Ada"}}},
    {"id": "r1", "metadata": {"colour": "blue", "n": 2.5, "tags": ["b"], "when": "2024-03-01T12:00:00+00:00"}},
    {"id": "r2", "metadata": {"colour": "red", "n": 10, "tags": [], "flag": True, "author": {"name": "Bob", "age": 40}}},
    {"id": "r3", "metadata": {"colour": "green", "n": "10", "flag": False, "when": "not a date"}},
    {"id": "r4", "metadata": {"n": None, "tags": ["c", "a"], "when": "2023-12-31", "id": "meta-id"}},
    {"id": "r5", "metadata": {"colour": "blue", "n": -3, "flag": True, "author": {"name": "Ada", "age": 36}}},
    {"id": "r6", "metadata": {}},
]


@pytest.fixture
def items(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("items", dimension=2)
    coll.upsert([{**row, "content": row["id"], "embedding": [1, 0]} for row in ROWS])
    return coll


def _db_rows(items: vecpg.Collection) -> list[dict[str, Any]]:
    docs = items.get([r["id"] for r in ROWS])
    return [{"id": d.id, "metadata": d.metadata, "created_at": d.created_at, "updated_at": d.updated_at} for d in docs]


def python_ids(items: vecpg.Collection, flt: dict[str, Any]) -> set[str]:
    return {h.id for h in items.search([1, 0], k=1000, filter=flt)}


def sql_ids(conn: psycopg.Connection, flt: dict[str, Any]) -> set[str]:
    rows = conn.execute("SELECT id FROM vecpg.search('items', '[1,0]', 1000, %s)", (json.dumps(flt),))
    return {r[0] for r in rows}


EXAMPLES = [
    {"colour": "red"},
    {"colour": {"$eq": "red"}, "n": {"$gt": 1}},
    {"colour": {"$ne": "red"}},
    {"colour": {"$in": ["red", "green"]}},
    {"colour": {"$nin": ["red", "green"]}},
    {"n": {"$gte": 2.5, "$lt": 10}},
    {"n": {"$lte": 1}},
    {"when": {"$gt": "2024-01-01"}},
    {"when": {"$lte": "2024-01-05T00:00:00Z"}},
    {"flag": {"$exists": True}},
    {"flag": {"$exists": False}},
    {"flag": True},
    {"tags": {"$contains": "a"}},
    {"tags": {"$contains": ["a", "b"]}},
    {"tags": ["b"]},
    {"author.name": "Ada"},
    {"author.age": {"$gt": 30}},
    {"author": {"name": "Bob"}},
    {"metadata.id": "meta-id"},
    {"id": "r3"},
    {"id": {"$in": ["r1", "r2", "nope"]}},
    {"id": {"$nin": ["r1"]}, "colour": "blue"},
    {"$or": [{"colour": "green"}, {"n": {"$lt": 0}}]},
    {"$and": [{"colour": "red"}, {"$not": {"tags": {"$contains": "a"}}}]},
    {"$not": {"$or": [{"colour": "red"}, {"colour": "blue"}]}},
    {"n": {"$gt": 0}, "$or": [{"flag": True}, {"tags": {"$contains": "b"}}]},
    {},
]


@pytest.mark.parametrize("flt", EXAMPLES, ids=[json.dumps(f) for f in EXAMPLES])
def test_operators_match_the_reference_semantics(items: vecpg.Collection, conn: psycopg.Connection, flt) -> None:
    expected = {r["id"] for r in _db_rows(items) if matches(r, flt)}
    assert python_ids(items, flt) == expected
    assert sql_ids(conn, flt) == expected
    assert items.count(flt) == len(expected)


def test_created_at_and_updated_at_are_filterable(items: vecpg.Collection) -> None:
    rows = _db_rows(items)
    stamp = rows[0]["created_at"].isoformat()
    assert items.count({"created_at": {"$lte": stamp}}) == len(ROWS)
    assert items.count({"updated_at": {"$gt": stamp}}) == 0
    assert items.count({"created_at": {"$gt": "1999-01-01"}, "id": "r0"}) == 1


# -- property tests: random filters of every operator, compared with the evaluator ------------
scalars = st.one_of(st.sampled_from(["red", "blue", "green", "a", "b", "c", "10"]), st.integers(-5, 12),
                    st.sampled_from([2.5, True, False, None]))
fields = st.sampled_from(["colour", "n", "flag", "tags", "author.name", "author.age", "missing", "metadata.id"])


def _op_filter() -> st.SearchStrategy[dict[str, Any]]:
    numbers = st.integers(-5, 12) | st.just(2.5)
    dates = st.sampled_from(["2023-12-31", "2024-01-05", "2024-02-01T00:00:00+00:00"])
    ops = st.one_of(
        st.builds(lambda v: {"$eq": v}, scalars),
        st.builds(lambda v: {"$ne": v}, scalars),
        st.builds(lambda v: {"$in": v}, st.lists(scalars, min_size=1, max_size=3)),
        st.builds(lambda v: {"$nin": v}, st.lists(scalars, min_size=1, max_size=3)),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), numbers | dates),
        st.builds(lambda v: {"$exists": v}, st.booleans()),
        st.builds(lambda v: {"$contains": v}, scalars | st.lists(scalars, max_size=2)),
        scalars,
        st.lists(scalars, max_size=2),
    )
    return st.builds(lambda f, o: {f: o}, fields, ops)


filters = st.recursive(
    _op_filter(),
    lambda inner: st.one_of(
        st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"$not": f}, inner),
        st.builds(lambda a, b: {**a, **b}, inner, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flt=filters)
def test_random_filters_agree_with_the_evaluator(items: vecpg.Collection, conn: psycopg.Connection, flt) -> None:
    expected = {r["id"] for r in _db_rows(items) if matches(r, flt)}
    assert python_ids(items, flt) == expected
    assert sql_ids(conn, flt) == expected


hostile_text = st.text(
    alphabet=st.sampled_from(list("'\";\\$%{}[],.()-- aZ0") + ["\u00e9", "\u2603", "\t", "\n"]), max_size=20
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=hostile_text, value=hostile_text | st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_hostile_keys_and_values_are_data_not_sql(items: vecpg.Collection, conn: psycopg.Connection, key, value) -> None:
    flt = {key: value}
    try:
        found = python_ids(items, flt)
    except FilterError:
        found = None  # refused clearly (an empty key or an empty dotted part)
    if found is not None:
        assert found == {r["id"] for r in _db_rows(items) if matches(r, flt)}
    assert items.count() == len(ROWS)
    assert conn.execute("SELECT count(*) FROM vecpg.collection").fetchone() == (1,)


def test_deep_nesting_is_refused_not_crashed(items: vecpg.Collection) -> None:
    flt: dict[str, Any] = {"colour": "red"}
    for _ in range(40):
        flt = {"$not": flt}
    with pytest.raises(FilterError, match="nested more than 32"):
        items.count(flt)
    with pytest.raises(FilterError, match="unknown filter operator"):
        items.count({"a": {"$and": [{"b": 1}]}})  # combinators belong at filter level, not on a key


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"price": {"$gt": "cheap"}}, "filter on 'price': \"cheap\" is not an ISO-8601 date"),
        ({"price": {"$between": [1, 2]}}, "unknown filter operator \\$between on 'price'"),
        ({"price": {"$in": 3}}, "'price': \\$in needs an array"),
        ({"price": {"$gt": True}}, "'price': \\$gt needs a number or an ISO-8601 date"),
        ({"flag": {"$exists": "yes"}}, "'flag': \\$exists needs true or false"),
        ({"id": {"$gt": "a"}}, "not supported on id"),
        ({"created_at": {"$gt": 5}}, "'created_at'"),
        ({"$xor": []}, "unknown filter operator \\$xor"),
        ({"$or": []}, "\\$or needs a non-empty array"),
        ({"a..b": 1}, "empty part"),
        ({"x": {"$eq": 1, "plain": 2}}, "mixes operators"),
    ],
)
def test_malformed_filters_name_the_key(items: vecpg.Collection, conn: psycopg.Connection, flt, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        items.search([1, 0], filter=flt)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT * FROM vecpg.search('items', '[1,0]', 5, %s)", (json.dumps(flt),))
    assert info.value.sqlstate == "VP004"


def test_predicates_are_cached_by_shape_and_values_stay_parameters(items: vecpg.Collection) -> None:
    assert filter_shape({"colour": "red", "n": {"$gt": 1}}) == filter_shape({"n": {"$gt": 7}, "colour": "blue"})
    assert items.count({"colour": "red"}) == 2
    assert items.count({"colour": "blue"}) == 2  # same shape, other value: same predicate
    assert items.count({"colour": "x' OR '1'='1"}) == 0
    predicate, params = items.store.run(items.store.filters.compile({"colour": "purple"}))
    assert "purple" not in predicate.as_string(None)
    assert params["filter"].obj == {"colour": "purple"}


def test_equality_and_containment_use_the_metadata_index(store: vecpg.Store, conn: psycopg.Connection) -> None:
    coll = store.create_collection("big", dimension=2)
    coll.load({"id": str(i), "embedding": [1, i % 7], "metadata": {"group": f"g{i % 500}", "tags": [f"t{i % 300}"]}}
              for i in range(20000))
    conn.execute("ANALYZE vecpg_data.big")
    for flt in ({"group": "g42"}, {"tags": {"$contains": "t7"}}, {"group": {"$in": ["g1"]}, "tags": ["t1"]},
                {"group": {"$in": ["g1", "g2", "g3"]}}):  # $in alone: a bitmap OR (langchain-postgres #34)
        text = conn.execute("SELECT vecpg.compile_filter(%s, '$1', 'd')", (json.dumps(flt),)).fetchone()[0]
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT count(*) FROM vecpg_data.big d WHERE {text}".replace("$1", "%(f)s"),
            {"f": Jsonb(flt)},
        ))
        assert "big_metadata_idx" in plan, plan
        assert coll.count(flt) == sum(1 for i in range(20000) if matches(
            {"id": str(i), "metadata": {"group": f"g{i % 500}", "tags": [f"t{i % 300}"]}}, flt))


def test_parse_filter_refuses_what_is_not_a_json_object() -> None:
    for value, message in (("{nope", "not valid JSON"), ("[1, 2]", "JSON object"), (42, "JSON object"),
                           ({"x": float("nan")}, "not valid JSON")):
        with pytest.raises(FilterError, match=message):
            parse_filter(value)
    assert parse_filter(None) == {} and parse_filter('{"a": 1}') == {"a": 1}
