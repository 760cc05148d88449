"""The Haystack DocumentStore and retrievers: Haystack's own test suites (sync and async, every
optional part included), then what Haystack users of other PostgreSQL stores ran into."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from conftest import TEMPLATE, with_database
from haystack import Document, Pipeline, component
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.errors import FilterError
from haystack.testing import document_store as suite
from haystack.testing import document_store_async as async_suite
from haystack.utils import Secret
from psycopg import sql

import vecpg
from vecpg.haystack import VecpgDocumentStore, VecpgEmbeddingRetriever, VecpgHybridRetriever, VecpgKeywordRetriever

_names = itertools.count()


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Haystack reports pipeline runs to its telemetry service unless told not to; tests stay offline."""
    monkeypatch.setattr("haystack.telemetry._telemetry.telemetry", None)


@pytest.fixture(scope="module")
def suite_url(server_url: str, template_url: str) -> Iterator[str]:
    """One database for the suites; each test has a collection of its own in it."""
    name = f"vecpg_test_haystack_{next(_names)}"
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE)))
    yield with_database(server_url, name)
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _fresh(url: str) -> VecpgDocumentStore:
    return VecpgDocumentStore(url=Secret.from_token(url), collection=f"haystack_{next(_names)}",
                              embedding_dimension=768, pool_size=2)


class _SameDocuments(suite.AssertDocumentsEqualMixin):
    """Haystack's hook for stores that differ: vecpg lists documents in id order, not in the order
    written, and keeps embeddings as float32 (Python's floats are float64)."""

    @staticmethod
    def assert_documents_are_equal(received: list[Document], expected: list[Document]) -> None:
        received, expected = sorted(received, key=lambda d: d.id), sorted(expected, key=lambda d: d.id)
        assert [d.id for d in received] == [d.id for d in expected]
        for got, want in zip(received, expected):
            assert (got.content, got.meta, got.score) == (want.content, want.meta, want.score)
            assert (got.embedding is None) == (want.embedding is None)
            if want.embedding is not None:
                np.testing.assert_array_equal(got.embedding, np.float32(want.embedding))


class TestDocumentStore(_SameDocuments, suite.DocumentStoreBaseExtendedTests, suite.CountDocumentsByFilterTest,
                        suite.CountUniqueMetadataByFilterTest, suite.GetMetadataFieldsInfoTest,
                        suite.GetMetadataFieldMinMaxTest, suite.GetMetadataFieldUniqueValuesTest):
    @pytest.fixture
    def document_store(self, suite_url: str) -> Iterator[VecpgDocumentStore]:
        store = _fresh(suite_url)
        yield store
        store.delete_all_documents(recreate_index=True)
        store.close()

    def test_write_documents(self, document_store: VecpgDocumentStore) -> None:
        """The suite leaves the default policy to each store: vecpg's (NONE) is FAIL."""
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            document_store.write_documents([doc, Document(content="another doc")])
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])


class TestDocumentStoreAsync(_SameDocuments, async_suite.CountDocumentsAsyncTest, async_suite.WriteDocumentsAsyncTest,
                             async_suite.DeleteDocumentsAsyncTest, async_suite.FilterDocumentsAsyncTest,
                             async_suite.DeleteAllAsyncTest, async_suite.DeleteByFilterAsyncTest,
                             async_suite.UpdateByFilterAsyncTest, async_suite.CountDocumentsByFilterAsyncTest,
                             async_suite.CountUniqueMetadataByFilterAsyncTest, async_suite.GetMetadataFieldsInfoAsyncTest,
                             async_suite.GetMetadataFieldMinMaxAsyncTest,
                             async_suite.GetMetadataFieldUniqueValuesAsyncTest):
    @pytest.fixture
    async def document_store(self, suite_url: str) -> AsyncIterator[VecpgDocumentStore]:
        store = _fresh(suite_url)
        yield store
        await store.delete_all_documents_async(recreate_index=True)
        await store.close_async()
        store.close()

    async def test_write_documents_async(self, document_store: VecpgDocumentStore) -> None:
        """The suite leaves the default policy to each store: vecpg's (NONE) is FAIL."""
        doc = Document(content="test doc")
        assert await document_store.write_documents_async([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            await document_store.write_documents_async([doc, Document(content="another doc")])
        self.assert_documents_are_equal(await document_store.filter_documents_async(), [doc])


# -- beyond the suites ---------------------------------------------------------------------------

ANIMALS = [
    Document(content="The cat sat on the warm mat by the fire.", meta={"kind": "pet", "legs": 4}),
    Document(content="Dogs chase balls across the park every morning.", meta={"kind": "pet", "legs": 4}),
    Document(content="Eagles soar above mountain ridges looking for prey.", meta={"kind": "wild", "legs": 2}),
    Document(content="A piano has eighty-eight keys, black and white.", meta={"kind": "object", "legs": 3}),
]


@component
class QueryEmbedder:
    """A text embedder for pipelines, on vecpg's embedder (the real all-MiniLM-L6-v2)."""

    def __init__(self, embedder: vecpg.Embedder) -> None:
        self.embedder = embedder

    @component.output_types(embedding=list[float])
    def run(self, text: str) -> dict[str, list[float]]:
        return {"embedding": self.embedder.embed([text])[0].tolist()}


@pytest.fixture
def animals(suite_url: str, embedder: vecpg.Embedder) -> Iterator[VecpgDocumentStore]:
    """A store holding ANIMALS with the real model's embeddings (its dimension from them)."""
    store = VecpgDocumentStore(url=Secret.from_token(suite_url), collection=f"animals_{next(_names)}", pool_size=2)
    vectors = embedder.embed([d.content for d in ANIMALS])
    store.write_documents([Document(content=d.content, meta=d.meta, embedding=v.tolist())
                           for d, v in zip(ANIMALS, vectors)])
    yield store
    store.delete_all_documents(recreate_index=True)
    store.close()


def test_an_idle_connection_the_server_dropped_is_replaced(db_url: str, conn: psycopg.Connection) -> None:
    """pgvector-haystack #847: after the server ends the pool's idle connections (a restart, an
    idle timeout, a failover), the next call works on a new connection instead of failing."""
    def end_idle_connections() -> None:
        ended = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                             "AND backend_type = 'client backend'").fetchone()
        assert ended is not None and ended[0] >= 1

    animals = VecpgDocumentStore(url=Secret.from_token(db_url), embedding_dimension=3, pool_size=2)
    animals.write_documents(ANIMALS)
    assert animals.count_documents() == 4
    end_idle_connections()
    time.sleep(0.05)  # the server's goodbye reaches the sockets
    assert animals.count_documents() == 4
    assert len(animals.filter_documents({"field": "meta.kind", "operator": "==", "value": "pet"})) == 2

    async def twice_async() -> None:
        assert await animals.count_documents_async() == 4
        end_idle_connections()
        await asyncio.sleep(0.05)  # the server's goodbye reaches the sockets
        assert await animals.count_documents_async() == 4
        await animals.close_async()

    asyncio.run(twice_async())
    animals.close()


def test_a_multi_word_keyword_query_finds_documents_with_some_of_its_words(animals: VecpgDocumentStore) -> None:
    """pgvector-haystack's keyword retriever ANDs the words: "cat playing piano" found nothing.
    BM25 here ranks the documents holding any of them."""
    found = VecpgKeywordRetriever(document_store=animals, top_k=3).run(query="cat playing piano")["documents"]
    assert {d.content for d in found} == {ANIMALS[0].content, ANIMALS[3].content}
    assert all(d.score is not None and d.score > 0 for d in found)


def test_retrievers_in_a_pipeline(animals: VecpgDocumentStore, embedder: vecpg.Embedder) -> None:
    pipeline = Pipeline()
    pipeline.add_component("embedder", QueryEmbedder(embedder))
    pipeline.add_component("retriever", VecpgEmbeddingRetriever(document_store=animals, top_k=2))
    pipeline.connect("embedder.embedding", "retriever.query_embedding")
    out = pipeline.run({"embedder": {"text": "a bird of prey in the mountains"}})
    assert out["retriever"]["documents"][0].content == ANIMALS[2].content

    hybrid = Pipeline()
    hybrid.add_component("embedder", QueryEmbedder(embedder))
    hybrid.add_component("retriever", VecpgHybridRetriever(
        document_store=animals, top_k=2, filters={"field": "meta.kind", "operator": "==", "value": "pet"}))
    hybrid.connect("embedder.embedding", "retriever.query_embedding")
    query = "which animal likes to play fetch"
    found = hybrid.run({"embedder": {"text": query}, "retriever": {"query": query}})["retriever"]["documents"]
    assert [d.meta["kind"] for d in found] == ["pet", "pet"] and found[0].content == ANIMALS[1].content

    async def run_async() -> dict:
        return await hybrid.run_async({"embedder": {"text": query}, "retriever": {"query": query}})

    assert [d.id for d in asyncio.run(run_async())["retriever"]["documents"]] == [d.id for d in found]


def test_hybrid_alpha_weights_the_vector_list_against_the_keyword_list(animals: VecpgDocumentStore,
                                                                        embedder: vecpg.Embedder) -> None:
    """llama-index #11851's trap: hybrid must fuse the lists and honour alpha, not concatenate."""
    query = "playing the piano keys"  # the words point at the piano, the meaning is close to it too
    vector = embedder.embed(["a warm place for a pet to sleep"])[0].tolist()  # ... this one at the cat
    by_keyword = VecpgHybridRetriever(document_store=animals, top_k=4, alpha=0.0).run(query=query,
                                                                                     query_embedding=vector)
    by_vector = VecpgHybridRetriever(document_store=animals, top_k=4, alpha=1.0).run(query=query,
                                                                                    query_embedding=vector)
    assert by_keyword["documents"][0].content == ANIMALS[3].content
    assert by_vector["documents"][0].content == ANIMALS[0].content


def test_tenants_are_isolated_through_the_store(logins: dict[str, str]) -> None:
    with vecpg.connect(logins["admin"]) as admin:
        admin.create_collection("shared", dimension=3, model=None)
    acme = VecpgDocumentStore(url=Secret.from_token(logins["writer"]), collection="shared", tenant="acme")
    globex = VecpgDocumentStore(url=Secret.from_token(logins["writer"]), collection="shared", tenant="globex")
    try:
        acme_docs = [Document(content=f"acme plan {i}", meta={"team": "red"}, embedding=[1.0, 0.0, float(i)])
                     for i in range(2)]
        assert acme.write_documents(acme_docs) == 2
        assert globex.write_documents([Document(content="globex plan", meta={"team": "red"},
                                                embedding=[1.0, 0.0, 0.0])]) == 1
        assert (acme.count_documents(), globex.count_documents()) == (2, 1)
        red = {"field": "meta.team", "operator": "==", "value": "red"}
        assert [d.content for d in globex.filter_documents(red)] == ["globex plan"]

        # globex can neither change nor delete acme's documents, nor find them
        globex.delete_documents([d.id for d in acme_docs])
        assert globex.update_by_filter(red, {"team": "blue"}) == 1
        assert globex.delete_by_filter({"field": "meta.team", "operator": "==", "value": "blue"}) == 1
        globex.delete_all_documents()
        with pytest.raises(ValueError, match="every tenant"):
            globex.delete_all_documents(recreate_index=True)
        # the same text makes the same id (Haystack hashes the content): one id space, acme's kept
        same = Document(content="acme plan 0", meta={"team": "red"}, embedding=[1.0, 0.0, 0.0])
        assert same.id == acme_docs[0].id
        assert globex.write_documents([same], policy=DuplicatePolicy.SKIP) == 0
        with pytest.raises(DuplicateDocumentError):
            globex.write_documents([same])
        with pytest.raises(vecpg.PermissionDenied):
            globex.write_documents([Document(id=same.id, content="taken over")], policy=DuplicatePolicy.OVERWRITE)
        assert VecpgKeywordRetriever(document_store=globex).run(query="acme plan")["documents"] == []
        assert VecpgEmbeddingRetriever(document_store=globex).run(query_embedding=[1.0, 0.0, 0.0])["documents"] == []
        assert acme.count_documents_by_filter(red) == 2
        assert sorted(d.content for d in acme.filter_documents()) == ["acme plan 0", "acme plan 1"]

        async def acme_async() -> list[Document]:
            found = await VecpgKeywordRetriever(document_store=acme).run_async(query="plan")
            assert await globex.count_documents_async() == 0
            await acme.close_async()
            await globex.close_async()
            return found["documents"]

        assert sorted(d.content for d in asyncio.run(acme_async())) == ["acme plan 0", "acme plan 1"]
    finally:
        acme.close()
        globex.close()


@pytest.mark.parametrize("filters", [
    {"field": "content", "operator": "==", "value": "cat"},           # vecpg filters metadata and id only
    {"field": "meta.kind", "operator": "like", "value": "p%"},        # no such operator
    {"field": "meta.kind", "operator": "==", "value": ["pet"]},       # containment would match supersets
    {"field": "meta.legs", "operator": ">", "value": "four"},         # neither a number nor a date
    {"field": "id", "operator": ">", "value": "a"},                   # ids compare for equality only
    {"operator": "XOR", "conditions": []},
])
def test_an_untranslatable_filter_is_refused_not_ignored(animals: VecpgDocumentStore, filters: dict) -> None:
    with pytest.raises(FilterError):
        animals.filter_documents(filters)
    with pytest.raises(FilterError):
        VecpgKeywordRetriever(document_store=animals).run(query="cat", filters=filters)
    with pytest.raises(FilterError):
        animals.delete_by_filter(filters)
    assert animals.count_documents() == 4


def test_nested_filters_and_documents_without_embeddings(animals: VecpgDocumentStore) -> None:
    animals.write_documents([Document(content="A table stands on four legs.", meta={"kind": "object", "legs": 4})])
    flt = {"operator": "AND", "conditions": [
        {"field": "meta.legs", "operator": ">=", "value": 4},
        {"operator": "NOT", "conditions": [{"field": "meta.kind", "operator": "in", "value": ["wild", "pet"]}]},
    ]}
    [table] = animals.filter_documents(flt)
    assert table.content.startswith("A table") and table.embedding is None
    assert [d.content for d in VecpgKeywordRetriever(document_store=animals).run(query="table legs")["documents"]] \
        == [table.content]


def test_the_dimension_follows_the_first_embedding(db_url: str) -> None:
    store = VecpgDocumentStore(url=Secret.from_token(db_url), collection="follows")
    try:
        with pytest.raises(ValueError, match="embedding_dimension"):
            store.write_documents([Document(content="no vector, no dimension")])
        assert store.count_documents() == 0 and store.filter_documents() == []
        store.write_documents([Document(content="three", embedding=[0.1, 0.2, 0.3]), Document(content="none")])
        assert store.store.collection("follows").dimension == 3 and store.count_documents() == 2
    finally:
        store.close()


def test_serialized_without_the_url(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("MY_VECPG_URL", db_url)
    store = VecpgDocumentStore(url=Secret.from_env_var("MY_VECPG_URL"), collection="kept", embedding_dimension=3,
                               tenant="acme")
    retriever = VecpgHybridRetriever(document_store=store, top_k=3, alpha=0.25)
    data = retriever.to_dict()
    assert db_url not in repr(data)
    assert data["init_parameters"]["document_store"]["init_parameters"]["url"] == {
        "type": "env_var", "env_vars": ["MY_VECPG_URL"], "strict": True}
    again = VecpgHybridRetriever.from_dict(data)
    assert (again.top_k, again.alpha, again.document_store.tenant) == (3, 0.25, "acme")
    assert again.document_store.url.resolve_value() == db_url
    with pytest.raises(ValueError):
        VecpgDocumentStore(url=Secret.from_token(db_url)).to_dict()  # a token never goes into a pipeline file


def test_the_docs_example_runs(logins: dict[str, str], embedder: vecpg.Embedder, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """docs/haystack.md's python block, as a reader would run it (an ordinary role's URL)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "haystack.md").read_text(encoding="utf-8")
    [block] = re.findall(r"^```python\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    monkeypatch.setenv("VECPG_DATABASE_URL", logins["admin"])
    namespace: dict[str, object] = {"__name__": "docs_haystack"}
    exec(compile(block, "docs/haystack.md", "exec"), namespace)  # noqa: S102 -- the page's example, by design
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("['Bread crust browns") and "Tides" not in printed[0]
    assert printed[1] == "['cooking', 'science']"
    store = namespace["store"]
    assert isinstance(store, VecpgDocumentStore) and store.count_documents() == 3
    store.close()
