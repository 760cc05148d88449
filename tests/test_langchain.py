"""LangChain's VectorStore on vecpg: LangChain's own standard suite (sync and async, nothing
overridden or skipped), then what the suite does not cover: scores, MMR, hybrid search, the
retriever, filters in LangChain's operator syntax, index use, tenants, and the docs' example."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import VectorStoreIntegrationTests

import vecpg
from vecpg.langchain import VecpgVectorStore, to_vecpg_filter
from vecpg.search import search_statement

ROOT = Path(__file__).resolve().parent.parent


class TestStandardSuite(VectorStoreIntegrationTests):
    """langchain-tests' suite: a fresh, empty store on a fresh database for each test."""

    @pytest.fixture
    async def vectorstore(self, db_url: str) -> AsyncIterator[VecpgVectorStore]:
        store = VecpgVectorStore(self.get_embeddings(), url=db_url)
        yield store
        await store.aclose()


# -- beyond the suite -------------------------------------------------------------------------
class Words(Embeddings):
    """A tiny embedding that means something: one dimension per known word (plural s dropped),
    counted, plus a constant one, so words it does not know leave a text's vector unchanged."""

    VOCABULARY = ("cat", "dog", "fish", "bird", "car", "train")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        words = [w.strip(".,?!").lower().removesuffix("s") for w in text.split()]
        return [float(words.count(v)) for v in self.VOCABULARY] + [1.0]


def cosine_distance(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float(1 - x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.fixture
def lc(db_url: str) -> Iterator[VecpgVectorStore]:
    with VecpgVectorStore(Words(), url=db_url) as vectorstore:
        yield vectorstore


PETS = [
    Document(id="cat", page_content="a cat", metadata={"kind": "cat", "legs": 4, "year": 2019}),
    Document(id="cat2", page_content="a cat, a cat", metadata={"kind": "cat", "legs": 4, "year": 2021}),
    Document(id="catfish", page_content="the cat fish", metadata={"kind": "fish", "legs": 0, "year": 2022,
                                                                   "tags": ["water", "odd"]}),
    Document(id="dog", page_content="a dog", metadata={"kind": "dog", "legs": 4, "year": 2023,
                                                       "owner": {"name": "Ada"}}),
    Document(id="bird", page_content="a bird on a car", metadata={"kind": "bird", "legs": 2, "year": 2024,
                                                                  "id": 7}),
]


def test_scores_are_cosine_distances_in_order(lc: VecpgVectorStore) -> None:
    lc.add_documents(PETS)
    scored = lc.similarity_search_with_score("cat", k=5)
    expected = sorted((cosine_distance(Words().embed_query(d.page_content), Words().embed_query("cat")), d.id)
                      for d in PETS)
    assert [d.id for d, _ in scored] == [i for _, i in expected]
    assert [s for _, s in scored] == pytest.approx([s for s, _ in expected], abs=1e-6)
    assert scored[0][1] == pytest.approx(0, abs=1e-6) and scored[0][0].metadata == PETS[0].metadata
    relevance = lc.similarity_search_with_relevance_scores("cat", k=2)
    assert [r for _, r in relevance] == pytest.approx([1 - s for _, s in scored[:2]], abs=1e-6)
    by_vector = lc.similarity_search_by_vector(Words().embed_query("dog"), k=1)
    assert [d.id for d in by_vector] == ["dog"]


def test_mmr_does_not_pick_a_near_duplicate_twice(lc: VecpgVectorStore) -> None:
    lc.add_texts(["cat cat", "cat cat.", "cat fish", "dog"], ids=["a", "a-copy", "b", "c"])
    plain = [d.id for d in lc.similarity_search("cat", k=2)]
    assert sorted(plain) == ["a", "a-copy"]  # identical vectors, both nearest
    picked = [d.id for d in lc.max_marginal_relevance_search("cat", k=2, fetch_k=4, lambda_mult=0.5)]
    assert len(picked) == 2 and picked[0] in ("a", "a-copy") and picked[1] not in ("a", "a-copy")
    by_vector = lc.max_marginal_relevance_search_by_vector(Words().embed_query("cat"), k=2, fetch_k=4)
    assert [d.id for d in by_vector] == picked
    assert [d.id for d in lc.max_marginal_relevance_search("cat", k=2, fetch_k=4, lambda_mult=1.0)] == plain


HYBRID = [("c1", "my cat"), ("c2", "two cat, one fish"), ("c3", "a cat and a bird"),
          ("z", "the zyxcorp quarterly report"), ("d", "dog dog")]


def test_hybrid_finds_a_keyword_only_match_that_vector_search_misses(lc: VecpgVectorStore) -> None:
    lc.add_texts([t for _, t in HYBRID], ids=[i for i, _ in HYBRID])
    vector = [d.id for d in lc.similarity_search("cat zyxcorp", k=3)]
    assert "z" not in vector  # the embedding knows no "zyxcorp"
    keyword = [d.id for d in lc.similarity_search("zyxcorp", k=3, mode="keyword")]
    assert keyword == ["z"]
    hybrid = [d.id for d in lc.hybrid_search("cat zyxcorp", k=3)]
    assert "z" in hybrid and set(hybrid) & {"c1", "c2", "c3"}  # fused: both lists contribute
    assert [d.id for d in lc.similarity_search("cat zyxcorp", k=3, mode="hybrid")] == hybrid
    # alpha weights the vector list in convex fusion: 1 is the vector ranking, 0 the keyword one.
    assert [d.id for d in lc.hybrid_search("cat zyxcorp", k=3, alpha=1.0)] == vector
    assert [d.id for d in lc.hybrid_search("cat zyxcorp", k=1, alpha=0.0)] == ["z"]
    scored = lc.similarity_search_with_score("cat zyxcorp", k=3, mode="hybrid")
    assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)  # scores: higher is better
    relevance = lc.similarity_search_with_relevance_scores("cat zyxcorp", k=3, mode="hybrid", alpha=0.5)
    assert [d.id for d, _ in relevance] == [d.id for d in lc.hybrid_search("cat zyxcorp", k=3, alpha=0.5)]
    assert all(0 <= r <= 1 for _, r in relevance)  # convex fusion of normalised scores
    with pytest.raises(vecpg.InvalidArgument, match="mode"):
        lc.similarity_search("cat", mode="fuzzy")


def test_hybrid_mode_from_the_constructor_and_mmr_over_hybrid(db_url: str) -> None:
    with VecpgVectorStore(Words(), url=db_url, mode="hybrid") as lc:
        lc.add_texts([t for _, t in HYBRID], ids=[i for i, _ in HYBRID])
        assert "z" in [d.id for d in lc.similarity_search("cat zyxcorp", k=3)]
        assert "z" in [d.id for d in lc.max_marginal_relevance_search("cat zyxcorp", k=3, fetch_k=5)]


def test_as_retriever_similarity_mmr_and_filters(lc: VecpgVectorStore) -> None:
    lc.add_documents(PETS)
    assert [d.id for d in lc.as_retriever(search_kwargs={"k": 2}).invoke("cat")] == ["cat", "cat2"]
    mmr = lc.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 5, "lambda_mult": 0.25}).invoke("cat")
    assert [d.id for d in mmr] == [d.id for d in lc.max_marginal_relevance_search("cat", 2, 5, 0.25)]
    assert mmr[0].id == "cat" and mmr[1].id != "cat2"  # diversity: not the second-nearest, close to the first
    filtered = lc.as_retriever(search_kwargs={"k": 5, "filter": {"legs": {"$lt": 4}}}).invoke("cat")
    assert {d.id for d in filtered} == {"catfish", "bird"}
    hybrid = lc.as_retriever(search_kwargs={"k": 1, "mode": "keyword"}).invoke("bird")
    assert [d.id for d in hybrid] == ["bird"]


FILTERS = [
    ({"kind": "cat"}, {"cat", "cat2"}),
    ({"kind": {"$eq": "dog"}}, {"dog"}),
    ({"kind": {"$ne": "cat"}}, {"catfish", "dog", "bird"}),
    ({"legs": {"$lt": 4}}, {"catfish", "bird"}),
    ({"legs": {"$lte": 2}}, {"catfish", "bird"}),
    ({"year": {"$gt": 2022}}, {"dog", "bird"}),
    ({"year": {"$gte": 2022}}, {"catfish", "dog", "bird"}),
    ({"kind": {"$in": ["dog", "bird"]}}, {"dog", "bird"}),
    ({"kind": {"$nin": ["dog", "bird", "cat"]}}, {"catfish"}),
    ({"year": {"$between": [2020, 2022]}}, {"cat2", "catfish"}),
    ({"year": {"$between": (2020, 2022), "$gte": 2021}}, {"cat2", "catfish"}),
    ({"tags": {"$exists": True}}, {"catfish"}),
    ({"tags": {"$exists": False}}, {"cat", "cat2", "dog", "bird"}),
    ({"owner.name": "Ada"}, {"dog"}),
    ({"id": 7}, {"bird"}),  # the metadata's own "id", not the document id
    ({"kind": "cat", "year": {"$gt": 2020}}, {"cat2"}),
    ({"$and": [{"kind": "cat"}, {"year": {"$lt": 2020}}]}, {"cat"}),
    ({"$or": [{"kind": "dog"}, {"legs": 0}]}, {"dog", "catfish"}),
    ({"$or": [{"$and": [{"kind": "cat"}, {"year": 2021}]}, {"$and": [{"legs": 2}, {"year": {"$gt": 2023}}]}]},
     {"cat2", "bird"}),
    ({"$and": [{"$or": [{"kind": "cat"}, {"kind": "fish"}]}, {"$not": {"year": {"$lte": 2019}}}]},
     {"cat2", "catfish"}),
    ({"$not": [{"kind": "cat"}, {"kind": "dog"}]}, {"catfish", "bird"}),
]


@pytest.mark.parametrize(("lc_filter", "expected"), FILTERS, ids=[str(f) for f, _ in FILTERS])
def test_every_operator_is_mapped_and_applied(lc: VecpgVectorStore, lc_filter: dict, expected: set[str]) -> None:
    lc.add_documents(PETS)
    assert {d.id for d in lc.similarity_search("cat", k=10, filter=lc_filter)} == expected
    assert {d.id for d in lc.similarity_search("cat", k=10, filter=lc_filter, mode="hybrid")} <= expected


async def test_filters_and_searches_async(lc: VecpgVectorStore) -> None:
    await lc.aadd_documents(PETS)
    hits = await lc.asimilarity_search("cat", k=10, filter={"$or": [{"kind": "dog"}, {"legs": 0}]})
    assert {d.id for d in hits} == {"dog", "catfish"}
    scored = await lc.asimilarity_search_with_score("cat", k=2)
    assert [(d.id, round(s, 6)) for d, s in scored] == [(d.id, round(s, 6))
                                                        for d, s in lc.similarity_search_with_score("cat", k=2)]
    assert [d.id for d in await lc.ahybrid_search("bird", k=1)] == ["bird"]
    assert [d.id for d in await lc.asimilarity_search_by_vector(Words().embed_query("dog"), k=1)] == ["dog"]
    mmr = await lc.amax_marginal_relevance_search("cat", k=2, fetch_k=5)
    assert [d.id for d in mmr] == [d.id for d in lc.max_marginal_relevance_search("cat", k=2, fetch_k=5)]
    by_vector = await lc.amax_marginal_relevance_search_by_vector(Words().embed_query("cat"), k=2, fetch_k=5)
    assert [d.id for d in by_vector] == [d.id for d in mmr]
    assert [d.id for d in await lc.aget_by_ids(["dog", "nope", "cat"])] == ["dog", "cat"]
    await lc.adelete(filter={"kind": "cat"})
    assert {d.id for d in await lc.asimilarity_search("cat", k=10)} == {"catfish", "dog", "bird"}
    await lc.adelete()
    assert await lc.asimilarity_search("cat", k=10) == []


def test_a_filter_on_a_key_no_one_declared_works(lc: VecpgVectorStore) -> None:
    """langchain-postgres #249: filtering on a metadata key that is not a declared column failed."""
    lc.add_documents(PETS)
    lc.add_texts(["a cat that arrived later"], [{"colour": "ginger", "rescued": True}], ids=["late"])
    assert [d.id for d in lc.similarity_search("cat", k=10, filter={"colour": "ginger"})] == ["late"]
    assert [d.id for d in lc.similarity_search("cat", k=10, filter={"rescued": {"$eq": True}})] == ["late"]
    assert lc.similarity_search("cat", k=10, filter={"never_seen": {"$in": ["x"]}}) == []


@pytest.mark.parametrize(("lc_filter", "message"), [
    ({"name": {"$like": "Ad%"}}, r"\$like"),
    ({"name": {"$ilike": "ad%"}}, r"\$ilike"),
    ({"name": {"$regex": "^A"}}, "unknown filter operator"),
    ({"$nor": [{"a": 1}]}, "unknown filter operator"),
    ({"name": {"$eq": "x", "plain": 1}}, "mixes operators"),
    ({"kind": {"$in": "cat"}}, "needs a list"),
    ({"year": {"$between": [1]}}, "between"),
    ({"$or": []}, "non-empty"),
    ({"year": {"$gt": "soon"}}, "ISO-8601"),  # refused by vecpg's compiler, not ignored
])
def test_an_untranslatable_filter_raises(lc: VecpgVectorStore, lc_filter: dict, message: str) -> None:
    lc.add_documents(PETS)
    with pytest.raises(vecpg.FilterError, match=message) as raised:
        lc.similarity_search("cat", k=3, filter=lc_filter)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(vecpg.FilterError):
        lc.delete(filter=lc_filter)
    assert len(lc.get_by_ids([d.id for d in PETS])) == len(PETS)  # nothing deleted


def test_equality_filters_use_the_metadata_index(lc: VecpgVectorStore, conn: psycopg.Connection) -> None:
    """langchain-postgres #34: its jsonb_path_match filter could not use an index (~10x slower)."""
    lc.add_texts([f"cat {i}" for i in range(3000)], [{"group": f"g{i % 100}", "n": i} for i in range(3000)])
    conn.execute("ANALYZE vecpg_data.langchain")
    coll = lc._coll()
    assert coll is not None
    for lc_filter, matching in (({"group": "g42"}, 30), ({"group": {"$eq": "g42"}}, 30),
                                ({"group": {"$in": ["g1", "g2"]}}, 60)):
        statement, params = search_statement(coll, np.array(Words().embed_query("cat")), 4,
                                             filter=to_vecpg_filter(lc_filter))
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + statement, params))
        conn.execute("RESET enable_seqscan")
        assert "langchain_metadata_idx" in plan, plan
        assert len(lc.similarity_search("cat", k=100, filter=lc_filter)) == matching


def test_tenants_are_isolated_through_the_adapter(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("langchain", dimension=len(Words.VOCABULARY) + 1)
    with vecpg.connect(logins["writer"]) as writer:
        acme = VecpgVectorStore(Words(), store=writer, tenant="acme")
        globex = VecpgVectorStore(Words(), store=writer, tenant="globex")
        acme.add_texts(["acme's cat", "acme's dog"], [{"t": "acme"}, {"t": "acme"}], ids=["a1", "a2"])
        globex.add_texts(["globex's cat"], [{"t": "globex"}], ids=["g1"])
        assert {d.id for d in acme.similarity_search("cat", k=10)} == {"a1", "a2"}
        assert [d.id for d in globex.similarity_search("cat", k=10)] == ["g1"]
        assert [d.id for d in globex.hybrid_search("cat", k=10)] == ["g1"]
        assert globex.get_by_ids(["a1", "a2", "g1"])[0].id == "g1" and len(globex.get_by_ids(["a1", "a2"])) == 0
        globex.delete(["a1"])
        globex.delete(filter={"t": "acme"})
        globex.delete()  # every document of globex's, none of acme's
        assert [d.id for d in acme.get_by_ids(["a1", "a2"])] == ["a1", "a2"]
        assert globex.similarity_search("cat", k=10) == []
        assert acme.similarity_search("cat", k=10, filter={"t": "globex"}) == []

        async def isolated_async() -> None:
            async with VecpgVectorStore(Words(), store=writer, tenant="globex") as aglobex:
                await aglobex.aadd_texts(["globex's bird"], ids=["g2"])
                assert [d.id for d in await aglobex.asimilarity_search("cat", k=10)] == ["g2"]
                assert await aglobex.aget_by_ids(["a1"]) == []
                await aglobex.adelete()

        asyncio.run(isolated_async())
        assert [d.id for d in acme.get_by_ids(["a1", "a2"])] == ["a1", "a2"]


def test_from_texts_and_afrom_texts(db_url: str) -> None:
    vectorstore = VecpgVectorStore.from_texts(["a cat", "a dog"], Words(), [{"n": 1}, {"n": 2}], ids=["1", "2"],
                                              url=db_url, collection_name="pets", distance="l2")
    with vectorstore:
        assert [(d.id, d.metadata) for d in vectorstore.similarity_search("dog", k=1)] == [("2", {"n": 2})]
        assert vectorstore.similarity_search_with_score("dog", k=1)[0][1] == pytest.approx(0)

    async def from_texts_async() -> None:
        async with await VecpgVectorStore.afrom_texts(["a bird"], Words(), url=db_url,
                                                      collection_name="birds") as birds:
            assert [d.page_content for d in await birds.asimilarity_search("bird", k=3)] == ["a bird"]

    asyncio.run(from_texts_async())


def test_the_docs_example_runs(logins: dict[str, str], embedder: vecpg.Embedder,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/langchain.md's python block, against this test's database, with the real model."""
    real_connect = vecpg.connect
    opened: list[vecpg.Store] = []

    def connect(url: str | None = None, **kwargs: object) -> vecpg.Store:
        opened.append(real_connect(url or logins["admin"], embedder=embedder, **kwargs))  # type: ignore[arg-type]
        return opened[-1]

    monkeypatch.setattr(vecpg, "connect", connect)
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "docs" / "langchain.md").read_text(), re.MULTILINE | re.DOTALL)
    assert blocks
    try:
        namespace: dict[str, object] = {"__name__": "docs_langchain"}
        for n, block in enumerate(blocks, start=1):
            exec(compile(block, f"docs/langchain.md python block {n}", "exec"), namespace)  # noqa: S102 -- the docs, by design
    finally:
        for s in opened:
            s.close()
    assert opened


def test_without_langchain_importing_vecpg_langchain_says_what_to_install() -> None:
    code = ("import sys; sys.modules['langchain_core'] = None\nimport vecpg\n"
            "assert not [m for m, mod in sys.modules.items() if mod and m.startswith(('langchain', 'vecpg.integrations'))]\n"
            "try:\n    import vecpg.langchain\nexcept ImportError as e: print(type(e).__name__, e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "MissingDependency vecpg.langchain needs langchain-core: pip install 'vecpg[langchain]'"
