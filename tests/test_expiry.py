"""Documents that expire (sql/idempotent/17_expiry.sql, vecpg/ops/expiry.py): an expired document
is gone for every read at once — every search mode, the mirror, listings, exports — and the purge
deletes it later in small batches, its keyword statistics, postings and mirror point with it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from conftest import CountingEmbedder, keyword_recount, keyword_statistics

import vecpg
from vecpg.cli import main
from vecpg.doctor import maintain
from vecpg.mirror.verify import verify
from vecpg.worker import Worker

NOW = datetime.now(timezone.utc)
PAST = NOW - timedelta(minutes=5)
LATER = NOW + timedelta(days=1)
TEXTS = {
    "fresh": "Volcanoes erupt molten lava and ash.",
    "gone": "Volcanoes erupt lava, ash and volcanic gas.",
    "later": "Volcanic ash clouds ground aircraft.",
    "tea": "Green tea is steeped briefly in hot water.",
}


def expiring(store: vecpg.Store, embedder: vecpg.Embedder, name: str = "docs") -> vecpg.Collection:
    """Four documents: "gone" has expired, "later" expires tomorrow, the others never."""
    docs = store.create_collection(name)
    docs.upsert([{"id": i, "content": t, "expires_at": {"gone": PAST, "later": LATER}.get(i)}
                 for i, t in TEXTS.items()])
    return docs


def ids(hits: list) -> list[str]:
    return [h.id for h in hits]


def cli(db_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--url", db_url, *args])
    return result.exit_code, result.output


QUESTION = "volcano eruption with lava and ash"


def test_an_expired_document_is_gone_from_every_read(store: vecpg.Store, embedder: vecpg.Embedder) -> None:
    docs = expiring(store, embedder)
    assert docs.get(["fresh", "gone", "later"]) and ids(docs.get(["fresh", "gone", "later"])) == ["fresh", "later"]
    assert docs.get("later")[0].expires_at == LATER
    assert docs.count() == 3 and docs.count({"id": "gone"}) == 0
    assert ids(docs.find()) == ["fresh", "later", "tea"]
    for mode in ("vector", "keyword", "hybrid"):
        found = ids(docs.search(QUESTION, k=10, mode=mode))
        assert "gone" not in found and "fresh" in found, mode
        batch = docs.search_many([QUESTION, "volcanic gas"], k=10, mode=mode)
        assert all("gone" not in ids(hits) and hits for hits in batch), mode
    assert "gone" not in ids(docs.search(QUESTION, k=10, filter={"id": {"$ne": "tea"}}))
    # With the vector index as without it (the planner keeps the index scan: predicate after it).
    docs.create_index()
    assert "gone" not in ids(docs.search(QUESTION, k=3))
    # ...and a delete by id still reaches it: expiry hides, it does not protect.
    assert docs.delete("gone") == 1


def test_psql_sees_the_same(store: vecpg.Store, embedder: vecpg.Embedder, conn: psycopg.Connection) -> None:
    expiring(store, embedder)
    q = embedder.embed([QUESTION])[0]
    queries = {
        "search": ("SELECT id FROM vecpg.search('docs', %s, 10)", (q,)),
        "keyword": ("SELECT id FROM vecpg.keyword_search('docs', 'volcanic ash lava', 10)", ()),
        "hybrid": ("SELECT id FROM vecpg.hybrid_search('docs', %s, %s, 10)", (QUESTION, q)),
        "chunks": ("SELECT id FROM vecpg.search_chunks('docs', %s, 10)", (q,)),
        "many": ("SELECT id FROM vecpg.search_many('docs', ARRAY[%s, %s]::vector[], 10)", (q, q)),
        "passages": ("SELECT id FROM vecpg.rag_passages('docs', %s, ARRAY['fresh', 'gone'])", (q,)),
    }
    for name, (query, params) in queries.items():
        found = {r[0] for r in conn.execute(query, params)}
        assert found and "gone" not in found, name
    # Expiring later: visible until the moment passes (here: moved into the past).
    assert "later" in {r[0] for r in conn.execute(*queries["search"])}
    conn.execute("UPDATE vecpg_data.docs SET expires_at = now() - interval '1 second' WHERE id = 'later'")
    assert "later" not in {r[0] for r in conn.execute(*queries["search"])}


def test_the_keyword_index_path_leaves_expired_documents_out(store: vecpg.Store, embedder: vecpg.Embedder) -> None:
    docs = expiring(store, embedder)
    docs.enable_keyword_index()
    found = ids(docs.search(QUESTION, k=10, mode="hybrid"))
    assert found and "gone" not in found


def test_a_chunked_document_expires_with_its_chunks(store: vecpg.Store, db_url: str, conn: psycopg.Connection,
                                                    counting: CountingEmbedder) -> None:
    docs = store.create_collection("docs")
    docs.enable_chunking(64, 16)
    long = "Sourdough bread needs a lively starter and a long rise. " * 12
    conn.execute("SELECT vecpg.add_document('docs', 'bread', NULL, %s)", (long + "Volcanoes erupt lava at the end.",))
    conn.execute("SELECT vecpg.add_document('docs', 'tea', NULL, 'Green tea is steeped briefly.')")
    with Worker(db_url, embedder_for=counting.for_collection) as worker:
        worker.run_once()
    assert docs.search("volcano lava", k=1, chunks=True)[0].id == "bread"
    conn.execute("UPDATE vecpg_data.docs SET expires_at = now() - interval '1 second' WHERE id = 'bread'")
    assert ids(docs.search("volcano lava", k=5, chunks=True)) == ["tea"]


def test_a_ttl_gives_each_write_an_expiry(store: vecpg.Store, embedder: vecpg.Embedder,
                                          conn: psycopg.Connection) -> None:
    docs = expiring(store, embedder)
    assert docs.ttl is None
    assert docs.set_ttl(timedelta(hours=1)) == 0 and docs.ttl == timedelta(hours=1)
    assert store.collection("docs").ttl == timedelta(hours=1)

    def expiry(doc_id: str) -> datetime | None:
        return conn.execute("SELECT expires_at FROM vecpg_data.docs WHERE id = %s", (doc_id,)).fetchone()[0]

    assert expiry("fresh") is None  # written before the TTL: kept as it was
    docs.upsert([{"id": "new", "content": "Granite is an igneous rock."}])
    first = expiry("new")
    assert first is not None and timedelta(minutes=59) < first - datetime.now(timezone.utc) <= timedelta(hours=1)
    conn.execute("UPDATE vecpg_data.docs SET metadata = '{\"a\": 1}' WHERE id = 'new'")
    assert expiry("new") == first  # an edit that is not a write of the document keeps it
    docs.upsert([{"id": "new", "content": "Granite is an igneous rock, again."}])
    assert expiry("new") > first  # each write restarts it
    docs.upsert([{"id": "own", "content": "Basalt.", "expires_at": LATER + timedelta(days=9)}])
    assert expiry("own") == LATER + timedelta(days=9)  # a document's own expiry wins
    docs.load({"id": f"b{i}", "content": f"bulk {i}"} for i in range(600))  # the COPY path too
    assert conn.execute("SELECT count(*) FROM vecpg_data.docs WHERE id LIKE 'b%%' AND expires_at IS NULL"
                        ).fetchone()[0] == 0
    # Existing documents, counted from their last update, on request.
    assert docs.set_ttl(timedelta(days=2), apply_to_existing=True) == 2  # fresh and tea
    updated = conn.execute("SELECT updated_at FROM vecpg_data.docs WHERE id = 'tea'").fetchone()[0]
    assert expiry("tea") == updated + timedelta(days=2)
    assert docs.set_ttl(None) == 0 and store.collection("docs").ttl is None
    docs.upsert([{"id": "forever", "content": "Marble."}])
    assert expiry("forever") is None


def test_bad_expiries_are_refused_and_write_nothing(store: vecpg.Store, conn: psycopg.Connection,
                                                    db_url: str) -> None:
    docs = store.create_collection("docs")
    cases = [(datetime(2030, 1, 1), "no time zone"), ("tomorrow", "not an ISO 8601"), (3600, "must be a datetime")]
    for value, message in cases:
        with pytest.raises(vecpg.InvalidDocument, match=message):
            docs.upsert([{"id": "ok", "content": "fine"}, {"id": "bad", "content": "x", "expires_at": value}])
    assert docs.count() == 0
    docs.upsert([{"id": "text", "content": "ISO text", "expires_at": "2031-02-03T04:05:06+00:00"}])
    assert docs.get("text")[0].expires_at == datetime(2031, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    for ttl in (timedelta(0), timedelta(seconds=-5), "1 day"):
        with pytest.raises(vecpg.InvalidArgument):
            docs.set_ttl(ttl)  # type: ignore[arg-type]
    with pytest.raises(vecpg.InvalidArgument, match="batch_size"):
        docs.purge_expired(0)
    with pytest.raises(psycopg.Error, match="invalid ttl"):
        conn.execute("SELECT vecpg.set_ttl('docs', interval '-1 hour')")
    assert cli(db_url, "collection", "ttl", "docs", "soon")[0] == 2


def test_the_purge_deletes_in_batches_and_the_statistics_follow(store: vecpg.Store, embedder: vecpg.Embedder,
                                                                conn: psycopg.Connection) -> None:
    docs = expiring(store, embedder)
    docs.enable_keyword_index()
    docs.upsert([{"id": f"x{i}", "content": f"expired note number {i} about lava", "expires_at": PAST}
                 for i in range(25)])
    assert docs.expired_count() == 26
    # The purge and the count read the partial index of the rows that expire, made with the collection.
    assert conn.execute("SELECT indexdef LIKE '%%WHERE (expires_at IS NOT NULL)' FROM pg_indexes "
                        "WHERE tablename = 'docs' AND indexname = 'docs_expires_idx'").fetchone() == (True,)
    assert docs.purge_expired(batch_size=4) == 26  # seven batches, each its own transaction
    assert docs.expired_count() == 0 and docs.purge_expired() == 0
    assert conn.execute("SELECT array_agg(id ORDER BY id) FROM vecpg_data.docs").fetchone()[0] == ["fresh", "later", "tea"]
    assert keyword_statistics(conn, "docs") == keyword_recount(conn, "docs")
    postings = conn.execute("SELECT count(*) FROM vecpg_postings.docs WHERE id NOT IN ('fresh', 'later', 'tea')")
    assert postings.fetchone()[0] == 0


def test_the_purge_reaches_every_tenant_row_level_security_shows(logins: dict[str, str], store: vecpg.Store,
                                                                  embedder: vecpg.Embedder) -> None:
    with vecpg.connect(logins["admin"], embedder=embedder) as admin:
        admin.create_collection("docs")
    with vecpg.connect(logins["writer"], embedder=embedder) as writer:
        for tenant in ("acme", "globex", "initech"):
            with writer.tenant(tenant):
                writer.collection("docs").upsert([
                    {"id": f"{tenant}-old", "content": "old lava notes", "expires_at": PAST},
                    {"id": f"{tenant}-new", "content": "new lava notes"}])
        with writer.tenant("acme"):
            assert ids(writer.collection("docs").search("lava", k=5)) == ["acme-new"]
    with vecpg.connect(logins["admin"], embedder=embedder) as admin, admin.tenant("acme"):
        assert admin.collection("docs").purge_expired() == 1  # an admin acting for a tenant: its rows
    # The owner (or a BYPASSRLS role: what vecpg maintain should run as) reaches every tenant's.
    docs = store.collection("docs")
    assert docs.expired_count() == 2 and docs.purge_expired() == 2
    assert ids(docs.find()) == ["acme-new", "globex-new", "initech-new"]


@pytest.fixture(params=["edge", "server"])
def mirrored(request: pytest.FixtureRequest, store: vecpg.Store, embedder: vecpg.Embedder, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> vecpg.Collection:
    monkeypatch.setenv("VECPG_QDRANT_PATH", str(tmp_path / "qdrant"))
    monkeypatch.delenv("VECPG_QDRANT_URL", raising=False)
    if request.param == "server":
        from qdrant_client import QdrantClient

        from vecpg.mirror.server import ServerBackend

        store.set_mirror_backend(ServerBackend(client=QdrantClient(path=str(tmp_path / "server"))))
    docs = expiring(store, embedder)
    docs.enable_mirror()
    docs.sync_mirror()
    return docs


def test_the_mirror_leaves_expired_points_out_and_the_purge_reaches_it(mirrored: vecpg.Collection,
                                                                       conn: psycopg.Connection) -> None:
    docs = mirrored
    theirs = ids(docs.search(QUESTION, k=10, backend="qdrant"))
    assert theirs == ids(docs.search(QUESTION, k=10)) and "gone" not in theirs and "later" in theirs
    assert all("gone" not in ids(h) for h in docs.search_many([QUESTION, "ash"], k=10, backend="qdrant"))
    assert "gone" not in ids(docs.search(QUESTION, k=10, backend="qdrant", filter={"id": {"$ne": "tea"}}))
    conn.execute("UPDATE vecpg_data.docs SET expires_at = now() - interval '1 second' WHERE id = 'later'")
    docs.sync_mirror()
    assert "later" not in ids(docs.search(QUESTION, k=10, backend="qdrant"))
    backend = docs.store.mirror_backend()
    assert backend.count("docs") == 4
    assert docs.purge_expired() == 2
    docs.sync_mirror()
    assert backend.count("docs") == 2 and verify(conn, backend, "docs").ok  # expiries in the payload too


def test_doctor_finds_expired_documents_and_maintain_purges_them(store: vecpg.Store, embedder: vecpg.Embedder,
                                                                 db_url: str) -> None:
    expiring(store, embedder)
    found = [f for f in store.doctor(recall=False) if f.check == "expired_rows"]
    assert len(found) == 1 and found[0].collection == "docs" and "1 expired" in found[0].message
    assert found[0].fix == "vecpg collection purge docs"
    actions, _ = maintain(store, "docs", recall=False)
    assert actions[0].command == "vecpg collection purge docs"  # before any vacuum, which then reclaims it
    assert store.collection("docs").expired_count() == 0
    assert not [f for f in store.doctor(recall=False) if f.check == "expired_rows"]


def test_the_cli_sets_a_ttl_and_purges(store: vecpg.Store, embedder: vecpg.Embedder, db_url: str) -> None:
    expiring(store, embedder)
    code, out = cli(db_url, "collection", "ttl", "docs", "30d", "--apply-to-existing")
    assert code == 0 and "30d" in out and "2 existing" in out
    code, out = cli(db_url, "collection", "info", "docs", "--json")
    assert code == 0 and json.loads(out)["ttl"] == "30d"
    code, out = cli(db_url, "collection", "purge", "docs", "--quiet")
    assert code == 0 and "purged 1 " in out
    code, out = cli(db_url, "collection", "ttl", "docs", "none")
    assert code == 0 and store.collection("docs").ttl is None


def test_exports_keep_expiries_and_leave_expired_rows_out(store: vecpg.Store, embedder: vecpg.Embedder,
                                                          tmp_path: Path) -> None:
    docs = expiring(store, embedder)
    for name in ("docs.jsonl", "docs.parquet"):
        assert docs.export(tmp_path / name) == 3
        copy = store.import_collection("copy_" + name.split(".")[1], tmp_path / name)
        assert copy.rows == 3
        back = store.collection(copy.collection)
        assert ids(back.find()) == ["fresh", "later", "tea"]
        assert back.get("later")[0].expires_at == LATER and back.get("fresh")[0].expires_at is None
    np.testing.assert_array_equal(store.collection("copy_jsonl").get("tea")[0].embedding, docs.get("tea")[0].embedding)
