"""``vecpg serve`` over real HTTP on loopback: keys bound to tenants, every route, limits and
errors as JSON. The app runs in uvicorn in a thread of the test process, on the test database."""

from __future__ import annotations

import json
import time

import httpx
import psycopg
import pytest

import vecpg
from vecpg.db.migrate import VERSION_TABLE
from vecpg.service import Limits
from vecpg.service import keys as api_keys

DOCS = [
    {"id": "tides", "title": "Tides", "content": "The Moon's gravity pulls the oceans, so tides rise and fall.",
     "metadata": {"topic": "sea"}},
    {"id": "bread", "title": "Sourdough", "content": "Sourdough rises with wild yeast and bakes with steam.",
     "metadata": {"topic": "food"}},
    {"id": "lava", "title": "Volcanoes", "content": "Volcanoes erupt when magma rises through the crust.",
     "metadata": {"topic": "earth"}},
]


@pytest.fixture
def kb(app_store: vecpg.Store) -> vecpg.Collection:
    coll = app_store.create_collection("kb")
    coll.upsert(DOCS, tenant="acme")
    coll.upsert([{"id": "secret", "content": "Globex's tides of secret launch plans.", "metadata": {"topic": "sea"}}],
                tenant="globex")
    return coll


def test_search_as_the_key_s_tenant_in_every_mode(serve, make_key, kb: vecpg.Collection) -> None:
    served = serve()
    with served.client(make_key("acme")) as http:
        for mode in ("vector", "keyword", "hybrid"):
            response = http.post("/collections/kb/search", json={"query": "why do tides rise?", "mode": mode, "k": 3})
            assert response.status_code == 200, response.text
            ids = [hit["id"] for hit in response.json()["results"]]
            with kb.store.tenant("acme"):
                assert ids == [hit.id for hit in kb.search("why do tides rise?", k=3, mode=mode)]
            assert "secret" not in ids
        hit = http.post("/collections/kb/search", json={"query": "tides", "mode": "hybrid"}).json()["results"][0]
        assert hit["id"] == "tides" and hit["vector_rank"] is not None and hit["keyword_rank"] == 1
        filtered = http.post("/collections/kb/search", json={"query": "rises", "filter": {"topic": "food"}})
        assert [h["id"] for h in filtered.json()["results"]] == ["bread"]
        vector = kb.embed_query("volcano")
        by_vector = http.post("/collections/kb/search", json={"query": vector.tolist(), "mode": "vector", "k": 1})
        assert by_vector.json()["results"][0]["id"] == "lava"
        batch = http.post("/collections/kb/search/batch", json={"queries": ["tides", "sourdough"], "k": 1})
        assert [r[0]["id"] for r in batch.json()["results"]] == ["tides", "bread"]
        diverse = http.post("/collections/kb/search", json={"query": "rises", "mmr": 0.5, "k": 2, "mode": "vector"})
        assert diverse.status_code == 200 and len(diverse.json()["results"]) == 2
    with served.client(make_key("globex"), header="api-key") as http:  # Qdrant's header
        ids = [h["id"] for h in http.post("/collections/kb/search", json={"query": "tides"}).json()["results"]]
        assert ids == ["secret"]


def test_documents_and_collections_by_scope(serve, make_key, kb: vecpg.Collection, conn: psycopg.Connection) -> None:
    served = serve()
    reader, writer, admin = make_key(scope="read"), make_key(scope="write"), make_key(None, scope="admin")
    doc = {"id": "new", "content": "Glaciers carve valleys.", "metadata": {"topic": "earth"}}
    with served.client(reader) as http:
        refused = http.put("/collections/kb/documents", json={"documents": [doc]})
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "forbidden"
        assert http.get("/collections/kb").json()["count"] == 3  # acme's three
        assert http.get("/collections/kb/documents/tides").json()["title"] == "Tides"
        missing = http.get("/collections/kb/documents/secret")  # globex's: invisible, not forbidden
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "document_not_found"
        assert http.put("/collections/other", json={"dimension": 3}).status_code == 403
    with served.client(writer) as http:
        assert http.put("/collections/kb/documents", json={"documents": [doc]}).json()["upserted"] == 1
        assert http.post("/collections/kb/documents/delete", json={"filter": {"topic": "food"}}).json() == {"deleted": 1}
        assert http.post("/collections/kb/documents/delete", json={"ids": ["secret"]}).json() == {"deleted": 0}
    key_id = writer.split("_")[1]
    audited = conn.execute("SELECT operation, ids, tenant FROM vecpg.audit_log WHERE api_key = %s ORDER BY id",
                           (key_id,)).fetchall()
    assert audited == [("INSERT", ["new"], "acme"), ("DELETE", ["bread"], "acme")]
    with served.client(admin) as http:
        created = http.put("/collections/notes", json={"dimension": 3, "distance": "l2"})
        assert created.status_code == 201 and created.json()["dimension"] == 3
        assert "notes" in [c["name"] for c in http.get("/collections").json()["collections"]]
        assert http.put("/collections/notes", json={"dimension": 3}).status_code == 409
        assert http.delete("/collections/notes").json() == {"dropped": True}
        assert http.get("/collections/notes").status_code == 404


def test_keys_are_checked(serve, make_key, kb: vecpg.Collection, app_store: vecpg.Store) -> None:
    served = serve()
    good = make_key()
    with served.client() as http:
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"},
                        {"Authorization": f"Bearer {good[:-1]}x"}, {"api-key": "vpk_000000000000_" + "a" * 43}):
            response = http.post("/collections/kb/search", json={"query": "tides"}, headers=headers)
            assert response.status_code == 401 and response.json()["error"]["type"] == "unauthorized", headers
    only_kb = make_key(collection="kb")
    app_store.create_collection("other", dimension=3)
    with served.client(only_kb) as http:
        assert [c["name"] for c in http.get("/collections").json()["collections"]] == ["kb"]
        assert http.post("/collections/other/search", json={"query": [1, 0, 0], "mode": "vector"}).status_code == 403
        assert http.post("/collections/kb/search", json={"query": "tides"}).status_code == 200
    assert app_store.run(api_keys.revoke(only_kb.split("_")[1]))
    with served.client(only_kb) as http:
        revoked = http.post("/collections/kb/search", json={"query": "tides"})
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]
    import datetime as dt

    expired = make_key(expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
    time.sleep(1.2)
    with served.client(expired) as http:
        assert "expired" in http.post("/collections/kb/search", json={"query": "tides"}).json()["error"]["message"]
    stored = app_store.run(api_keys.list_keys())
    assert all(good.split("_")[2] not in repr(k) for k in stored)  # only hashes are stored


def test_limits_and_errors_are_json_4xx(serve, make_key, kb: vecpg.Collection) -> None:
    served = serve(limits=Limits(max_body_bytes=50_000, max_k=20, max_batch=3, max_filter_depth=4))
    with served.client(make_key()) as http:
        cases = [
            (http.post("/collections/kb/search", content=b"{not json"), 400),
            (http.post("/collections/kb/search", json={"query": "x", "k": 21}), 400),
            (http.post("/collections/kb/search", json={"query": "x", "k": 0}), 400),
            (http.post("/collections/kb/search", json={"query": "x", "mode": "magic"}), 400),
            (http.post("/collections/kb/search", json={"query": "x", "unknown": 1}), 400),
            (http.post("/collections/kb/search", json={"query": "x", "filter": {"a": {"$in": [[[[1]]]]}}}), 400),
            (http.post("/collections/kb/search", json={"query": "x", "filter": {"$bogus": 1}}), 400),
            (http.post("/collections/kb/search", json={"query": [1.0, 2.0], "mode": "vector"}), 400),
            (http.post("/collections/kb/search", content=b"[" * 100_000 + b"]" * 100_000), 413),
            (http.post("/collections/kb/search", content=b'{"query": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"), 400),
            (http.post("/collections/kb/search/batch", json={"queries": ["a", "b", "c", "d"]}), 400),
            (http.post("/collections/nope/search", json={"query": "x"}), 404),
            (http.post("/collections/kb'; DROP TABLE x;--/search", json={"query": "x"}), 404),
            (http.get("/no/such/route"), 404),
            (http.delete("/collections/kb/search"), 405),
        ]
        for response, status in cases:
            assert response.status_code == status, response.text
            assert set(response.json()["error"]) == {"type", "message"}, response.text
        assert kb.count() == 0 and kb.store.run  # (the store's own view: no tenant)
    with kb.store.tenant("acme"):
        assert kb.count() == 3


def test_ask_answers_with_sources_and_streams(serve, make_key, kb: vecpg.Collection) -> None:
    served = serve()
    with served.client(make_key("acme")) as http:
        answer = http.post("/collections/kb/ask", json={"question": "why do tides rise?", "k": 2}).json()
        assert answer["answer"] == "The Moon pulls the oceans [1]." and answer["cited"] == [1]
        assert answer["sources"][0]["id"] == "tides" and all(s["id"] != "secret" for s in answer["sources"])
        with http.stream("POST", "/collections/kb/ask", json={"question": "why do tides rise?", "stream": True}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            events = [block for block in r.read().decode().split("\n\n") if block]
        assert events[0].startswith("event: token") and events[-1].startswith("event: answer")
        final = json.loads(events[-1].split("data: ", 1)[1])
        assert final["cited"] == [1] and final["sources"][0]["id"] == "tides"
        bad = http.post("/collections/kb/ask", json={"question": "tides\x07"})
        assert bad.status_code == 400 and "control character" in bad.json()["error"]["message"]


def test_health_readiness_and_openapi(serve, kb: vecpg.Collection, db_url: str) -> None:
    served = serve(keys=False)
    with served.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["revision"] == ready["head"] and "schema" not in ready
        # Migrated for the next release (a rolling upgrade's first step): this process stays ready...
        with psycopg.connect(db_url, autocommit=True) as conn:
            head = ready["head"]
            conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = %s", (f"{int(head) + 1:04d}",))
            try:
                ahead = http.get("/readyz")
                assert ahead.status_code == 200 and ahead.json()["schema"] == "ahead"
                # ...and one behind its code is not.
                conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = %s", (f"{int(head) - 1:04d}",))
                behind = http.get("/readyz")
                assert behind.status_code == 503 and behind.json()["status"] == "not_migrated"
            finally:
                conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = %s", (head,))
        spec = http.get("/openapi.json").json()
        search = spec["paths"]["/collections/{name}/search"]["post"]
        schema = search["requestBody"]["content"]["application/json"]["schema"]
        assert "query" in schema["properties"] and schema["examples"]
        assert {"bearer", "api-key"} <= set(spec["components"]["securitySchemes"])
        upsert = spec["paths"]["/collections/{name}/documents"]["put"]["requestBody"]["content"]
        assert upsert["application/json"]["schema"]["properties"]["documents"]["items"]["$ref"].endswith("DocumentIn")
        assert "DocumentIn" in spec["components"]["schemas"]
        # Without keys: no tenant, so tenants' documents stay invisible.
        assert http.post("/collections/kb/search", json={"query": "tides"}).json()["results"] == []


def test_a_statement_timeout_and_a_client_that_leaves(serve, make_key, kb: vecpg.Collection, db_url: str) -> None:
    served = serve(limits=Limits(statement_timeout=0.3))
    key = make_key()
    with psycopg.connect(db_url) as locker:  # holds the table, so the search waits
        locker.execute("LOCK TABLE vecpg_data.kb IN ACCESS EXCLUSIVE MODE")
        with served.client(key) as http:
            slow = http.post("/collections/kb/search", json={"query": "tides", "mode": "vector"})
        assert slow.status_code == 408 and slow.json()["error"]["type"] == "statement_timeout"
        locker.rollback()
    long = serve(limits=Limits(statement_timeout=60))
    with psycopg.connect(db_url) as locker:
        locker.execute("LOCK TABLE vecpg_data.kb IN ACCESS EXCLUSIVE MODE")
        with long.client(key) as http, pytest.raises(httpx.ReadTimeout):
            http.post("/collections/kb/search", json={"query": "tides", "mode": "vector"}, timeout=1.0)

        def waiting() -> int:
            return locker.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND query LIKE '%%vecpg.search%%'").fetchone()[0]  # type: ignore[index]

        deadline = time.monotonic() + 5
        while waiting() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting() == 0  # the abandoned query was cancelled, not left waiting for the lock
        locker.rollback()
    with long.client(key) as http:  # and the pooled connections still work
        for _ in range(6):
            assert http.post("/collections/kb/search", json={"query": "tides"}).status_code == 200
