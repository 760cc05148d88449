"""``vecpg serve`` tested like a service: tenants isolated through every HTTP path, over a
thousand hostile requests each answered with a JSON 4xx and changing nothing, and a bounded
load of concurrent clients of two tenants. Real uvicorn on loopback, real PostgreSQL, the real
model; the keys are bound to tenants and row-level security does the binding."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest

import vecpg
from vecpg.service import Limits

TENANT_DOCS = {
    "a": [("a1", "Solar panels turn sunlight into electricity", "energy"),
          ("a2", "Wind turbines and solar farms feed the grid", "energy"),
          ("a3", "Batteries store solar energy for the night", "storage")],
    "b": [("b1", "Solar eclipses darken the sky at noon", "sky"),
          ("b2", "Solar wind streams from the Sun", "sky")],
}
ALL_IDS = [i for docs in TENANT_DOCS.values() for i, _, _ in docs]


def rows(tenant: str) -> list[dict[str, Any]]:
    return [{"id": i, "title": i.upper(), "content": c, "metadata": {"topic": t, "n": n}}
            for n, (i, c, t) in enumerate(TENANT_DOCS[tenant])]


def ids_of(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["results"]}


@pytest.fixture
def docs(app_store: vecpg.Store) -> vecpg.Collection:
    """A collection with the real model, filled by tenants a and b (like test_tenancy's)."""
    coll = app_store.create_collection("docs")
    for tenant in TENANT_DOCS:
        coll.upsert(rows(tenant), tenant=tenant)
    return coll


# -- 1. tenant isolation over HTTP --------------------------------------------------------------
def test_each_tenant_sees_only_its_rows_through_every_path(serve, make_key, docs: vecpg.Collection) -> None:
    served = serve()
    vector = docs.embed_query("solar").tolist()
    for tenant, mine_docs in TENANT_DOCS.items():
        mine = {i for i, _, _ in mine_docs}
        with served.client(make_key(tenant)) as http:
            for mode in ("vector", "keyword", "hybrid"):
                found = http.post("/collections/docs/search", json={"query": "solar", "mode": mode, "k": 10})
                assert ids_of(found) == mine, mode
            assert ids_of(http.post("/collections/docs/search", json={"query": vector, "mode": "vector"})) == mine
            for mode, queries in (("vector", ["solar", vector, "sky"]), ("keyword", ["solar", "sun", "sky"]),
                                  ("hybrid", ["solar", "solar power", "sky"])):
                batch = http.post("/collections/docs/search/batch", json={"queries": queries, "k": 10, "mode": mode})
                assert batch.status_code == 200, batch.text
                found = [{h["id"] for h in hits} for hits in batch.json()["results"]]
                assert found[0] == mine and all(ids <= mine for ids in found), mode
            assert http.get("/collections/docs").json()["count"] == len(mine)
            for doc_id in ALL_IDS:
                got = http.get(f"/collections/docs/documents/{doc_id}")
                assert got.status_code == (200 if doc_id in mine else 404), (tenant, doc_id)
            answer = http.post("/collections/docs/ask", json={"question": "What is solar?", "k": 5})
            assert answer.status_code == 200, answer.text
            assert {s["id"] for s in answer.json()["sources"]} <= mine and answer.json()["sources"]
    # An admin key has no tenant: it sees no tenant's rows at all, never all rows.
    with served.client(make_key(None, scope="admin")) as http:
        assert http.get("/collections/docs").json()["count"] == 0
        assert ids_of(http.post("/collections/docs/search", json={"query": "solar", "mode": "keyword"})) == set()


def table_state(conn: psycopg.Connection, table: str) -> tuple[int, str | None]:
    return conn.execute(f"SELECT count(*), md5(string_agg(t::text, '' ORDER BY t::text)) FROM {table} t").fetchone()  # type: ignore[return-value]


def test_no_tenant_can_change_another_tenants_rows(serve, make_key, docs: vecpg.Collection,
                                                   conn: psycopg.Connection) -> None:
    served = serve()
    theirs = "(SELECT * FROM vecpg_data.docs WHERE tenant_id = 'b')"
    before = table_state(conn, theirs)
    with served.client(make_key("a", scope="write")) as http:
        overwrite = http.put("/collections/docs/documents", json={"documents": [{"id": "b1", "content": "pwned"}]})
        assert overwrite.status_code == 403, overwrite.text
        assert overwrite.json()["error"]["type"] == "permission_denied"
        sneaky = http.put("/collections/docs/documents",
                          json={"documents": [{"id": "sneaky", "content": "x", "tenant_id": "b"}]})
        assert sneaky.status_code == 400 and "tenant_id" in sneaky.json()["error"]["message"]
        assert http.post("/collections/docs/documents/delete", json={"ids": ["b1", "b2"]}).json() == {"deleted": 0}
        assert http.post("/collections/docs/documents/delete", json={"filter": {"topic": "sky"}}).json() == {"deleted": 0}
        assert http.post("/collections/docs/documents/delete",
                         json={"filter": {"id": {"$in": ["b1", "b2"]}}}).json() == {"deleted": 0}
    assert table_state(conn, theirs) == before
    with served.client(make_key("b")) as http:
        assert http.get("/collections/docs/documents/b1").json()["content"] == TENANT_DOCS["b"][0][1]


def test_hidden_rows_do_not_change_results_or_scores(serve, make_key, docs: vecpg.Collection,
                                                     app_store: vecpg.Store) -> None:
    """Tenant a's searches in a collection crowded by tenant b score as in one holding only a's rows."""
    noise = "solar energy solar energy panels"
    embedding = docs.embed_query(noise).tolist()
    docs.load(({"id": f"b-more-{i}", "content": noise, "embedding": embedding} for i in range(300)), tenant="b")
    alone = app_store.create_collection("alone")
    alone.upsert(rows("a"), tenant="a")
    served = serve()
    vector = docs.embed_query("solar energy").tolist()
    fields = ("id", "score", "distance", "vector_rank", "keyword_rank", "keyword_score")

    def hits(http: httpx.Client, name: str, body: dict[str, Any]) -> list[tuple[Any, ...]]:
        response = http.post(f"/collections/{name}/search", json=body)
        assert response.status_code == 200, response.text
        return [tuple(round(h[f], 6) if isinstance(h[f], float) else h[f] for f in fields)
                for h in response.json()["results"]]

    with served.client(make_key("a")) as http:
        for body in ({"query": "solar energy", "mode": mode, "k": 10} for mode in ("vector", "keyword", "hybrid")):
            crowded = hits(http, "docs", body)
            assert crowded == hits(http, "alone", body) and len(crowded) == 3, body
        assert hits(http, "docs", {"query": vector, "mode": "vector"}) == hits(http, "alone", {"query": vector,
                                                                                              "mode": "vector"})


def test_shared_rows_are_readable_by_every_tenant_and_writable_by_none(
        serve, make_key, docs: vecpg.Collection, store: vecpg.Store, conn: psycopg.Connection) -> None:
    store.collection("docs").upsert([{"id": "shared", "content": "A solar glossary for everyone"}])
    served = serve()
    with served.client(make_key("a")) as http:
        assert http.get("/collections/docs/documents/shared").status_code == 404  # not shared yet
    conn.execute("SELECT vecpg.set_shared_rows('docs', true)")
    shared = "(SELECT * FROM vecpg_data.docs WHERE id = 'shared')"
    before = table_state(conn, shared)
    for tenant in TENANT_DOCS:
        with served.client(make_key(tenant)) as http:
            assert http.get("/collections/docs/documents/shared").json()["content"].startswith("A solar glossary")
            assert "shared" in ids_of(http.post("/collections/docs/search", json={"query": "glossary", "mode": "keyword"}))
        with served.client(make_key(tenant, scope="write")) as http:
            assert http.post("/collections/docs/documents/delete", json={"ids": ["shared"]}).json() == {"deleted": 0}
            assert http.post("/collections/docs/documents/delete",
                             json={"filter": {"id": "shared"}}).json() == {"deleted": 0}
            overwrite = http.put("/collections/docs/documents", json={"documents": [{"id": "shared", "content": "x"}]})
            assert overwrite.status_code == 403, overwrite.text
    assert table_state(conn, shared) == before


# -- 2. hostile requests ------------------------------------------------------------------------
LIMITS = Limits(max_body_bytes=64_000, max_k=50, max_batch=5, max_documents=20, max_filter_depth=4)
DIM = 384
INJECTIONS = ["'; DROP TABLE vecpg_data.kb;--", "kb'; DELETE FROM vecpg.api_key;--", "%I", "%s", "%L", "%(filter)s",
              "'", '"', "\\", "kb\x00", "\x00", "../kb", "../../etc/passwd", "..", "ünïcödé", "🙂", "vecpg_data.kb",
              "pg_catalog.pg_class", "x" * 300, "KB", " kb", "kb ", "$1", "{}", "kb%00", "kb\n", "a/b", "NULL",
              "kb\u202e", "\ud7ff"]


@dataclass
class Case:
    """One hostile request: who sends it (a key name, or headers), and the 4xx statuses it may get."""

    family: str
    method: str
    path: str
    key: str | None = "read"
    body: bytes | Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (400,)


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


def vector(rng: random.Random, dim: int = DIM) -> list[float]:
    return [round(rng.uniform(-1, 1), 4) for _ in range(dim)]


ROUTES = [  # method, path, a valid body, the scope it needs
    ("GET", "/collections", None, "read"),
    ("GET", "/collections/kb", None, "read"),
    ("GET", "/collections/kb/documents/tides", None, "read"),
    ("POST", "/collections/kb/search", {"query": "tides", "k": 3, "mode": "keyword", "filter": {"topic": "sea"}}, "read"),
    ("POST", "/collections/kb/search/batch", {"queries": ["tides", "bread"], "k": 2, "mode": "keyword"}, "read"),
    ("POST", "/collections/kb/ask", {"question": "Why do tides rise?", "k": 2}, "read"),
    ("PUT", "/collections/kb/documents", {"documents": [{"id": "new", "content": "Glaciers carve valleys."}]}, "write"),
    ("POST", "/collections/kb/documents/delete", {"ids": ["tides"], "filter": {"topic": "sea"}}, "write"),
    ("PUT", "/collections/fresh", {"dimension": 3, "distance": "l2"}, "admin"),
    ("DELETE", "/collections/kb", None, "admin"),
]
BODY_ROUTES = [r for r in ROUTES if r[2] is not None]


def auth_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    good = keys["read"]
    key_id, secret = good.split("_")[1], good.split("_")[2]
    other_secret = keys["write"].split("_")[2]
    headers = [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWxhZGRpbjpvcGVu"},
               {"Authorization": "Bearer nonsense"}, {"Authorization": "bearer vpk_"},
               {"Authorization": f"Bearer {good[:-1]}{'A' if good[-1] != 'A' else 'B'}"},
               {"Authorization": f"Bearer vpk_{'0' * 12}_{secret}"},
               {"Authorization": f"Bearer vpk_{key_id}_{other_secret}"},
               {"Authorization": f"Bearer {keys['revoked']}"}, {"api-key": keys["expired"]},
               {"Authorization": f"Bearer {good}{'x' * 200}"}, {"Authorization": f"Bearer {good} {good}"},
               {"api-key": "' OR 1=1 --"}, {"api-key": f"vpk_{key_id}_%s"}, {"api-key": good.upper()},
               {"Authorization": "Token " + good}, {"api-key": ""}]
    headers += [{"api-key": "".join(rng.choice("vpk_0123456789abcdefXYZ-'\"%;") for _ in range(rng.randint(1, 80)))}
                for _ in range(5)]
    for header in headers:
        for method, path, body, _ in ROUTES:
            yield Case("auth", method, path, None, raw(body) if body else None, header, (401,))


def scope_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    order = ["read", "write", "admin"]
    for key in ("read", "write"):
        for method, path, body, needs in ROUTES:
            if order.index(needs) > order.index(key):
                yield Case("scope", method, path, key, raw(body) if body else None, expect=(403,))
    for method, path, body, _ in ROUTES[1:]:  # a key bound to collection "other": nothing of kb
        yield Case("scope", method, path, "other_admin", raw(body) if body else None, expect=(403,))
    yield Case("scope", "POST", "/collections/other/search", "kb_only", raw({"query": [1, 0, 0], "mode": "vector"}),
               expect=(403,))


def malformed_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    keyed = {"read": "read", "write": "write", "admin": "admin"}
    for method, path, body, needs in BODY_ROUTES:
        text = raw(body)
        for cut in sorted(rng.sample(range(1, len(text)), min(30, len(text) - 1))):  # truncated
            yield Case("truncated", method, path, keyed[needs], text[:cut])
        for junk in (b"[]", b'"x"', b"1", b"null", b"true", b"{,}", b"{'query': 'x'}", b"\xff\xfe", b"{\x00}",
                     text + b"}", b"{" + text, text.replace(b'"', b"'"), b"\xef\xbb\xbf" + text[:-1]):
            yield Case("not json", method, path, keyed[needs], junk)
    wrong = {
        "/collections/kb/search": [{"query": 5}, {"query": {"a": 1}}, {"query": None}, {"query": True},
                                   {"query": "x", "k": "ten"}, {"query": "x", "k": 1.5}, {"query": "x", "k": []},
                                   {"query": "x", "mode": 1}, {"query": "x", "filter": []}, {"query": "x", "filter": "a"},
                                   {"query": "x", "mmr": "half"}, {"query": ["a", "b"]}, {"query": [[1.0]]},
                                   {"query": "x", "options": []}, {"query": "x", "reranker": 5}, {}, {"k": 3}],
        "/collections/kb/search/batch": [{"queries": "tides"}, {"queries": {"q": 1}}, {"queries": [5]},
                                         {"queries": [{}]}, {"queries": [None]}, {"queries": []}, {"query": "tides"},
                                         {"queries": ["x"], "k": "many"}, {"queries": [["a"]]}],
        "/collections/kb/ask": [{"question": 5}, {"question": None}, {"question": ["a"]}, {},
                                {"question": "x", "stream": "sometimes"}, {"question": "x", "k": "two"},
                                {"question": "x", "token_budget": 0}, {"question": "x", "max_tokens": 9000}],
        "/collections/kb/documents": [{"documents": "doc"}, {"documents": {}}, {"documents": [5]}, {"documents": []},
                                      {"documents": [{"id": [1]}]}, {"documents": [{"id": {"a": 1}}]},
                                      {"documents": [{"content": 5}]}, {"documents": [{"metadata": []}]},
                                      {"documents": [{"metadata": "x"}]}, {"documents": [{"embedding": "x"}]},
                                      {"documents": [{"embedding": [[1.0]]}]}, {"documents": [{"title": {}}]},
                                      {"documents": [{"id": "x", "tenant_id": "globex"}]}, {"docs": []}],
        "/collections/kb/documents/delete": [{"ids": "tides"}, {"ids": {"tides": 1}}, {"ids": [None]},
                                             {"ids": [["tides"]]}, {"filter": []}, {"filter": "topic"}, {},
                                             {"ids": None, "filter": None}, {"where": {"topic": "sea"}}],
        "/collections/fresh": [{"dimension": "x"}, {"dimension": 0}, {"dimension": -3}, {"dimension": 16001},
                               {"distance": "manhattan"}, {"storage": "disk"}, {"dimension": 3, "extra": 1},
                               {"model": 5}, {"model": "m" * 201}],
    }
    numbers = {  # JSON that Python's json module would not write: NaN, Infinity, huge numbers
        "/collections/kb/search": [b'{"query": "x", "k": NaN}', b'{"query": "x", "k": Infinity}',
                                   b'{"query": "x", "k": 1e999}', b'{"query": "x", "k": -1e999}',
                                   b'{"query": "x", "k": 1' + b"0" * 400 + b"}", b'{"query": "x", "mmr": NaN}',
                                   b'{"query": "x", "mmr": Infinity}', b'{"query": "x", "mmr": 1e999}',
                                   b'{"query": "x", "k": 3.000000000000001}'],
        "/collections/fresh": [b'{"dimension": 1e999}', b'{"dimension": 1' + b"0" * 40 + b"}", b'{"dimension": NaN}'],
        "/collections/kb/ask": [b'{"question": "x", "k": NaN}', b'{"question": "x", "token_budget": 1e999}'],
    }
    route = {path: (method, needs) for method, path, _, needs in BODY_ROUTES}
    for path, bodies in wrong.items():
        for value in bodies:
            yield Case("wrong types", route[path][0], path, route[path][1], raw(value))
    for path, texts in numbers.items():
        for text in texts:
            yield Case("numbers", route[path][0], path, route[path][1], text)


def vector_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    for dim in (0, 1, 2, 3, 383, 385, 768, 2000):
        for mode in ("vector", "hybrid"):
            yield Case("vectors", "POST", "/collections/kb/search", "read", raw({"query": vector(rng, dim), "mode": mode}))
        yield Case("vectors", "POST", "/collections/kb/search/batch", "read",
                   raw({"queries": [vector(rng), vector(rng, dim)], "mode": "vector"}))
        yield Case("vectors", "PUT", "/collections/kb/documents", "write",
                   raw({"documents": [{"id": "v", "content": "x", "embedding": vector(rng, dim)}]}))
    for bad in ("NaN", "Infinity", "-Infinity", "1e39", "-1e39", "1e999"):
        at = rng.randrange(DIM)
        values = [str(v) for v in vector(rng)]
        values[at] = bad
        text = ("[" + ", ".join(values) + "]").encode()
        for mode in ("vector", "hybrid"):
            yield Case("vectors", "POST", "/collections/kb/search", "read", b'{"mode": "' + mode.encode() + b'", "query": ' + text + b"}")
        yield Case("vectors", "POST", "/collections/kb/search/batch", "read", b'{"mode": "vector", "queries": [' + text + b"]}")
        yield Case("vectors", "PUT", "/collections/kb/documents", "write",
                   b'{"documents": [{"id": "nan", "content": "x", "embedding": ' + text + b"}]}")


def bound_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    for k in (0, -1, -(2**63), 51, 10**9, 2**63, 10**30):
        yield Case("bounds", "POST", "/collections/kb/search", "read", raw({"query": "x", "k": k, "mode": "keyword"}))
        yield Case("bounds", "POST", "/collections/kb/search/batch", "read", raw({"queries": ["x"], "k": k}))
        yield Case("bounds", "POST", "/collections/kb/ask", "read", raw({"question": "x", "k": k}))
    for mmr in (-0.1, 1.1, -1e308, 2):
        yield Case("bounds", "POST", "/collections/kb/search", "read", raw({"query": "x", "mmr": mmr}))
    for n in (6, 7, 20, 101, rng.randint(8, 99)):
        yield Case("bounds", "POST", "/collections/kb/search/batch", "read", raw({"queries": ["tides"] * n}))
    for n in (21, 50, 1000):
        yield Case("bounds", "PUT", "/collections/kb/documents", "write",
                   raw({"documents": [{"id": f"d{i}", "content": "x"} for i in range(n)]}))
        yield Case("bounds", "POST", "/collections/kb/documents/delete", "write", raw({"ids": [str(i) for i in range(n)]}))
    yield Case("bounds", "POST", "/collections/kb/search", "read", raw({"query": "x", "reranker": "cross-encoder"}))


def huge_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    limit = LIMITS.max_body_bytes

    def chunked(text: bytes) -> Iterator[bytes]:
        for start in range(0, len(text), 8192):
            yield text[start:start + 8192]

    for method, path, _, needs in BODY_ROUTES:
        for size in (limit + 1, limit + rng.randint(2, limit), 4 * limit):
            padding = "x" * size
            text = raw({"query": padding, "question": padding, "documents": [{"content": padding}], "ids": [padding]})
            yield Case("huge", method, path, needs, text, expect=(413,))
            yield Case("huge chunked", method, path, needs, chunked(text), expect=(413,))
    for method, path, _, needs in ROUTES[:3]:  # a body where none is expected is bounded too
        yield Case("huge", method, path, needs, b" " * (limit + 1), expect=(413,))


def nested_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    def nest(depth: int, kind: str) -> Any:
        value: Any = "sea"
        for level in range(depth):
            value = ({"$and": [value]} if kind == "and" else {"$not": value} if kind == "not"
                     else {f"k{level}": value} if kind == "keys" else [value])
        return value

    depths = [5, 6, 8, 16, 64, 200, rng.randint(9, 200), rng.randint(9, 200)]  # 200: Python's json can write it
    for depth in depths:
        for kind in ("and", "not", "keys"):
            yield Case("nested", "POST", "/collections/kb/search", "read", raw({"query": "x", "filter": nest(depth, kind)}))
            yield Case("nested", "POST", "/collections/kb/documents/delete", "write", raw({"filter": nest(depth, kind)}))
        yield Case("nested", "POST", "/collections/kb/search", "read",
                   raw({"query": "x", "filter": {"topic": {"$in": nest(depth, "list")}}}))
        yield Case("nested", "POST", "/collections/kb/ask", "read", raw({"question": "x", "filter": nest(depth, "and")}))
        yield Case("nested", "PUT", "/collections/kb/documents", "write",
                   raw({"documents": [{"id": "deep", "content": "x", "metadata": nest(depth, "keys")}]}))
        yield Case("nested", "POST", "/collections/kb/search", "read", raw({"query": "x", "options": nest(depth, "keys")}))
    for depth in (1_000, 5_000, 10_000):  # deeper than any parser's stack
        yield Case("nested", "POST", "/collections/kb/search", "read", b'{"query": ' + b"[" * depth + b"]" * depth + b"}")
        yield Case("nested", "POST", "/collections/kb/search", "read",
                   b'{"query": "x", "filter": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}")


def operator_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    filters: list[Any] = [{"topic": {op: "x"}} for op in ("$regex", "$where", "$like", "$ilike", "$elemMatch", "$size",
                                                          "$type", "$text", "$expr", "$", "$$", "$EQ", "$eq ", "$in;")]
    filters += [{"$regex": "x"}, {"$where": "1=1"}, {"$or": "x"}, {"$and": {"a": 1}}, {"$not": [1]},
                {"topic": {"$eq": "sea", "plain": 1}}, {"topic": {"$in": "sea"}}, {"topic": {"$nin": 1}},
                {"topic": {"$gt": {"a": 1}}}, {"topic": {"$lt": "not a date"}}, {"topic": {"$exists": "yes"}},
                {"id": {"$gt": "a"}}, {"id": {"$eq": 5}}, {"id": {"$in": "tides"}}, {"": "x"}, {"a..b": 1},
                {"metadata.": 1}, {"created_at": {"$gt": "yesterday"}},
                {"topic": "sea\x00"}, {"topic\x00": "sea"}]
    for value in filters:
        yield Case("operators", "POST", "/collections/kb/search", "read", raw({"query": "x", "mode": "keyword", "filter": value}))
        yield Case("operators", "POST", "/collections/kb/search/batch", "read", raw({"queries": ["x"], "filter": value}))
        yield Case("operators", "POST", "/collections/kb/documents/delete", "write", raw({"filter": value}))
        yield Case("operators", "POST", "/collections/kb/ask", "read", raw({"question": "x", "filter": value}))


def injection_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    for text in INJECTIONS:
        name = quote(text, safe="")
        if text.strip(".") == "":
            continue  # a dot segment: the client resolves it, so it is another (valid) path
        for method, path, body, needs in ROUTES:
            if needs == "admin" or "/kb" not in path:
                continue  # creating a collection of a valid odd name is allowed; dropping is tested elsewhere
            yield Case("injected name", method, path.replace("/kb", f"/{name}", 1), needs,
                       raw(body) if body else None, expect=(400, 404))
        yield Case("injected id", "GET", f"/collections/kb/documents/{name}", "read", expect=(400, 404))
        yield Case("injected mode", "POST", "/collections/kb/search", "read", raw({"query": "x", "mode": text}))
        yield Case("injected reranker", "POST", "/collections/kb/search", "read", raw({"query": "x", "reranker": text}))
        yield Case("injected distance", "PUT", "/collections/fresh", "admin", raw({"dimension": 3, "distance": text}))


def method_cases(keys: dict[str, str], rng: random.Random) -> Iterator[Case]:
    allowed = {"/healthz": {"GET"}, "/readyz": {"GET"}, "/collections": {"GET"},
               "/collections/kb": {"GET", "PUT", "DELETE"}, "/collections/kb/documents": {"PUT"},
               "/collections/kb/documents/tides": {"GET"}, "/collections/kb/documents/delete": {"POST"},
               "/collections/kb/search": {"POST"}, "/collections/kb/search/batch": {"POST"},
               "/collections/kb/ask": {"POST"}}
    for path, methods in allowed.items():
        for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - methods:
            if path == "/collections/kb/documents/delete" and method == "GET":
                continue  # a document whose id is "delete": an ordinary 404
            for key in (None, "read"):
                yield Case("methods", method, path, key, expect=(405,))
    for _ in range(25):
        parts = [rng.choice(["collections", "kb", "documents", "search", "admin", ".env", "%2e%2e", "batch", "x"])
                 for _ in range(rng.randint(1, 5))]
        path = "/" + "/".join(parts)
        if parts[0] == "collections" and len(parts) <= 2 or path in allowed:
            continue  # GET /collections, or a collection's own route: may be served
        # A path shaped like a route (/collections/x/search) is that route: a body or a scope it lacks.
        yield Case("unknown routes", rng.choice(["GET", "POST"]), path, "read", expect=(400, 403, 404, 405))


FAMILIES: list[Callable[[dict[str, str], random.Random], Iterator[Case]]] = [
    auth_cases, scope_cases, malformed_cases, vector_cases, bound_cases, huge_cases, nested_cases,
    operator_cases, injection_cases, method_cases]

STATE = {  # what a hostile request must not change
    "kb": "vecpg_data.kb", "other": "vecpg_data.other", "api_key": "vecpg.api_key", "collection": "vecpg.collection",
    "audit": "vecpg.audit_log", "bm25": "vecpg.bm25_df",
    "tables": "(SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema LIKE 'vecpg%')"}


def snapshot(conn: psycopg.Connection) -> dict[str, tuple[int, str | None]]:
    return {name: table_state(conn, table) for name, table in STATE.items()}


@pytest.fixture
def kb(app_store: vecpg.Store) -> vecpg.Collection:
    coll = app_store.create_collection("kb")
    coll.upsert([{"id": "tides", "title": "Tides", "content": "The Moon's gravity pulls the oceans.",
                  "metadata": {"topic": "sea"}},
                 {"id": "bread", "title": "Sourdough", "content": "Sourdough rises with wild yeast.",
                  "metadata": {"topic": "food"}}], tenant="acme")
    coll.upsert([{"id": "secret", "content": "Globex's tides of secret launch plans.", "metadata": {"topic": "sea"}}],
                tenant="globex")
    app_store.create_collection("other", dimension=3)
    return coll


def test_a_thousand_hostile_requests_get_json_4xx_and_change_nothing(
        serve, make_key, kb: vecpg.Collection, app_store: vecpg.Store, conn: psycopg.Connection) -> None:
    from vecpg.service import keys as api_keys

    served = serve(limits=LIMITS)
    keys = {"read": make_key("acme"), "write": make_key("acme", scope="write"), "admin": make_key(None, scope="admin"),
            "other_admin": make_key(None, scope="admin", collection="other"), "kb_only": make_key("acme", collection="kb"),
            "revoked": make_key("acme"),
            "expired": make_key("acme", expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))}
    assert app_store.run(api_keys.revoke(keys["revoked"].split("_")[1]))
    rng = random.Random(23)
    cases = [case for family in FAMILIES for case in family(keys, rng)]
    before = snapshot(conn)
    clients = {name: served.client(key) for name, key in keys.items()} | {None: served.client()}
    failures: list[str] = []
    answered: dict[str, int] = {}
    try:
        for case in cases:
            http = clients[case.key]
            try:
                response = http.request(case.method, case.path, content=case.body, headers=case.headers)
            except httpx.TransportError as exc:
                failures.append(f"{case.family} {case.method} {case.path[:60]!r}: no answer ({exc!r})")
                clients[case.key] = served.client(keys.get(case.key or ""))  # type: ignore[arg-type]
                continue
            try:
                error = response.json()["error"]
                well_formed = set(error) == {"type", "message"} and all(isinstance(v, str) for v in error.values())
            except (ValueError, KeyError, TypeError):
                well_formed = False
            if response.status_code not in case.expect or not well_formed:
                failures.append(f"{case.family} {case.method} {case.path[:60]!r} {case.body!r:.80}: "
                                f"{response.status_code} {response.text[:160]}")
            else:
                answered[case.family] = answered.get(case.family, 0) + 1
    finally:
        for http in clients.values():
            http.close()
    assert not failures, f"{len(failures)} of {len(cases)} failed:\n" + "\n".join(failures[:40])
    assert sum(answered.values()) == len(cases) >= 1000, answered
    assert len({case.family for case in cases}) == len(answered) >= 15, answered  # every family was answered
    assert snapshot(conn) == before
    with served.client(keys["read"]) as http:  # and the service still serves
        assert ids_of(http.post("/collections/kb/search", json={"query": "tides", "mode": "keyword"})) == {"tides"}


def test_injections_in_filters_and_ids_find_nothing_of_other_tenants(
        serve, make_key, kb: vecpg.Collection, conn: psycopg.Connection) -> None:
    """Odd filter keys and values and ids are data, not SQL: answered with the tenant's own rows
    or none (or a 400 for a key the filter language refuses, such as a dotted path with an empty
    part), and nothing deleted."""
    served = serve(limits=LIMITS)
    reading, writing = make_key("acme"), make_key("acme", scope="write")
    before = snapshot(conn)
    answers: dict[int, int] = {}

    def answered(response: httpx.Response) -> dict[str, Any]:
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400), response.text
        return response.json() if response.status_code == 200 else {"results": [], "deleted": 0}

    with served.client(reading) as reader, served.client(writing) as writer:
        for text in INJECTIONS:
            if "\x00" in text:
                continue  # refused with a 400 (the hostile test)
            for body in ({"query": "tides", "mode": "keyword", "filter": {text: "sea"}},
                         {"query": "tides", "mode": "keyword", "filter": {"topic": text}},
                         {"query": "tides", "filter": {"topic": {"$in": [text, "sea"]}}},
                         {"query": text, "mode": "keyword"}, {"query": text, "mode": "hybrid", "k": 3}):
                found = answered(reader.post("/collections/kb/search", json=body))["results"]
                assert {hit["id"] for hit in found} <= {"tides", "bread"}, body
            for body in ({"ids": [text, "secret"]}, {"filter": {"topic": text}}, {"filter": {text: "sea"}},
                         {"ids": ["secret"], "filter": {"id": {"$ne": text}}}):
                assert answered(writer.post("/collections/kb/documents/delete", json=body))["deleted"] == 0, body
    assert sum(answers.values()) >= 200 and answers[200] > answers.get(400, 0), answers
    after = snapshot(conn)
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}


# -- 3. a bounded load --------------------------------------------------------------------------
def test_concurrent_clients_of_two_tenants_only_ever_see_their_own_rows(
        serve, make_key, docs: vecpg.Collection, conn: psycopg.Connection) -> None:
    served = serve()
    vectors = {text: docs.embed_query(text).tolist() for text in ("solar", "sky", "energy at night")}
    keys = {tenant: (make_key(tenant), make_key(tenant, scope="write")) for tenant in TENANT_DOCS}
    errors: list[str] = []
    requests = [0] * 8
    written: dict[str, set[str]] = {tenant: set() for tenant in TENANT_DOCS}
    lock = threading.Lock()
    stop = time.monotonic() + 5.0

    def own(tenant: str, found: set[str]) -> None:
        strangers = {i for i in found if not i.startswith(tenant)}
        if strangers:
            errors.append(f"tenant {tenant} saw {sorted(strangers)}")

    def client(number: int) -> None:
        tenant = "ab"[number % 2]
        rng = random.Random(number)
        reader_key, writer_key = keys[tenant]
        with served.client(reader_key) as reader, served.client(writer_key) as writer:
            n = 0
            while time.monotonic() < stop:
                n += 1
                requests[number] += 1
                choice = rng.randrange(6)
                text = rng.choice(list(vectors))
                query: Any = vectors[text] if rng.random() < 0.5 else text
                mode = rng.choice(["vector", "keyword", "hybrid"]) if isinstance(query, str) else "vector"
                if choice == 0:
                    doc_id = f"{tenant}-t{number}-{n}"
                    document: dict[str, Any] = {"id": doc_id, "content": f"solar note {n} of client {number}"}
                    if rng.random() < 0.5:
                        document["embedding"] = vectors[text]
                    response = writer.put("/collections/docs/documents", json={"documents": [document]})
                    if response.status_code == 200:
                        with lock:
                            written[tenant].add(doc_id)
                elif choice == 1:
                    response = reader.post("/collections/docs/search/batch",
                                           json={"queries": [query, "solar"], "k": 5, "mode": mode})
                    if response.status_code == 200:
                        own(tenant, {h["id"] for hits in response.json()["results"] for h in hits})
                elif choice == 2:
                    doc_id = rng.choice(ALL_IDS)
                    response = reader.get(f"/collections/docs/documents/{doc_id}")
                    if response.status_code != (200 if doc_id.startswith(tenant) else 404):
                        errors.append(f"GET {doc_id} as {tenant}: {response.status_code} {response.text[:200]}")
                    continue
                else:
                    response = reader.post("/collections/docs/search", json={"query": query, "k": 5, "mode": mode})
                    if response.status_code == 200:
                        own(tenant, {h["id"] for h in response.json()["results"]})
                if response.status_code != 200:
                    errors.append(f"{response.request.method} {response.request.url.path}: "
                                  f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:10]
    counts = dict(conn.execute("SELECT tenant_id, count(*) FROM vecpg_data.docs GROUP BY 1").fetchall())
    assert counts == {tenant: len(TENANT_DOCS[tenant]) + len(written[tenant]) for tenant in TENANT_DOCS}
    assert all(written.values()) and all(requests), requests  # every client worked, every tenant wrote
