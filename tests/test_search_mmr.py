"""Diversity: maximal marginal relevance over a first stage's candidates (vecpg/search/mmr.py,
sql/idempotent/14_mmr.sql), held against a numpy implementation of greedy MMR."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

import vecpg
from vecpg.search import MMROptions, Pick, hybrid_query, mmr_query, mmr_search_query

DIM = 16


def reference_mmr(query: np.ndarray, vectors: np.ndarray, relevance: np.ndarray | None, k: int,
                  lam: float) -> list[tuple[int, float]]:
    """Greedy MMR as the literature (and LangChain) writes it: (index, MMR score) of each pick."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = unit @ unit.T
    if relevance is None:
        rel = unit @ (query / np.linalg.norm(query))
    else:
        spread = relevance.max() - relevance.min()
        rel = (relevance - relevance.min()) / spread if spread else np.ones(len(relevance))
    picks = [(int(np.argmax(rel)), lam * float(rel.max()))]
    while len(picks) < min(k, len(vectors)):
        chosen = [i for i, _ in picks]
        score = lam * rel - (1 - lam) * sim[:, chosen].max(axis=1)
        score[chosen] = -np.inf
        picks.append((int(np.argmax(score)), float(score.max())))
    return picks


@pytest.fixture
def randoms(store: vecpg.Store) -> tuple[vecpg.Collection, np.ndarray]:
    """60 random vectors in 6 loose clusters, so that relevance and redundancy pull apart."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(6, DIM))
    vectors = (centres[rng.integers(0, 6, 60)] + 0.6 * rng.normal(size=(60, DIM))).astype(np.float32)
    coll = store.create_collection("randoms", dimension=DIM)
    coll.upsert([{"id": f"d{i}", "content": f"doc {i}", "embedding": v} for i, v in enumerate(vectors)])
    return coll, vectors


def picked(store: vecpg.Store, coll: vecpg.Collection, query: np.ndarray, ids: Sequence[str],
           relevance: Sequence[float] | None = None, k: int = 10, lam: float = 0.5) -> list[Pick]:
    return store.run(mmr_query(coll, query, ids, relevance, k, lam))


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_mmr_select_picks_what_greedy_mmr_picks(store: vecpg.Store, randoms, lam: float) -> None:
    coll, vectors = randoms
    rng = np.random.default_rng(int(lam * 10))
    query = rng.normal(size=DIM).astype(np.float32)
    order = rng.permutation(len(vectors))[:50]  # 50 candidates, in no particular order
    ids = [f"d{i}" for i in order]
    scores = rng.normal(size=50) * 3 + 10  # a reranker's scale, say
    for relevance in (None, scores):
        expected = reference_mmr(query, vectors[order], relevance, 10, lam)
        got = picked(store, coll, query, ids, None if relevance is None else list(relevance), 10, lam)
        assert [p.id for p in got] == [ids[i] for i, _ in expected], relevance is None
        assert [p.rank for p in got] == list(range(1, 11))
        assert [p.score for p in got] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_lambda_trades_relevance_for_diversity(store: vecpg.Store, randoms) -> None:
    coll, vectors = randoms
    query = vectors[0]
    ids = [h.id for h in coll.search(query, k=30)]
    relevant = picked(store, coll, query, ids, k=10, lam=1.0)
    assert [p.id for p in relevant] == ids[:10]  # lambda 1: the relevance order
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def redundancy(picks: list[Pick]) -> float:
        chosen = unit[[int(p.id[1:]) for p in picks]]
        sims = chosen @ chosen.T
        return float(sims[np.triu_indices(len(picks), 1)].mean())

    diverse = picked(store, coll, query, ids, k=10, lam=0.0)
    assert diverse[0].id == ids[0]  # the most relevant first, at every lambda
    assert redundancy(diverse) < redundancy(picked(store, coll, query, ids, k=10, lam=0.5)) < redundancy(relevant)


def test_given_relevance_orders_the_picks_and_ties_go_to_the_earlier_id(store: vecpg.Store, randoms,
                                                                        conn: psycopg.Connection) -> None:
    coll, vectors = randoms
    ids = ["d5", "d3", "d9", "d1"]
    assert [p.id for p in picked(store, coll, vectors[0], ids, [0.1, 0.9, 0.5, 0.2], lam=1.0)] == ["d3", "d9", "d1", "d5"]
    assert [p.id for p in picked(store, coll, vectors[0], ids, [1, 1, 1, 1], lam=1.0)] == ids
    # Ids given twice count once, at their first place; unknown ids and ids without a vector take no part.
    conn.execute("INSERT INTO vecpg_data.randoms (id, content) VALUES ('novector', 'waits for its embedding')")
    got = picked(store, coll, vectors[0], ["d5", "nope", "d5", "novector", "d3"], [1, 5, 0, 5, 1], lam=1.0)
    assert [p.id for p in got] == ["d5", "d3"]
    assert picked(store, coll, vectors[0], []) == []


def test_every_metric_compares_by_cosine(store: vecpg.Store, randoms) -> None:
    _, vectors = randoms
    query = np.random.default_rng(3).normal(size=DIM).astype(np.float32) * 5  # lengths matter to l2 and ip, not to MMR
    for distance in ("l2", "ip"):
        coll = store.create_collection(f"by_{distance}", dimension=DIM, distance=distance)
        coll.upsert([{"id": f"d{i}", "embedding": v * (1 + i % 3)} for i, v in enumerate(vectors)])
        ids = [f"d{i}" for i in range(40)]
        expected = reference_mmr(query, vectors[:40], None, 8, 0.5)
        assert [p.id for p in picked(store, coll, query, ids, k=8)] == [ids[i] for i, _ in expected], distance


# Three aspects of one topic, each written twice in other words: near-duplicates.
TIDES = [
    ("moon-1", "The Moon's gravity pulls on the oceans and causes the tides."),
    ("moon-2", "Tides are caused by the gravity of the Moon pulling on the oceans."),
    ("spring-1", "Spring tides happen at new and full moon, when the Sun and the Moon line up."),
    ("spring-2", "When the Sun and Moon line up at full and new moon, spring tides occur."),
    ("tables-1", "Tide tables list the times of high and low water for each harbour."),
    ("tables-2", "For every harbour, tide tables give the times of high and low water."),
    ("bread", "Bake sourdough bread at a high temperature with steam for a crisp crust."),
    ("stars", "Stars form when clouds of gas collapse under their own gravity."),
]


@pytest.fixture
def tides(store: vecpg.Store, embedder: vecpg.Embedder) -> vecpg.Collection:
    coll = store.create_collection("tides", dimension=embedder.dimension)
    vectors = embedder.embed([text for _, text in TIDES])
    coll.upsert([{"id": i, "content": text, "embedding": v, "metadata": {"topic": "sea" if "-" in i else "other"}}
                 for (i, text), v in zip(TIDES, vectors)])
    return coll


def groups(ids: Sequence[str]) -> list[str]:
    return [i.split("-")[0] for i in ids]


def test_near_duplicates_come_back_once(store: vecpg.Store, tides: vecpg.Collection, embedder: vecpg.Embedder) -> None:
    query = embedder.embed(["What makes the tides, and when are they high?"])[0]
    plain = tides.search(query, k=3)
    assert len(set(groups([h.id for h in plain]))) < 3  # both copies of something in the top 3
    diverse = store.run(mmr_search_query(tides, query, k=3, lam=0.5))
    assert len(set(groups([h.id for h in diverse]))) == 3 and diverse[0].id == plain[0].id
    # Among the documents on the topic: one of each pair.
    on_topic = store.run(mmr_search_query(tides, query, k=3, lam=0.5, filter={"topic": "sea"}))
    assert sorted(groups([h.id for h in on_topic])) == ["moon", "spring", "tables"]
    by_id = {h.id: (rank, h) for rank, h in enumerate(tides.search(query, k=20), start=1)}
    for hit in diverse:  # each hit says where the plain search ranked it, and its similarity there
        rank, same = by_id[hit.id]
        assert (hit.first_rank, hit.first_score, hit.score, hit.content) == (rank, same.score, same.score, same.content)
        assert hit.distance == pytest.approx(same.distance)
    relevant = store.run(mmr_search_query(tides, query, k=5, lam=1.0))
    assert [h.id for h in relevant] == [h.id for h in tides.search(query, k=5)]
    assert [h.first_rank for h in relevant] == [1, 2, 3, 4, 5]


def test_mmr_after_any_first_stage_with_its_scores(store: vecpg.Store, tides: vecpg.Collection,
                                                   embedder: vecpg.Embedder) -> None:
    text = "moon tides"
    query = embedder.embed([text])[0]
    first = store.run(hybrid_query(tides, text, query, 6))
    picks = store.run(mmr_query(tides, query, [h.id for h in first], [h.score for h in first], k=3, lam=0.5))
    assert [p.id for p in picks] != [h.id for h in first[:3]]
    assert picks[0].id == first[0].id and groups([picks[1].id]) != groups([picks[0].id])


def test_a_filter_and_options_reach_the_candidates(store: vecpg.Store, tides: vecpg.Collection,
                                                   embedder: vecpg.Embedder) -> None:
    query = embedder.embed(["gravity"])[0]
    hits = store.run(mmr_search_query(tides, query, k=8, filter={"topic": "other"}, options={"ef_search": 100}))
    assert sorted(h.id for h in hits) == ["bread", "stars"]
    assert len(store.run(mmr_search_query(tides, query, k=2, candidates=2))) == 2


def test_mmr_search_from_sql(tides: vecpg.Collection, conn: psycopg.Connection, embedder: vecpg.Embedder) -> None:
    literal = str([round(float(x), 6) for x in embedder.embed(["What makes the tides, and when are they high?"])[0]])
    rows = conn.execute(f"SELECT id, vector_rank FROM vecpg.mmr_search('tides', '{literal}', 3)").fetchall()
    assert len(set(groups([r[0] for r in rows]))) == 3 and rows[0][1] == 1
    # LangChain's fetch_k and lambda_mult, and a filter, by name.
    rows = conn.execute(f"SELECT id FROM vecpg.mmr_search('tides', '{literal}', k => 2, lambda => 0.25, "
                        "candidates => 4, filter => '{\"topic\": \"sea\"}')").fetchall()
    assert len(rows) == 2 and len(set(groups([r[0] for r in rows]))) == 2
    ids = [r[0] for r in conn.execute(f"SELECT id FROM vecpg.search('tides', '{literal}', 6, '{{\"topic\": \"sea\"}}')")]
    picks = conn.execute(f"SELECT id, mmr_rank FROM vecpg.mmr_select('tides', '{literal}', %s, k => 3)", (ids,)).fetchall()
    assert [r[1] for r in picks] == [1, 2, 3] and sorted(groups([r[0] for r in picks])) == ["moon", "spring", "tables"]


def test_halfvec_storage(store: vecpg.Store, randoms) -> None:
    _, vectors = randoms
    halves = store.create_collection("halves", dimension=DIM, storage="halfvec")
    halves.upsert([{"id": f"d{i}", "embedding": v} for i, v in enumerate(vectors)])
    query = vectors[1]
    ids = [f"d{i}" for i in range(50)]
    stored = vectors[:50].astype(np.float16).astype(np.float32)  # what the table keeps
    expected = reference_mmr(query, stored, None, 10, 0.4)
    assert [p.id for p in picked(store, halves, query, ids, k=10, lam=0.4)] == [ids[i] for i, _ in expected]
    hits = store.run(mmr_search_query(halves, query, k=5))
    assert hits[0].id == "d1" and len({h.id for h in hits}) == 5


def test_a_tenant_picks_only_among_its_own_rows(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("shared", dimension=2)
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        coll = writer.collection("shared")
        for tenant in ("a", "b"):
            with writer.tenant(tenant):
                coll.upsert([{"id": f"{tenant}{n}", "embedding": [1, n]} for n in range(3)])
        others = ["b0", "b1", "b2"]
        with writer.tenant("a"):
            assert writer.run(mmr_query(coll, [1, 0], others)) == []
            assert [p.id for p in writer.run(mmr_query(coll, [1, 0], others + ["a2"]))] == ["a2"]
            assert {h.id for h in writer.run(mmr_search_query(coll, [1, 0], k=10))} == {"a0", "a1", "a2"}
        with writer.tenant("b"):
            assert [p.id for p in writer.run(mmr_query(coll, [1, 0], others, lam=1.0))] == others
        assert writer.run(mmr_query(coll, [1, 0], others)) == []  # no tenant: no tenant's rows


def test_bad_arguments(store: vecpg.Store, randoms, conn: psycopg.Connection) -> None:
    coll, vectors = randoms
    ids = ["d1", "d2"]
    for bad in (
        lambda: mmr_query(coll, vectors[0], ids, lam=1.5),
        lambda: mmr_query(coll, vectors[0], ids, lam=float("nan")),
        lambda: mmr_query(coll, vectors[0], ids, k=0),
        lambda: mmr_query(coll, vectors[0], ids, relevance=[1.0]),
        lambda: mmr_query(coll, vectors[0], ids, relevance=[1.0, float("inf")]),
        lambda: mmr_search_query(coll, vectors[0], k=5, candidates=4),
        lambda: mmr_search_query(coll, vectors[0], k=5, lam=-0.1),
        lambda: mmr_search_query(coll, vectors[0], k=5, options={"k1": 1.2}),
    ):
        with pytest.raises(vecpg.InvalidArgument):
            bad()
    with pytest.raises(vecpg.DimensionMismatch):
        mmr_query(coll, [1.0, 0.0], ids)
    # The database refuses the same, with the SQLSTATEs vecpg maps to those errors.
    query = vectors[0]
    for call, params in (
        ("SELECT * FROM vecpg.mmr_select('randoms', %s, %s, NULL, 10, 1.5)", (query, ids)),
        ("SELECT * FROM vecpg.mmr_select('randoms', %s, %s, NULL, 0)", (query, ids)),
        ("SELECT * FROM vecpg.mmr_select('randoms', %s, %s, ARRAY[1.0])", (query, ids)),
        ("SELECT * FROM vecpg.mmr_select('randoms', %s, %s, ARRAY[1.0, 'NaN'])", (query, ids)),
        ("SELECT * FROM vecpg.mmr_select('randoms', %s, NULL)", (query,)),
        ("SELECT * FROM vecpg.mmr_search('randoms', %s, 5, candidates => 4)", (query,)),
        ("SELECT * FROM vecpg.mmr_search('randoms', %s, 5, lambda => NULL)", (query,)),
        ("SELECT * FROM vecpg.mmr_search('randoms', %s, 5, options => %s)", (query, Jsonb({"k1": 1.2}))),
    ):
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(call, params)
        assert caught.value.sqlstate == "VP005", call
    with pytest.raises(vecpg.DimensionMismatch), store.connection() as mapped:
        mapped.execute("SELECT * FROM vecpg.mmr_search('randoms', '[1,0]', 5)")
    with pytest.raises(vecpg.CollectionNotFound), store.connection() as mapped:
        mapped.execute("SELECT * FROM vecpg.mmr_select('nope', '[1,0]', '{}')")


@pytest.mark.parametrize(("name", "value", "allowed"), [
    ("mmr", 0, True), ("mmr", 1, True), ("mmr", -0.001, False), ("mmr", 1.001, False),
    ("candidates", 5, True), ("candidates", 4, False), ("candidates", 1000, True), ("candidates", 1001, False),
])
def test_python_and_sql_allow_the_same_values(randoms, conn: psycopg.Connection, name: str, value: float,
                                              allowed: bool) -> None:
    k = 5
    try:
        MMROptions.from_mapping({name: value}).candidates_for(k)  # type: ignore[attr-defined]
        python = True
    except vecpg.InvalidArgument:
        python = False
    argument = "lambda" if name == "mmr" else "candidates"
    try:
        conn.execute(f"SELECT * FROM vecpg.mmr_search('randoms', %s, {k}, {argument} => %s)",
                     (randoms[1][0], value)).fetchall()
        database = True
    except psycopg.Error as exc:
        assert exc.sqlstate == "VP005"
        database = False
    assert python is database is allowed


def test_default_candidates_are_the_same_in_python_and_sql(store: vecpg.Store, randoms) -> None:
    coll, vectors = randoms
    for k in (2, 10):
        n = MMROptions().candidates_for(k)
        assert n == max(20, 4 * k)
        given = store.run(mmr_search_query(coll, vectors[0], k, lam=0.3, candidates=n))
        assert store.run(mmr_search_query(coll, vectors[0], k, lam=0.3)) == given
        assert store.run(mmr_search_query(coll, vectors[0], k, lam=0.3, candidates=n + 10)) != given  # it can fail
