"""vecpg filters on the Qdrant mirror: the same rows in PostgreSQL and in Qdrant Edge (and
qdrant-client's local mode), and every filter must select the same ids in both -- or be refused
with FilterError when it belongs to a class the mirror documents as untranslatable."""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

import vecpg
from vecpg.errors import FilterError
from vecpg.mirror.filters import tenant_filter, to_qdrant
from vecpg.mirror.points import MirrorPoint, point_id

qdrant_edge = pytest.importorskip("qdrant_edge")

# The refusals the module docstring lists, by the words of their messages.
UNTRANSLATABLE = ("$exists: Qdrant cannot tell", "cannot test that a value is an", "cannot test that an element",
                  "an array inside an array", "integer part indexes an array", "cannot name a key",
                  "not in a date form", "not a date or time the mirror", "beyond +-2**53", "SQL compares its text")
MIRROR = "cannot be searched on the Qdrant mirror"
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


# -- the rows: every trap of the filter language, then seeded variety -------------------------
TRAPS: list[dict[str, Any]] = [
    {"colour": "red", "n": 1, "tags": ["a", "b"], "when": "2024-01-05", "author": {"name": "Ada"}},
    {"colour": "blue", "n": 2.5, "tags": ["b"], "when": "2024-03-01T12:00:00+00:00"},
    {"colour": "red", "n": 10, "tags": [], "flag": True, "author": {"name": "Bob", "age": 40}},
    {"colour": "green", "n": "10", "flag": False, "when": "not a date"},
    {"n": None, "tags": ["c", "a"], "when": "2023-12-31", "id": "meta-id"},
    {"colour": "blue", "n": -3, "flag": True, "author": {"name": "Ada", "age": 36}},
    {},
    {"colour": ["red"], "n": 1.0, "tags": "a", "flag": 1},             # arrays and scalars, 1.0 == 1
    {"colour": [["red"]], "n": [1, 10], "tags": [["a"]], "flag": [True]},  # nested arrays
    {"colour": None, "n": [[1]], "tags": [None], "flag": "true"},       # nulls, strings that look like others
    {"colour": [None, "red"], "tags": ["a", None], "flag": None, "author": [{"name": "Ada"}]},
    {"colour": "1", "n": True, "tags": [1, "1"], "author": {"name": ["Ada"]}},
    {"author": {"name": None}, "when": ["2024-01-05"], "n": 0},
    {"author": {}, "when": "2024-01-05 10:00:00", "items": [{"sku": "x", "q": 1}, {"sku": "y"}]},
    {"author": "Ada", "when": "2024-01-05T23:30:00-02:00", "items": [{"sku": "x"}]},
    {"author": {"name": {"first": "Ada"}}, "when": "2024-02-30", "items": [{"sku": ["x"]}, "x"]},
    {"when": 20240105, "items": [], "tenant_id": "other", "we ird": "yes"},
    {"when": "2024-01-05T00:00:00.000001Z", "items": {"sku": "x"}, "tenant_id": "a"},
    {"items": [{"sku": "x", "sub": [{"a": 1}, {"a": [2]}]}, {"sku": "z", "sub": {"a": 1}}]},  # arrays in arrays of objects
    {"metadata": {"id": "nested"}, "created_at": "2024-01-02", "id": "x"},
    {"odd": {"a[b]": 1, "\u00fc n": "x", "$d": 2, "a'b": [3], "0": "zero", "*": None}, "tags": {"0": "a"}},
]
POOLS: dict[str, list[Any]] = {
    "colour": ["red", "blue", "green", None, ["red"], ["red", "blue"], [["red"]], 1, "1", True],
    "n": [1, 1.0, 2.5, 10, "10", -3, None, [1, 10], True, 0, [[1]], 12],
    "flag": [True, False, None, [True], "true", 1, 0, [False, True]],
    "tags": [["a", "b"], ["b"], [], ["c", "a"], "a", [None], ["a", None], [1, "1"], [["a"]], [{"k": "a"}], None],
    "when": ["2024-01-05", "2024-03-01T12:00:00+00:00", "2023-12-31", "not a date", "2024-01-05 10:00:00",
             "2024-01-05T23:30:00-02:00", "2024-02-30", ["2024-01-05"], None, 20240105, "2024-01-04T22:00:00-03:00"],
    "author": [{"name": "Ada"}, {"name": "Bob", "age": 40}, {"name": ["Ada"]}, [{"name": "Ada"}], {"name": None},
               {}, "Ada", {"name": {"first": "Ada"}}, {"age": 36.0}, {"name": "Ada", "age": 12}],
    "items": [[{"sku": "x", "q": 1}, {"sku": "y"}], [{"sku": "x"}], [], [{"sku": ["x"]}], [{"q": 1.0}], {"sku": "x"}],
}


def _rows() -> list[dict[str, Any]]:
    rnd = random.Random(12)
    metas = list(TRAPS)
    while len(metas) < 60:
        metas.append({k: rnd.choice(v) for k, v in POOLS.items() if rnd.random() < 0.6})
    rows = []
    for i, meta in enumerate(metas):
        created = T0 + timedelta(days=i % 7, hours=i, microseconds=i * 7)
        rows.append({"id": f"r{i}" if i % 10 else str(i), "metadata": meta, "created_at": created,
                     "updated_at": created + timedelta(days=i % 3, minutes=i)})
    rows[1]["id"] = "6f9619ff-8b86-4011-b42d-00cf4fc964ff"  # a UUID id keeps its value as point id
    return rows


ROWS = _rows()
IDS = [r["id"] for r in ROWS]


class Mirror:
    """One collection in PostgreSQL and the same rows as points in Qdrant Edge."""

    def __init__(self, conn: psycopg.Connection, rows: list[dict[str, Any]], shard_dir: Path, name: str = "items"):
        self.conn, self.name = conn, name
        # The mirror's documented bound: PostgreSQL reads dates without an offset in UTC, as Qdrant does.
        conn.execute("SET TimeZone = 'UTC'")
        rows_db = conn.execute(f"SELECT id, title, content, metadata, tenant_id, created_at, updated_at "
                               f"FROM vecpg_data.{name}").fetchall()
        self.points = [MirrorPoint(doc_id=r[0], vector=[1.0, 0.0], title=r[1], content=r[2], metadata=r[3],
                                   tenant_id=r[4], revision=1, created_at=r[5], updated_at=r[6]) for r in rows_db]
        assert {p.doc_id for p in self.points} == {r["id"] for r in rows}
        self.by_point = {str(p.id): p.doc_id for p in self.points}  # Edge answers UUIDs as uuid.UUID
        config = qdrant_edge.EdgeConfig(vectors=qdrant_edge.EdgeVectorParams(size=2, distance=qdrant_edge.Distance.Cosine))
        self.shard = qdrant_edge.EdgeShard.create(str(shard_dir), config)
        self.shard.update(qdrant_edge.UpdateOperation.upsert_points(
            [qdrant_edge.Point(p.id, p.vector, p.payload()) for p in self.points]))

    def pg_ids(self, flt: dict[str, Any]) -> set[str]:
        """What PostgreSQL's own compiled predicate selects."""
        try:
            text = self.conn.execute("SELECT vecpg.compile_filter(%s, '$1', 'd')", (Jsonb(flt),)).fetchone()[0]
            rows = self.conn.execute(
                f"SELECT id FROM vecpg_data.{self.name} d WHERE {text}".replace("%", "%%").replace("$1", "%(f)s"),
                {"f": Jsonb(flt)})
        except psycopg.Error as exc:
            if exc.sqlstate == "VP004":
                raise FilterError(exc.diag.message_primary) from None
            raise
        return {r[0] for r in rows}

    def edge_ids_for(self, qfilter: Any) -> set[str]:
        found, _ = self.shard.scroll(qdrant_edge.ScrollRequest(limit=10_000, filter=qfilter))
        return {self.by_point[str(r.id)] for r in found}

    def edge_ids(self, flt: dict[str, Any]) -> set[str]:
        return self.edge_ids_for(to_qdrant(flt, "edge"))

    def close(self) -> None:
        self.shard.close()


def _fill(store: vecpg.Store, conn: psycopg.Connection, rows: list[dict[str, Any]], name: str = "items") -> None:
    coll = store.create_collection(name, dimension=2)
    coll.upsert([{"id": r["id"], "content": r["id"], "embedding": [1, 0], "metadata": r["metadata"]} for r in rows])
    # Writes stamp the times themselves; set them explicitly, past the updated_at trigger.
    with conn.transaction():
        conn.execute(f"ALTER TABLE vecpg_data.{name} DISABLE TRIGGER touch_updated_at")
        for r in rows:
            conn.execute(f"UPDATE vecpg_data.{name} SET created_at = %s, updated_at = %s WHERE id = %s",
                         (r["created_at"], r["updated_at"], r["id"]))
        conn.execute(f"ALTER TABLE vecpg_data.{name} ENABLE TRIGGER touch_updated_at")


@pytest.fixture
def mirror(store: vecpg.Store, conn: psycopg.Connection, tmp_path: Path) -> Iterator[Mirror]:
    _fill(store, conn, ROWS)
    m = Mirror(conn, ROWS, tmp_path / "shard")
    yield m
    m.close()


def test_rows_keep_their_explicit_timestamps(mirror: Mirror) -> None:
    got = {p.doc_id: (p.created_at, p.updated_at) for p in mirror.points}
    assert all(got[r["id"]] == (r["created_at"], r["updated_at"]) for r in ROWS)


def test_naive_times_agree_only_with_postgres_in_utc(mirror: Mirror) -> None:
    """PostgreSQL reads "2024-01-05 10:00:00" in the session's TimeZone, Qdrant always in UTC:
    the documented bound of the mirror (the embedded server runs in UTC)."""
    flt = {"when": {"$gt": "2024-01-05T05:00:00Z"}}
    assert ROWS[13]["metadata"]["when"] == "2024-01-05 10:00:00"
    assert "r13" in mirror.pg_ids(flt) and "r13" in mirror.edge_ids(flt)
    mirror.conn.execute("SET TimeZone = 'Asia/Kolkata'")  # 10:00 there is 04:30 UTC
    try:
        assert "r13" not in mirror.pg_ids(flt)
    finally:
        mirror.conn.execute("SET TimeZone = 'UTC'")


# -- (a) every operator and trap, by example ---------------------------------------------------
EXAMPLES = [
    # equality is containment: a scalar never equals an array holding it, nor the reverse
    {"colour": "red"}, {"colour": ["red"]}, {"colour": {"$eq": "red"}}, {"tags": "a"}, {"tags": ["a"]},
    {"tags": ["a", "b"]}, {"colour": None}, {"tags": [None]}, {"colour": [None, "red"]},
    # numbers: 1 == 1.0, "10" is no number, true is no 1
    {"n": 1}, {"n": 1.0}, {"n": "10"}, {"n": 10}, {"n": True}, {"flag": True}, {"flag": 1}, {"flag": "true"},
    {"flag": [True]}, {"tags": [1]}, {"tags": ["1"]},
    # nested objects: containment key by key, never into arrays of objects
    {"author": {"name": "Ada"}}, {"author.name": "Ada"}, {"author.name": ["Ada"]}, {"author": {"name": None}},
    {"author.name.first": "Ada"}, {"author": {"name": {"first": "Ada"}}}, {"author": {"name": "Bob", "age": 40}},
    {"items": [{"sku": "x"}]}, {"items": {"$contains": {"sku": "x"}}}, {"items": [{"sku": ["x"]}]},
    {"items": [{"sku": "x", "q": 1}]}, {"items": ["x"]}, {"items.sku": "x"}, {"items": [{"sub": [{"a": 1}]}]},
    {"items": [{"sub": {"a": 1}}]}, {"items": [{"sku": "x", "sub": [{"a": 2}]}]}, {"items": [{"sub": [{"a": [2]}]}]},
    {"metadata": {"id": "nested"}}, {"metadata.metadata": {"id": "nested"}},
    # $ne / $nin / $not: a missing key and a null both count as "not equal"
    {"colour": {"$ne": "red"}}, {"colour": {"$ne": None}}, {"n": {"$ne": 1}}, {"missing": {"$ne": 1}},
    {"colour": {"$in": ["red", "green"]}}, {"colour": {"$nin": ["red", "green"]}}, {"colour": {"$in": []}},
    {"colour": {"$nin": []}}, {"colour": {"$in": [None, ["red"]]}}, {"n": {"$nin": [1, "10", None]}},
    {"$not": {"colour": "red"}}, {"$not": {"n": {"$gt": 1}}}, {"$not": {}},
    # ranges: only a JSON number, or a date string, itself (not arrays, not booleans, not "10")
    {"n": {"$gt": 1}}, {"n": {"$gte": 1}}, {"n": {"$gte": 2.5, "$lt": 10}}, {"n": {"$lte": 0}},
    {"author.age": {"$gt": 30}}, {"when": {"$gt": "2024-01-01"}}, {"when": {"$lte": "2024-01-05T00:00:00Z"}},
    {"when": {"$gte": "2024-01-05T01:30:00+01:30"}}, {"when": {"$lt": "2024-01-05 01:30"}},
    {"when": {"$gt": "2024-01-05T00:00:00.000001+00"}}, {"when": {"$gte": "2024-01-05T00:00:00.000001Z"}},
    # $contains: a scalar or an array argument
    {"tags": {"$contains": "a"}}, {"tags": {"$contains": ["a", "b"]}}, {"tags": {"$contains": None}},
    {"tags": {"$contains": 1}}, {"colour": {"$contains": "red"}},
    # dotted paths, a metadata key shadowing a column, odd keys
    {"metadata.id": "meta-id"}, {"metadata.metadata.id": "nested"}, {"metadata.created_at": "2024-01-02"},
    {"metadata.tenant_id": "other"}, {"tenant_id": "a"}, {"we ird": "yes"}, {"odd.a[b]": 1}, {"odd.\u00fc n": "x"},
    {"odd.$d": {"$gte": 2}}, {"odd.a'b": [3]}, {"odd": {"0": "zero", "*": None}}, {"odd.0": {"$ne": "zero"}},
    {"tags.0": "a"}, {"tags": {"0": "a"}},
    # the columns
    {"id": "r3"}, {"id": {"$in": ["r2", "r3", "nope", "10"]}}, {"id": {"$nin": ["r3"]}, "colour": "blue"},
    {"id": {"$ne": "r3"}}, {"id": {"$in": [10, "r11"]}}, {"id": "6f9619ff-8b86-4011-b42d-00cf4fc964ff"},
    {"created_at": {"$gt": "2024-01-03"}}, {"created_at": {"$lte": ROWS[5]["created_at"].isoformat()}},
    {"created_at": ROWS[5]["created_at"].isoformat()}, {"created_at": {"$ne": ROWS[5]["created_at"].isoformat()}},
    {"updated_at": {"$gte": "2024-01-04T12:00:00+00:00", "$lt": "2024-01-06"}},
    # combinators
    {"$or": [{"colour": "green"}, {"n": {"$lt": 0}}]}, {"$and": [{"colour": "red"}, {"$not": {"tags": {"$contains": "a"}}}]},
    {"$not": {"$or": [{"colour": "red"}, {"colour": "blue"}]}}, {"n": {"$gt": 0}, "$or": [{"flag": True}, {"tags": ["b"]}]},
    {"$or": [{}]}, {},
]


@pytest.mark.parametrize("flt", EXAMPLES, ids=[json.dumps(f) for f in EXAMPLES])
def test_examples_select_the_same_ids(mirror: Mirror, flt: dict[str, Any]) -> None:
    expected = mirror.pg_ids(flt)
    assert mirror.edge_ids(flt) == expected


def test_examples_are_not_trivial(mirror: Mirror) -> None:
    """The traps really are traps: the rows tell these filters apart."""
    assert mirror.pg_ids({"colour": "red"}) != mirror.pg_ids({"colour": ["red"]})
    assert mirror.pg_ids({"n": 1}) != mirror.pg_ids({"n": {"$in": [1, True]}})
    assert mirror.pg_ids({"colour": {"$ne": "red"}}) > mirror.pg_ids({"colour": {"$exists": True, "$ne": "red"}})
    assert mirror.pg_ids({"author.name": "Ada"}) != mirror.pg_ids({"author": [{"name": "Ada"}]})


UNTRANSLATABLE_EXAMPLES = [
    ({"flag": {"$exists": True}}, "$exists"), ({"flag": {"$exists": False}}, "$exists"),
    ({"tags": []}, "is an array"), ({"author": {}}, "is an object"), ({"tags": {"$contains": []}}, "is an array"),
    ({"tags": {"$ne": []}}, "is an array"), ({"items": {"$contains": {}}}, "element is an object"),
    ({"tags": [["a"]]}, "array inside an array"), ({"tags.0": {"$gt": 1}}, "integer part"),
    ({'a"b': 1}, "cannot name a key"), ({"a\\b": 1}, "cannot name a key"),
    ({"when": {"$gt": "2024-01-05 PST"}}, "date form"), ({"when": {"$gt": "2024-01-05T24:00:00"}}, "mirror can compare"),
    ({"n": {"$gt": 2**60}}, "2**53"), ({"id": {"$nin": [None]}}, "compares its text"),
    ({"id": {"$in": [1.5]}}, "compares its text"),
]


@pytest.mark.parametrize(("flt", "why"), UNTRANSLATABLE_EXAMPLES, ids=[json.dumps(f) for f, _ in UNTRANSLATABLE_EXAMPLES])
def test_untranslatable_filters_are_refused_naming_the_key(mirror: Mirror, flt: dict[str, Any], why: str) -> None:
    mirror.pg_ids(flt)  # valid filters in SQL...
    pattern = re.escape(f"filter on '{next(iter(flt))}' {MIRROR}") + ".*" + re.escape(why)
    with pytest.raises(FilterError, match=pattern):
        to_qdrant(flt, "edge")  # ...that the mirror refuses rather than answer differently


def test_why_exists_and_id_null_are_refused(mirror: Mirror) -> None:
    # [] is a key that exists for SQL and an empty value, like a missing key, for Qdrant.
    assert "r2" in mirror.pg_ids({"tags": {"$exists": True}})
    empty = qdrant_edge.Filter(must=[qdrant_edge.IsEmptyCondition("metadata.tags")])
    assert "r2" in mirror.edge_ids_for(empty) and "r6" in mirror.edge_ids_for(empty)
    # A null in id's $nin makes SQL's NOT IN unknown for every row: nothing matches at all.
    assert mirror.pg_ids({"id": {"$nin": [None]}}) == set()


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"price": {"$gt": "cheap"}}, "filter on 'price': \"cheap\" is not an ISO-8601 date"),
        ({"price": {"$between": [1, 2]}}, "unknown filter operator \\$between on 'price'"),
        ({"price": {"$in": 3}}, "'price': \\$in needs an array"),
        ({"price": {"$gt": True}}, "'price': \\$gt needs a number or an ISO-8601 date"),
        ({"flag": {"$exists": "yes"}}, "'flag': \\$exists needs true or false"),
        ({"id": {"$gt": "a"}}, "not supported on id"),
        ({"id": 5}, "filter on id: \\$eq needs a string"),
        ({"created_at": {"$gt": 5}}, "'created_at'"),
        ({"created_at": {"$in": ["2024-01-01"]}}, "not supported on created_at"),
        ({"$xor": []}, "unknown filter operator \\$xor"),
        ({"$or": []}, "\\$or needs a non-empty array"),
        ({"$and": [1]}, "must be a JSON object, got number"),
        ({"a..b": 1}, "empty part"),
        ({"": 1}, "must not be empty"),
        ({"x": {"$eq": 1, "plain": 2}}, "mixes operators"),
    ],
)
def test_malformed_filters_fail_as_in_sql(mirror: Mirror, flt: dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        mirror.pg_ids(flt)
    with pytest.raises(FilterError, match=message):
        to_qdrant(flt, "edge")


def test_deep_nesting_is_refused_as_in_sql(mirror: Mirror) -> None:
    flt: dict[str, Any] = {"colour": "red"}
    for _ in range(32):
        flt = {"$not": flt}
    assert mirror.edge_ids(flt) == mirror.pg_ids(flt)  # 32 levels: allowed, and Qdrant takes them
    with pytest.raises(FilterError, match="nested more than 32"):
        to_qdrant({"$not": flt}, "edge")


def test_no_filter_is_no_qdrant_filter() -> None:
    assert to_qdrant(None, "edge") is None and to_qdrant({}, "client") is None


# -- (b) random filters: PostgreSQL and Qdrant Edge agree, or the mirror says why not ----------
scalars = st.one_of(st.sampled_from(["red", "blue", "green", "a", "b", "1", "10", "Ada", "x", "true"]),
                    st.integers(-5, 12), st.sampled_from([2.5, 1.0, 36.0, True, False, None]))
dates = st.sampled_from(["2023-12-31", "2024-01-05", "2024-01-05T00:00:00Z", "2024-01-05T10:00:00",
                         "2024-01-05T01:29:59.999999+01:30", "2024-01-04 22:00", "2024-03-01T12:00:00+00:00"])
metadata_fields = st.sampled_from(["colour", "n", "flag", "tags", "when", "author", "author.name", "author.age",
                                   "items", "items.sku", "missing", "metadata.id", "we ird", "tenant_id"])


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, min_size=1, max_size=2),
                     st.dictionaries(st.sampled_from(["name", "age", "sku", "q"]), inner, min_size=1, max_size=2))


values = st.recursive(scalars, _containers, max_leaves=3)


def _op_filter() -> st.SearchStrategy[dict[str, Any]]:
    numbers = st.integers(-5, 12) | st.sampled_from([2.5, 36.0])
    metadata_ops = st.one_of(
        st.builds(lambda v: {"$eq": v}, values),
        st.builds(lambda v: {"$ne": v}, values),
        st.builds(lambda v: {"$in": v}, st.lists(values, max_size=3)),
        st.builds(lambda v: {"$nin": v}, st.lists(values, max_size=3)),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), numbers | dates),
        st.builds(lambda a, b: {"$gt": a, "$lte": b}, numbers, numbers),
        st.builds(lambda v: {"$contains": v}, values),
        values,
        st.sampled_from([{"$exists": True}, {"$exists": False}, [], {}]),  # the refused ones, now and then
        st.sampled_from([{"$gt": "cheap"}, {"$in": 3}, {"$gt": True}, {"$exists": 1}, {"$near": 1},
                         {"$eq": 1, "plain": 1}]),  # malformed: SQL and the mirror both refuse them
    )
    ids = st.sampled_from(IDS[:12] + ["nope"])
    id_ops = st.one_of(ids, st.builds(lambda v: {"$ne": v}, ids), st.builds(lambda v: {"$in": v}, st.lists(ids, max_size=3)),
                       st.builds(lambda v: {"$nin": v}, st.lists(ids, max_size=3)))
    stamps = st.integers(0, 80).map(lambda h: (T0 + timedelta(hours=h)).isoformat()) | st.sampled_from(
        [ROWS[7]["created_at"].isoformat(), ROWS[7]["updated_at"].isoformat()])
    time_ops = st.one_of(stamps, st.builds(lambda op, v: {op: v},
                                           st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), stamps))
    return st.one_of(
        st.builds(lambda f, o: {f: o}, metadata_fields, metadata_ops),
        st.builds(lambda o: {"id": o}, id_ops),
        st.builds(lambda f, o: {f: o}, st.sampled_from(["created_at", "updated_at"]), time_ops),
    )


def _combined(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"$not": f}, inner),
        st.builds(lambda a, b: {**a, **b}, inner, inner),
    )


filters = st.recursive(_op_filter(), _combined, max_leaves=6)

COUNTS: Counter[str] = Counter()


@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(flt=filters)
def _agree(mirror: Mirror, flt: dict[str, Any]) -> None:
    COUNTS["tried"] += 1
    try:
        expected: set[str] | None = mirror.pg_ids(flt)
    except FilterError:
        expected = None  # malformed for SQL: the mirror must refuse it too
    try:
        qfilter = to_qdrant(flt, "edge")
    except FilterError as exc:
        if expected is None:
            COUNTS["malformed"] += 1
            return
        assert MIRROR in str(exc), (flt, str(exc))
        reasons = [why for why in UNTRANSLATABLE if why in str(exc)]
        assert reasons, (flt, str(exc))  # only a documented class may be refused
        COUNTS["refused"] += 1
        COUNTS["refused: " + reasons[0]] += 1
        return
    assert expected is not None, f"SQL refuses {flt} but the mirror translated it"
    COUNTS["translated"] += 1
    assert mirror.edge_ids_for(qfilter) == expected, flt
    COUNTS["equal"] += 1
    COUNTS["selective"] += bool(expected) and len(expected) < len(ROWS)


def test_random_filters_select_the_same_ids(mirror: Mirror) -> None:
    COUNTS.clear()
    started = time.monotonic()
    _agree(mirror)
    seconds = time.monotonic() - started
    print(f"\nmirror filters: {dict(COUNTS)} in {seconds:.1f} s")
    assert COUNTS["tried"] >= 1000
    assert COUNTS["equal"] == COUNTS["translated"]
    assert COUNTS["refused"] < 0.2 * COUNTS["tried"], COUNTS  # untranslatable: a small minority
    assert COUNTS["malformed"] > 0, COUNTS
    assert COUNTS["selective"] > 0.25 * COUNTS["translated"], COUNTS  # neither no row nor every row


# -- (c) tenants: what row-level security shows, the mirror shows ------------------------------
TENANT_ROWS = [("a1", "a", {"n": 1, "tenant_id": "b"}), ("a2", "a", {"n": 2}), ("a3", "a", {"n": 3}),
               ("b1", "b", {"n": 1}), ("b2", "b", {"n": 2, "tenant_id": "a"}), ("shared", None, {"n": 1})]


@pytest.fixture
def tenancy(store: vecpg.Store, conn: psycopg.Connection, logins: dict[str, str],
            tmp_path: Path) -> Iterator[tuple[vecpg.Store, Mirror]]:
    store.create_collection("docs", dimension=2)
    for doc_id, tenant, meta in TENANT_ROWS:
        store.collection("docs").upsert([{"id": doc_id, "content": doc_id, "embedding": [1, 0], "metadata": meta,
                                          "tenant_id": tenant}])
    shard = Mirror(conn, [{"id": r[0]} for r in TENANT_ROWS], tmp_path / "tenants", name="docs")  # as superuser: every row
    with vecpg.connect(logins["reader"], pool_size=1) as reader:
        yield reader, shard
    shard.close()


def _rls_ids(reader: vecpg.Store, tenant: str | None, flt: dict[str, Any]) -> set[str]:
    coll = reader.collection("docs")
    return {h.id for h in coll.search([1, 0], k=100, filter=flt, tenant=tenant)}


WIDENERS = [{}, {"tenant_id": "b"}, {"tenant_id": "a"}, {"$or": [{"n": 1}, {"n": {"$ne": 1}}]},
            {"$not": {"n": 99}}, {"$or": [{"id": "b1"}, {"id": {"$in": ["a1", "shared", "b2"]}}]}, {"n": 1}]


@pytest.mark.parametrize("shared_rows", [False, True])
def test_a_tenant_sees_on_the_mirror_what_it_sees_in_postgres(store: vecpg.Store, tenancy, shared_rows: bool) -> None:
    reader, mirror = tenancy
    with store.connection() as conn:
        conn.execute("SELECT vecpg.set_shared_rows('docs', %s)", (shared_rows,))
    seen: dict[tuple[str | None, str], set[str]] = {}
    for tenant in ("a", "b", "c", None):
        for flt in WIDENERS:
            expected = _rls_ids(reader, tenant, flt)
            got = mirror.edge_ids_for(tenant_filter(flt, tenant, shared_rows, "edge"))
            assert got == expected, (tenant, flt)
            seen[(tenant, json.dumps(flt))] = got
    # The cases of tests/test_tenancy.py, spelled out.
    shared = {"shared"} if shared_rows else set()
    assert seen[("a", "{}")] == {"a1", "a2", "a3"} | shared
    assert seen[("b", "{}")] == {"b1", "b2"} | shared
    assert seen[("c", "{}")] == shared
    assert seen[(None, "{}")] == {"shared"}  # no tenant: only rows without one, never all rows
    assert seen[("a", json.dumps({"tenant_id": "b"}))] == {"a1"}  # a metadata key, not the column
    assert all(got <= seen[(t, "{}")] for (t, _), got in seen.items())  # no user filter widens


def test_tenant_must_be_a_non_empty_string() -> None:
    with pytest.raises(vecpg.InvalidArgument, match="tenant"):
        tenant_filter({}, "", False, "edge")


# -- (d) qdrant-client's local mode: the server's code path, the same answers ------------------
def test_qdrant_client_local_mode_agrees(mirror: Mirror) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    models = qdrant_client.models
    client = qdrant_client.QdrantClient(":memory:")
    client.create_collection("items", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    client.upsert("items", [models.PointStruct(id=p.id, vector=p.vector, payload=p.payload()) for p in mirror.points])
    for flt in [{"colour": "red"}, {"colour": ["red"]}, {"n": 1}, {"flag": True}, {"colour": None},
                {"author.name": "Ada"}, {"items": [{"sku": "x"}]}, {"n": {"$gte": 2.5, "$lt": 10}},
                {"when": {"$gt": "2024-01-05T01:30:00+01:30"}}, {"tags": {"$contains": "a"}},
                {"colour": {"$nin": ["red", None]}}, {"id": {"$in": ["r2", "10"]}},
                {"created_at": {"$gt": "2024-01-03"}}, {"$not": {"$or": [{"colour": "red"}, {"n": {"$lt": 0}}]}}]:
        found, _ = client.scroll("items", scroll_filter=to_qdrant(flt, "client"), limit=10_000)
        assert {mirror.by_point[str(r.id)] for r in found} == mirror.pg_ids(flt) == mirror.edge_ids(flt), flt
    found, _ = client.scroll("items", scroll_filter=tenant_filter({"tenant_id": "a"}, None, False, "client"), limit=100)
    assert {mirror.by_point[str(r.id)] for r in found} == mirror.pg_ids({"tenant_id": "a"})  # rows have no tenant
    assert point_id(ROWS[1]["id"]) == ROWS[1]["id"]
