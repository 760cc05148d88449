"""LlamaIndex's vector store interface on vecpg, through a real VectorStoreIndex, its retrievers
and a query engine: deterministic stand-in embeddings and LLM, nothing downloaded. LlamaIndex
has no standard suite, so the cases are its users' issues (numbers stored as strings, filtered
HNSW queries, hybrid fusion and alpha, nested filters) and every operator, checked against
LlamaIndex's own reference filter function."""

from __future__ import annotations

import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding, MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import NodeRelationship, QueryBundle, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn
from psycopg.types.json import Jsonb

import vecpg
from vecpg.llamaindex import VecpgVectorStore, to_vecpg_filter

DIM = 64
ROOT = Path(__file__).resolve().parent.parent


class WordEmbedding(BaseEmbedding):
    """A hashed bag of words: texts sharing words are near, and the same text always maps to
    the same vector (a stand-in for a real model; nothing to download)."""

    def __init__(self) -> None:
        super().__init__(model_name="words", embed_batch_size=64)

    @staticmethod
    def vector(text: str) -> list[float]:
        v = np.full(DIM, 0.01)
        for word in re.findall(r"\w+", text.lower()):
            v[zlib.crc32(word.encode()) % DIM] += 1.0
        return list(v / np.linalg.norm(v))

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self.vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.vector(text)


@pytest.fixture(autouse=True)
def no_default_models() -> Iterator[None]:
    """LlamaIndex's defaults would download OpenAI's: every test passes its own, or fails."""
    Settings.llm = MockLLM()
    Settings.embed_model = WordEmbedding()
    yield


ARTICLES = [
    Document(text="The Moon's gravity pulls the oceans, so tides rise and fall twice a day.",
             doc_id="tides", metadata={"topic": "science", "year": 2021}),
    Document(text="Sourdough bread rises with wild yeast and bakes in a hot oven with steam.",
             doc_id="bread", metadata={"topic": "cooking", "year": 2019}),
    Document(text="Volcanoes erupt when magma rises through cracks in the crust.",
             doc_id="lava", metadata={"topic": "science", "year": 2023}),
]


def index_of(vector_store: VecpgVectorStore, documents: list[Document] = ARTICLES) -> VectorStoreIndex:
    storage = StorageContext.from_defaults(vector_store=vector_store)
    return VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=WordEmbedding())


def ids(nodes: Any) -> list[str]:
    return [getattr(n, "node", n).node_id for n in nodes]


def ref_docs(nodes: Any) -> set[str]:
    return {getattr(n, "node", n).ref_doc_id for n in nodes}


# -- through VectorStoreIndex -----------------------------------------------------------------
def test_index_retriever_and_query_engine(store: vecpg.Store) -> None:
    index = index_of(VecpgVectorStore("articles", store=store))
    hits = index.as_retriever(similarity_top_k=2).retrieve("why do tides rise and fall?")
    assert len(hits) == 2 and hits[0].node.ref_doc_id == "tides" and hits[0].score > hits[1].score
    node = hits[0].node
    assert "gravity" in node.get_content() and node.metadata == {"topic": "science", "year": 2021}
    assert node.relationships[NodeRelationship.SOURCE].node_id == "tides"

    response = index.as_query_engine(llm=MockLLM(), similarity_top_k=1).query("sourdough bread with wild yeast")
    assert ref_docs(response.source_nodes) == {"bread"} and str(response)

    # The collection holds the nodes: a new index on it, another process's, finds them.
    again = VectorStoreIndex.from_vector_store(VecpgVectorStore("articles", store=store), embed_model=WordEmbedding())
    assert ref_docs(again.as_retriever(similarity_top_k=1).retrieve("magma volcano")) == {"lava"}
    assert store.collection("articles").count() == 3


def test_collection_created_on_first_add_with_the_embedding_dimension(store: vecpg.Store) -> None:
    vector_store = VecpgVectorStore("made", store=store)
    assert vector_store.query(VectorStoreQuery(query_embedding=[0.1] * 8)).ids == []  # nothing yet, no error
    storage = StorageContext.from_defaults(vector_store=vector_store)
    VectorStoreIndex.from_documents(ARTICLES[:1], storage_context=storage, embed_model=MockEmbedding(embed_dim=8))
    made = store.collection("made")
    assert (made.dimension, made.distance, made.model, made.count()) == (8, "cosine", None, 1)


def test_delete_by_ref_doc_id(store: vecpg.Store) -> None:
    index = index_of(VecpgVectorStore("articles", store=store))
    index.delete_ref_doc("bread")
    assert ref_docs(index.as_retriever(similarity_top_k=5).retrieve("sourdough bread")) == {"tides", "lava"}
    index.vector_store.delete("no such document")  # nothing to delete is no error
    assert store.collection("articles").count() == 2


def test_get_nodes_delete_nodes_and_clear(store: vecpg.Store) -> None:
    vector_store = VecpgVectorStore("articles", store=store)
    index_of(vector_store)
    nodes = vector_store.get_nodes(filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="science")]))
    assert ref_docs(nodes) == {"tides", "lava"} and all(len(n.embedding) == DIM for n in nodes)
    tides, lava = sorted(nodes, key=lambda n: n.ref_doc_id != "tides")
    assert ids(vector_store.get_nodes([lava.node_id, "missing", tides.node_id])) == [lava.node_id, tides.node_id]
    assert vector_store.get_nodes([lava.node_id], filters=MetadataFilters(
        filters=[MetadataFilter(key="year", value=2021)])) == []  # both must hold
    assert vector_store.get_nodes([]) == []

    vector_store.delete_nodes([tides.node_id, lava.node_id],
                              filters=MetadataFilters(filters=[MetadataFilter(key="year", value=2023)]))
    assert ref_docs(vector_store.get_nodes()) == {"tides", "bread"}
    vector_store.delete_nodes(filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="cooking")]))
    assert ref_docs(vector_store.get_nodes()) == {"tides"}
    with pytest.raises(vecpg.InvalidArgument, match="clear"):
        vector_store.delete_nodes()
    vector_store.clear()
    assert vector_store.get_nodes() == [] and store.collection("articles").count() == 0


# -- filters: every operator ----------------------------------------------------------------
CATALOGUE = {
    "a": {"year": 2019, "genre": "drama", "tags": ["x", "y"], "score": 1.5, "date": "2024-01-05", "note": ""},
    "b": {"year": 2021, "genre": "comedy", "tags": ["y"], "score": 3.0, "date": "2025-03-01", "note": None},
    "c": {"year": 2023, "genre": "drama", "tags": [], "score": 2.0, "date": "2023-12-31"},
    "d": {"year": 2020, "genre": "horror", "tags": ["z", "x"], "score": 0.5, "date": "2024-06-30", "note": "n"},
}
F = MetadataFilter
OPERATOR_CASES = [
    F(key="genre", value="drama"), F(key="year", value=2021, operator="=="), F(key="score", value=2, operator="=="),
    F(key="genre", value="drama", operator="!="), F(key="note", value="n", operator="!="),
    F(key="year", value=2020, operator=">"), F(key="year", value=2021, operator=">="),
    F(key="score", value=2.0, operator="<"), F(key="score", value=2.0, operator="<="),
    F(key="date", value="2024-03-01", operator=">"), F(key="date", value="2024-01-05", operator="<="),
    F(key="genre", value=["drama", "horror"], operator="in"), F(key="year", value=[2019, 2023], operator="in"),
    F(key="genre", value=["drama"], operator="nin"), F(key="note", value=["n"], operator="nin"),
    F(key="tags", value="x", operator="contains"), F(key="tags", value=["z", "y"], operator="any"),
    F(key="tags", value=["x", "y"], operator="all"), F(key="tags", value=[], operator="any"),
    F(key="note", value=None, operator="is_empty"), F(key="tags", value=None, operator="is_empty"),
    F(key="missing", value=None, operator="is_empty"), F(key="missing", value=1, operator="=="),
]


@pytest.fixture
def catalogue(store: vecpg.Store) -> VecpgVectorStore:
    vector_store = VecpgVectorStore("catalogue", store=store)
    vector_store.add([TextNode(id_=k, text=f"item {k}", metadata=m, embedding=WordEmbedding.vector(k))
                      for k, m in CATALOGUE.items()])
    return vector_store


def reference(filters: MetadataFilters) -> set[str]:
    """What LlamaIndex's own in-memory filter function keeps."""
    keep = build_metadata_filter_fn(lambda node_id: CATALOGUE[node_id], filters)
    return {k for k in CATALOGUE if keep(k)}


def found(vector_store: VecpgVectorStore, filters: MetadataFilters) -> set[str]:
    """The ids the filters keep, read twice: by get_nodes and by a query; both must agree."""
    listed = set(ids(vector_store.get_nodes(filters=filters)))
    queried = vector_store.query(VectorStoreQuery(query_embedding=WordEmbedding.vector("item"), similarity_top_k=10,
                                                  filters=filters))
    assert set(queried.ids or []) == listed
    return listed


@pytest.mark.parametrize("condition", ["and", "or", "not"])
def test_every_operator_as_llamaindex_defines_it(catalogue: VecpgVectorStore, condition: str) -> None:
    for case in OPERATOR_CASES:
        one = MetadataFilters(filters=[case])
        assert found(catalogue, one) == reference(one), case
        # Each case with another under the condition: and/or/not as LlamaIndex combines them.
        two = MetadataFilters(filters=[case, F(key="year", value=2021, operator="<=")], condition=condition)
        assert found(catalogue, two) == reference(two), (case, condition)


@pytest.mark.parametrize(("case", "message"), [
    (F(key="genre", value="dra", operator="text_match"), "TEXT_MATCH"),
    (F(key="genre", value="DRA", operator="text_match_insensitive"), "TEXT_MATCH_INSENSITIVE"),
    (F(key="genre", value="comedy", operator=">"), "numbers or ISO-8601 dates"),
    (F(key="tags", value=["x", "y"], operator="=="), "ANY, ALL or CONTAINS"),
    (F(key="tags", value=["x", "y"], operator="contains"), "CONTAINS takes one value"),
    (F(key="genre", value=None, operator="in"), "needs a list"),
])
def test_untranslatable_filters_are_refused_never_ignored(catalogue: VecpgVectorStore, case: MetadataFilter,
                                                          message: str) -> None:
    nested = MetadataFilters(filters=[F(key="genre", value="drama"), MetadataFilters(filters=[case])])
    for call in (lambda: catalogue.get_nodes(filters=nested), lambda: catalogue.delete_nodes(filters=nested),
                 lambda: catalogue.query(VectorStoreQuery(query_embedding=[0.1] * DIM, filters=nested))):
        with pytest.raises(vecpg.FilterError, match=message):
            call()
    assert len(catalogue.get_nodes()) == 4


def test_nested_filters_are_applied(catalogue: VecpgVectorStore) -> None:
    """llama-index #17857: a MetadataFilters inside another was dropped by some stores."""
    drama_out_of_range = MetadataFilters(filters=[
        F(key="genre", value="drama"),
        MetadataFilters(filters=[F(key="year", value=2020, operator="<"), F(key="year", value=2022, operator=">")],
                        condition=FilterCondition.OR),
    ])
    assert found(catalogue, drama_out_of_range) == {"a", "c"}
    not_x = MetadataFilters(filters=[F(key="score", value=1, operator=">"), MetadataFilters(
        filters=[F(key="tags", value="x", operator="contains")], condition=FilterCondition.NOT)])
    assert found(catalogue, not_x) == {"b", "c"}
    three_deep = MetadataFilters(filters=[drama_out_of_range, MetadataFilters(filters=[MetadataFilters(
        filters=[F(key="tags", value=None, operator="is_empty")])])])
    assert found(catalogue, three_deep) == {"c"}
    # Through a retriever, as an application passes them.
    index = VectorStoreIndex.from_vector_store(catalogue, embed_model=WordEmbedding())
    assert set(ids(index.as_retriever(similarity_top_k=4, filters=drama_out_of_range).retrieve("item"))) == {"a", "c"}


def test_numbers_stored_as_strings_and_lists_compare_without_casting_errors(
        store: vecpg.Store, conn: psycopg.Connection) -> None:
    """llama-index #15962 (a string like "2024_123" cast to float), #18648 (a list cast to
    float), #19060 (the cast defeats the index): values keep their JSON type."""
    vector_store = VecpgVectorStore("mixed", store=store)
    metadata = {"int": {"file": "report", "year": 2020}, "str": {"file": "2024_123", "year": "2020"},
                "zeros": {"file": "007", "year": "unknown"}, "list": {"file": "x", "year": [2019, 2020]},
                "strs": {"file": "y", "year": ["2019", "2020"]}}
    vector_store.add([TextNode(id_=k, text=k, metadata=m, embedding=WordEmbedding.vector(k)) for k, m in metadata.items()])

    def where(*filters: MetadataFilter) -> set[str]:
        return found(vector_store, MetadataFilters(filters=list(filters)))

    assert where(F(key="file", value="2024_123")) == {"str"} and where(F(key="file", value="007")) == {"zeros"}
    assert where(F(key="year", value=2019, operator=">")) == {"int"}  # no error on "unknown" or lists
    assert where(F(key="year", value=2020)) == {"int"} and where(F(key="year", value="2020")) == {"str"}
    either = MetadataFilters(filters=[F(key="year", value=[2020], operator="in"), F(key="year", value=["2020"], operator="in")],
                             condition="or")
    assert found(vector_store, either) == {"int", "str"}
    assert where(F(key="year", value=2019, operator="contains")) == {"list"}
    assert where(F(key="year", value="2019", operator="contains")) == {"strs"}
    assert where(F(key="year", value=[2020, 2021], operator="any")) == {"list"}
    assert where(F(key="year", value="2020", operator="!=")) == {"int", "zeros", "list", "strs"}
    # Equality is JSON containment, which the metadata GIN index serves: no cast in the predicate.
    compiled = conn.execute("SELECT vecpg.compile_filter(%s)", (Jsonb(to_vecpg_filter(
        MetadataFilters(filters=[F(key="year", value=2020), F(key="file", value="2024_123")]))),)).fetchone()[0]
    assert compiled.count("@>") == 2 and "::" not in compiled.replace("::text[]", "")


def test_filtered_hnsw_query_returns_k_rows(store: vecpg.Store) -> None:
    """llama-index #9519: an HNSW scan filtered afterwards returned fewer than k rows."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    vector_store = VecpgVectorStore("many", store=store)
    vector_store.add([TextNode(id_=f"n{i}", text=f"node {i}", embedding=vectors[i].tolist(),
                               metadata={"group": "rare" if i % 40 == 0 else "common"}) for i in range(3000)])
    store.collection("many").create_index(vecpg.HNSW(m=8, ef_construction=32))
    rare = MetadataFilters(filters=[F(key="group", value="rare")])
    for k in (10, 50):
        result = vector_store.query(VectorStoreQuery(query_embedding=vectors[1].tolist(), similarity_top_k=k,
                                                     filters=rare))
        assert len(result.nodes or []) == k and {n.metadata["group"] for n in result.nodes or []} == {"rare"}
        assert result.similarities == sorted(result.similarities or [], reverse=True)


# -- query modes ----------------------------------------------------------------------------
def unit(degrees: float) -> list[float]:
    v = np.zeros(DIM)
    v[0], v[1] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return list(v)


# Dense order (by angle to the query, 0°): near, close, mist, far, wave, tide. The keyword order
# for "ocean tides" differs: tide and wave hold both words, mist and far one, near and close none.
MODES_NODES = [("near", 0, "alpha beta gamma"), ("close", 20, "delta epsilon"), ("mist", 40, "tides"),
               ("far", 50, "zeta eta ocean"),
               ("wave", 70, "ocean tides ocean waves"), ("tide", 85, "ocean tides and more ocean tides")]


@pytest.fixture
def modes(store: vecpg.Store) -> VecpgVectorStore:
    vector_store = VecpgVectorStore("modes", store=store)
    vector_store.add([TextNode(id_=i, text=t, embedding=unit(a)) for i, a, t in MODES_NODES])
    return vector_store


def search(vector_store: VecpgVectorStore, mode: str, k: int = 3, **kwargs: Any) -> list[str]:
    query = VectorStoreQuery(query_embedding=unit(0), query_str="ocean tides", similarity_top_k=k, mode=mode, **kwargs)
    return vector_store.query(query).ids or []


@pytest.mark.parametrize("keyword_index", [False, True])
def test_hybrid_fuses_and_honours_alpha(modes: VecpgVectorStore, store: vecpg.Store, keyword_index: bool) -> None:
    """llama-index #11851: hybrid results were the two lists concatenated, alpha ignored. With
    a keyword index too, whose search path is another statement."""
    if keyword_index:
        store.collection("modes").enable_keyword_index()
    dense, keyword = search(modes, "default", k=6), search(modes, "text_search", k=6)
    assert dense == ["near", "close", "mist", "far", "wave", "tide"] and keyword[:2] == ["tide", "wave"]
    assert set(keyword) == {"tide", "wave", "mist", "far"}
    # Convex fusion normalises each list's scores to [0, 1] (min-max), so with alpha 0 the
    # keyword list's last hit ties with documents it does not hold: k = 3 of its 4 hits.
    assert search(modes, "hybrid", alpha=1.0) == dense[:3]
    assert search(modes, "hybrid", alpha=0.0) == keyword[:3]
    fused = search(modes, "hybrid", alpha=0.5)
    assert len(fused) == 3 == len(set(fused)) and fused not in (dense[:3], keyword[:3])
    assert {"near", "tide"} <= set(fused) and search(modes, "hybrid", alpha=0.9)[0] == "near"
    assert search(modes, "hybrid", alpha=0.1)[0] == "tide"
    assert len(search(modes, "hybrid")) == 3  # vecpg's own fusion without alpha
    assert len(search(modes, "hybrid", hybrid_top_k=2, sparse_top_k=5)) == 2
    with pytest.raises(vecpg.InvalidArgument, match="alpha"):
        search(modes, "hybrid", alpha=1.5)
    # Through a retriever: its alpha reaches the store.
    index = VectorStoreIndex.from_vector_store(modes, embed_model=WordEmbedding())
    for alpha, expected in ((1.0, dense[:2]), (0.0, keyword[:2])):
        retriever = index.as_retriever(vector_store_query_mode="hybrid", alpha=alpha, similarity_top_k=2)
        assert ids(retriever.retrieve(QueryBundle("ocean tides", embedding=unit(0)))) == expected


def test_text_search_mmr_and_refused_modes(modes: VecpgVectorStore) -> None:
    assert search(modes, "sparse", k=2) == search(modes, "text_search", k=2) == ["tide", "wave"]
    assert search(modes, "text_search", k=1, sparse_top_k=2) == ["tide", "wave"]  # sparse_top_k is its k
    assert search(modes, "mmr", k=3, mmr_threshold=1.0) == ["near", "close", "mist"]
    assert search(modes, "mmr", k=2, mmr_threshold=0.0)[1] != "close"  # diversity over relevance
    with pytest.raises(vecpg.InvalidArgument, match="svm"):
        search(modes, "svm")
    with pytest.raises(vecpg.InvalidArgument, match="query_str"):
        modes.query(VectorStoreQuery(query_embedding=unit(0), mode="hybrid"))
    limited = modes.query(VectorStoreQuery(query_embedding=unit(0), similarity_top_k=5, node_ids=["far", "tide"]))
    assert limited.ids == ["far", "tide"]


# -- async ----------------------------------------------------------------------------------
async def test_async_methods(store: vecpg.Store) -> None:
    vector_store = VecpgVectorStore("articles", store=store)
    try:
        storage = StorageContext.from_defaults(vector_store=vector_store)
        index = VectorStoreIndex.from_documents(ARTICLES, storage_context=storage, embed_model=WordEmbedding(),
                                                use_async=True)
        assert store.collection("articles").count() == 3  # added in LlamaIndex's own loop, in a thread
        hits = await index.as_retriever(similarity_top_k=1).aretrieve("tides and the moon")
        assert isinstance(await vector_store.aclient(), vecpg.AsyncStore)  # this loop's: the async API
        assert ref_docs(hits) == {"tides"}
        response = await index.as_query_engine(llm=MockLLM(), similarity_top_k=1).aquery("volcano magma")
        assert ref_docs(response.source_nodes) == {"lava"}
        for mode in ("default", "hybrid", "text_search", "mmr"):
            text = "sourdough bread wild yeast oven"
            query = VectorStoreQuery(query_embedding=WordEmbedding.vector(text), query_str=text,
                                     similarity_top_k=1, mode=mode, alpha=0.5 if mode == "hybrid" else None)
            assert ref_docs((await vector_store.aquery(query)).nodes) == {"bread"}, mode
        science = MetadataFilters(filters=[F(key="topic", value="science")])
        assert ref_docs(await vector_store.aget_nodes(filters=science)) == {"tides", "lava"}
        node_ids = ids(await vector_store.aget_nodes(filters=science))
        assert ids(await vector_store.aget_nodes(node_ids[::-1])) == node_ids[::-1]
        await vector_store.adelete("tides")
        assert ref_docs(await vector_store.aget_nodes()) == {"bread", "lava"}
        await vector_store.adelete_nodes(filters=science)
        assert ref_docs(await vector_store.aget_nodes()) == {"bread"}
        added = await vector_store.async_add([TextNode(id_="extra", text="extra", embedding=WordEmbedding.vector("x"))])
        assert added == ["extra"]
        await vector_store.adelete_nodes(["extra"])
        assert len(await vector_store.aget_nodes()) == 1
        await vector_store.aclear()
        assert await vector_store.aget_nodes() == [] and store.collection("articles").count() == 0
    finally:
        await vector_store.aclose()


# -- tenants --------------------------------------------------------------------------------
async def test_tenants_are_isolated_through_the_adapter(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("shared", dimension=DIM)
    with vecpg.connect(logins["writer"]) as writer:
        acme, globex = (VecpgVectorStore("shared", store=writer, tenant=t) for t in ("acme", "globex"))
        for tenant_store, word in ((acme, "anvils"), (globex, "widgets")):
            tenant_store.add([TextNode(id_=f"{word}-{i}", text=f"{word} catalogue page {i}", metadata={"page": i},
                                       embedding=WordEmbedding.vector(word),
                                       relationships={NodeRelationship.SOURCE: Document(doc_id="catalogue").as_related_node_info()})
                              for i in range(3)])
        query = VectorStoreQuery(query_embedding=WordEmbedding.vector("widgets"), query_str="catalogue page",
                                 similarity_top_k=10)
        for mode in ("default", "hybrid", "text_search"):
            query.mode = VectorStoreQueryMode(mode)
            assert {i.split("-")[0] for i in acme.query(query).ids or []} == {"anvils"}, mode
        assert acme.get_nodes(["widgets-0", "anvils-0"])[0].node_id == "anvils-0"
        assert len(acme.get_nodes()) == 3
        acme.delete_nodes(["widgets-0", "widgets-1"])  # not acme's: nothing happens
        acme.delete("catalogue")  # the same ref_doc_id in both tenants: acme's nodes only
        assert acme.get_nodes() == [] and len(globex.get_nodes()) == 3
        globex_async = VecpgVectorStore("shared", url=logins["writer"], tenant="globex")
        acme_async = VecpgVectorStore("shared", url=logins["writer"], tenant="acme")
        try:
            assert len(await globex_async.aget_nodes()) == 3 and await acme_async.aget_nodes() == []
            await acme_async.aclear()
            assert len((await globex_async.aquery(query)).ids or []) == 3
            await globex_async.aclear()
            assert globex.get_nodes() == []
        finally:
            await globex_async.aclose()
            await acme_async.aclose()
    assert store.collection("shared").count() == 0


# -- the docs page --------------------------------------------------------------------------
def test_docs_example_runs(logins: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = vecpg.connect
    opened: list[vecpg.Store] = []

    def connect(url: str | None = None, **kwargs: Any) -> vecpg.Store:
        opened.append(real_connect(url or logins["admin"], **kwargs))
        return opened[-1]

    monkeypatch.setattr(vecpg, "connect", connect)
    text = (ROOT / "docs" / "llamaindex.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert blocks
    namespace: dict[str, Any] = {"__name__": "docs"}
    try:
        for n, block in enumerate(blocks, start=1):
            exec(compile(block, f"docs/llamaindex.md python block {n}", "exec"), namespace)  # noqa: S102
    finally:
        for s in opened:
            s.close()
    assert opened


def test_vecpg_alone_never_imports_llamaindex_and_says_what_to_install() -> None:
    loaded = subprocess.run([sys.executable, "-c", "import sys, vecpg; print('llama_index' in sys.modules)"],
                            capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"
    code = ("import sys; sys.modules['llama_index'] = None\n"
            "try:\n    import vecpg.llamaindex\nexcept ImportError as e: print(type(e).__name__, e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "MissingDependency vecpg.llamaindex needs LlamaIndex: pip install 'vecpg[llamaindex]'"
