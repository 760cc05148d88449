"""Writing and reading documents: upsert, bulk load, get, count, delete, and bad input."""

from __future__ import annotations

import random
import string
import time

import numpy as np
import psycopg
import pytest

import vecpg
from vecpg.documents import ID_MAX_BYTES, METADATA_MAX_BYTES, TENANT_MAX_BYTES, TITLE_MAX_BYTES


@pytest.fixture
def items(store: vecpg.Store) -> vecpg.Collection:
    return store.create_collection("items", dimension=3)


def test_upsert_inserts_then_replaces(items: vecpg.Collection) -> None:
    ids = items.upsert([
        {"id": "a", "title": "A", "content": "first", "embedding": [1, 0, 0], "metadata": {"n": 1}},
        vecpg.Document(id="b", content="second", embedding=np.array([0, 1, 0])),
    ])
    assert ids == ["a", "b"]
    before = items.get("a")[0]
    time.sleep(0.01)
    items.upsert([{"id": "a", "content": "changed", "embedding": [0, 0, 1]}])
    after = items.get("a")[0]
    assert (after.content, after.title, after.metadata) == ("changed", None, {})
    assert after.embedding.tolist() == [0, 0, 1]
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at
    assert items.count() == 2


def test_an_empty_batch_writes_nothing(items: vecpg.Collection) -> None:
    assert items.upsert([]) == [] and items.load([]) == 0 and items.count() == 0


def test_document_reprs_are_short(items: vecpg.Collection) -> None:
    doc = vecpg.Document(id="1", content="x" * 200, embedding=np.zeros(384, dtype=np.float32))
    assert repr(doc) == f"Document(id='1', content='{'x' * 79}\u2026', embedding=<384 floats>)"
    assert repr(vecpg.Document()) == "Document()"
    full = vecpg.Document(id="2", title="T", content="short", metadata={"k": 1}, embedding=[1.0, 2.0, 3.0],
                          tenant_id="acme")
    assert repr(full) == ("Document(id='2', title='T', content='short', metadata={'k': 1}, embedding=<3 floats>, "
                          "tenant_id='acme')")
    items.upsert([{"id": "3", "content": "stored", "embedding": [1, 2, 3]}])
    stored = items.get("3")[0]
    assert repr(stored) == (f"Document(id='3', content='stored', embedding=<3 floats>, "
                            f"created_at={stored.created_at!r}, updated_at={stored.updated_at!r})")


def test_ids_are_generated_when_missing(items: vecpg.Collection) -> None:
    ids = items.upsert([{"content": "x", "embedding": [1, 1, 1]}, {"content": "y", "embedding": [1, 2, 3]}])
    assert len(set(ids)) == 2
    assert [d.content for d in items.get(ids)] == ["x", "y"]


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ({"id": "bad", "embedding": [1, 2]}, vecpg.DimensionMismatch, "row 1 .*'bad'.* 2 dimensions"),
        ({"id": "bad", "embedding": [1, float("nan"), 3]}, vecpg.InvalidVector, "row 1 .*NaN"),
        ({"id": "bad", "embedding": [1, float("inf"), 3]}, vecpg.InvalidVector, "infinite"),
        ({"id": "bad", "embedding": ["a", "b", "c"]}, vecpg.InvalidVector, "not a vector"),
        ({"id": "bad", "content": "nul\x00byte", "embedding": [1, 2, 3]}, vecpg.InvalidDocument, "NUL"),
        ({"id": "bad", "metadata": [1, 2], "embedding": [1, 2, 3]}, vecpg.InvalidDocument, "JSON object"),
        ({"id": "bad", "metadata": {"x": float("nan")}, "embedding": [1, 2, 3]}, vecpg.InvalidDocument, "JSON"),
        ({"id": "bad", "content": "no vector"}, vecpg.InvalidDocument, "no embedding"),
        ({"id": "bad", "colour": "red", "embedding": [1, 2, 3]}, vecpg.InvalidDocument, "unknown field"),
    ],
)
def test_a_bad_row_fails_the_whole_batch(items: vecpg.Collection, bad: dict, error: type, message: str) -> None:
    good = {"id": "good", "content": "fine", "embedding": [1, 2, 3]}
    with pytest.raises(error, match=message):
        items.upsert([good, bad])
    assert items.count() == 0


def _random_text(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """Text PostgreSQL cannot compress: an index row holds it at its full length."""
    rng = random.Random(n)
    return "".join(rng.choice(alphabet) for _ in range(n))


_JSON_AROUND = len('{"k": ""}')  # what json.dumps adds around the value of {"k": value}

# A field one byte beyond its limit, and the limit the message names.
BEYOND = [
    ({"id": "\u00e9" * (ID_MAX_BYTES // 2) + "x"}, f"id is 513 bytes of UTF-8, beyond the limit of {ID_MAX_BYTES} bytes"),
    ({"id": _random_text(1_000_000)}, "id is 1,000,000 bytes of UTF-8, beyond the limit of 512 bytes"),
    ({"title": "t" * (TITLE_MAX_BYTES + 1)}, "title is 65,537 bytes of UTF-8, beyond the limit of 65,536 bytes"),
    ({"tenant_id": "\u00e9" * (TENANT_MAX_BYTES // 2) + "x"}, "tenant_id is 65 bytes of UTF-8, beyond the limit of 64 bytes"),
    ({"metadata": {"k": "y" * (METADATA_MAX_BYTES - _JSON_AROUND + 1)}},
     "metadata is 1,048,577 bytes of JSON, beyond the limit of 1,048,576 bytes"),
]


@pytest.mark.parametrize(("field", "message"), BEYOND, ids=["id", "huge-id", "title", "tenant", "metadata"])
@pytest.mark.parametrize("write", ["upsert", "load", "load-empty"])  # load-empty: COPY straight into the table
def test_fields_beyond_their_limits_are_refused_and_nothing_is_written(
        items: vecpg.Collection, field: dict, message: str, write: str) -> None:
    before = [] if write == "load-empty" else ["before"]
    items.upsert([{"id": i, "content": "already there", "embedding": [1, 1, 1]} for i in before])
    good = [{"id": f"good{i}", "content": "fine", "embedding": [1, 2, 3]} for i in range(3)]
    bad = {"id": "bad", "content": "too big", "embedding": [3, 2, 1], **field}
    with pytest.raises(vecpg.InvalidDocument, match=f"^row 3 \\(id .*\\): {message} for a document's") as raised:
        if write == "upsert":
            items.upsert([*good, bad])
        else:
            items.load([*good, bad], batch_size=2)  # the first batch was copied before the bad row was read
    assert len(str(raised.value)) < 200  # a 1 MB id is not repeated in the message
    assert items.count() == len(before) and [d.id for d in items.get(["before", "good0", "bad"])] == before


def test_a_tenant_beyond_the_limit_cannot_write(items: vecpg.Collection, logins: dict[str, str]) -> None:
    with (vecpg.connect(logins["writer"]) as writer, writer.tenant("t" * (TENANT_MAX_BYTES + 1)),
          pytest.raises(vecpg.InvalidArgument, match="tenant 't+\u2026' is 65 bytes of UTF-8, beyond the limit of 64 bytes")):
        writer.collection("items").upsert([{"id": "a", "content": "x", "embedding": [1, 2, 3]}])
    assert items.count() == 0


@pytest.mark.parametrize("write", ["upsert", "load"])
def test_fields_at_their_limits_are_written(store: vecpg.Store, write: str) -> None:
    """The worst case the limits allow fits every index: an incompressible id and tenant at their
    limits beside the longest word PostgreSQL indexes (2,046 bytes), in a collection with a
    keyword index (postings indexed on tenant and word, with the id) and a 63-character name
    (the keyword statistics' key holds collection, tenant and word)."""
    name = "c" + "_" * 62
    coll = store.create_collection(name, dimension=3)
    coll.enable_keyword_index()
    word = _random_text(2046, string.ascii_lowercase)
    doc = {
        "id": _random_text(ID_MAX_BYTES), "tenant_id": _random_text(TENANT_MAX_BYTES),
        "title": _random_text(TITLE_MAX_BYTES), "content": f"a {word} and more",
        "metadata": {"k": _random_text(METADATA_MAX_BYTES - _JSON_AROUND)}, "embedding": [1, 2, 3],
    }
    if write == "upsert":
        coll.upsert([doc])
    else:
        coll.load([doc])
    stored = coll.get(doc["id"])[0]
    assert (stored.tenant_id, stored.title, stored.metadata) == (doc["tenant_id"], doc["title"], doc["metadata"])
    with store.connection() as conn:
        postings = conn.execute(f"SELECT lexeme FROM vecpg_postings.{name} WHERE length(lexeme) = 2046").fetchall()
    assert postings == [(word,)]


def test_large_upserts_go_through_copy_and_keep_the_last_duplicate(items: vecpg.Collection) -> None:
    rng = np.random.default_rng(0)
    docs = [{"id": f"d{i}", "content": f"doc {i}", "embedding": rng.normal(size=3)} for i in range(1200)]
    docs.append({"id": "d7", "content": "last one wins", "embedding": [1, 1, 1]})
    ids = items.upsert(docs)
    assert len(ids) == 1201
    assert items.count() == 1200
    assert items.get("d7")[0].content == "last one wins"


def test_load_streams_batches_in_one_transaction(items: vecpg.Collection) -> None:
    def generate(bad_at: int | None):
        for i in range(2500):
            vector = [float("nan"), 0, 0] if i == bad_at else [i, 1, 1]
            yield {"id": str(i), "content": f"doc {i}", "embedding": vector}

    with pytest.raises(vecpg.InvalidVector, match="row 2100 .*'2100'"):
        items.load(generate(bad_at=2100), batch_size=500)
    assert items.count() == 0  # batches before the bad one were rolled back too

    assert items.load(generate(bad_at=None), batch_size=500) == 2500
    assert items.count() == 2500


def test_load_has_upsert_semantics(items: vecpg.Collection) -> None:
    items.upsert([{"id": "1", "content": "old", "embedding": [1, 0, 0], "metadata": {"v": 1}}])
    items.load([{"id": "1", "content": "new", "embedding": [0, 1, 0], "metadata": {"v": 2}},
                {"id": "2", "content": "two", "embedding": [0, 0, 1]}])
    assert {d.id: d.metadata for d in items.get(["1", "2"])} == {"1": {"v": 2}, "2": {}}


def test_get_keeps_the_requested_order_and_skips_missing(items: vecpg.Collection) -> None:
    items.upsert([{"id": i, "content": i, "embedding": [1, 2, 3]} for i in "abc"])
    assert [d.id for d in items.get(["c", "zz", "a"])] == ["c", "a"]
    assert [d.id for d in items.get("b")] == ["b"]


def test_count_and_delete_with_filters(items: vecpg.Collection) -> None:
    items.upsert([
        {"id": str(i), "content": "x", "embedding": [1, i, 0], "metadata": {"colour": c, "n": i}}
        for i, c in enumerate(["red", "red", "blue", "green"])
    ])
    assert items.count({"colour": "red"}) == 2
    assert items.delete(filter={"colour": "red"}) == 2
    assert items.delete(["3", "nope"]) == 1
    assert items.delete("2", filter={"colour": "red"}) == 0  # both must match
    assert [d.id for d in items.get(["0", "1", "2", "3"])] == ["2"]
    with pytest.raises(vecpg.InvalidArgument, match="refusing"):
        items.delete()
    with pytest.raises(vecpg.FilterError):
        items.delete(filter={"$gt": 1})


def test_writes_from_any_client_fill_the_generated_columns(items: vecpg.Collection, conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO vecpg_data.items (title, content, embedding) VALUES ('Solar power', 'panels convert light', '[1,2,3]')"
    )
    row = conn.execute("SELECT id, fts::text, metadata, created_at IS NOT NULL FROM vecpg_data.items").fetchone()
    assert row is not None and len(row[0]) == 36  # a generated uuid
    assert "'solar':1A" in row[1] and "'light':5B" in row[1]
    assert row[2] == {} and row[3] is True
    indexes = {r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'items'")}
    assert any("gin (fts)" in d for d in indexes)
    assert any("gin (metadata jsonb_path_ops)" in d for d in indexes)
    with pytest.raises(psycopg.errors.DataException, match="NaN"):
        conn.execute("INSERT INTO vecpg_data.items (content, embedding) VALUES ('x', '[NaN,1,2]')")


def test_a_collection_without_a_model_says_how_to_give_it_text(store: vecpg.Store) -> None:
    items = store.create_collection("bare", dimension=3)
    with pytest.raises(vecpg.InvalidDocument, match=r"row 0 .*pass vectors .*model="):
        items.upsert([{"id": "a", "content": "words, but no vector"}])
    with pytest.raises(vecpg.InvalidArgument, match=r"no embedding model.*pass vectors .*model="):
        items.search("words")
    items.upsert([{"id": "a", "content": "words", "embedding": [1, 0, 0]}])  # what the message says works
    assert [h.id for h in items.search([1, 0, 0], k=1)] == ["a"]


def test_find_lists_documents_by_filter_and_ids(store: vecpg.Store) -> None:
    coll = store.create_collection("listing", dimension=2)
    coll.upsert([{"id": i, "content": i, "embedding": [1, 0], "metadata": {"n": n}}
                 for i, n in (("b", 1), ("a", 2), ("c", 2))])
    assert [d.id for d in coll.find()] == ["a", "b", "c"]  # in id order
    assert [d.id for d in coll.find({"n": 2})] == ["a", "c"]
    assert [d.id for d in coll.find(ids=["c", "x", "b"])] == ["c", "b"]  # the order asked, missing left out
    assert [d.id for d in coll.find({"n": 2}, ids=["c", "b"])] == ["c"]
    assert coll.find(ids=["a"])[0].embedding.tolist() == [1.0, 0.0]
