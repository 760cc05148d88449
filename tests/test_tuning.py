"""Tuning by measurement: tune() picks the smallest ef_search / probes (and rerank for binary codes)
reaching the target recall, stores it, and every later search uses it unless a call overrides it.

The HNSW index is deliberately poor (m=4, ef_construction=16 over 3,000 clustered 64-d vectors):
recall@10 at ef_search 10 is about 0.8, and 0.95 takes a few hundred. Graph builds are random,
so the tests read the chosen value and its neighbours from the stored curve, never a fixed number.
"""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main
from vecpg.errors import InvalidArgument, PermissionDenied
from vecpg.index.tuning import EF_SEARCH_LADDER, RERANK_LADDER
from vecpg.search import hybrid_query

DIM = 64
N = 3000
POOR_HNSW = vecpg.HNSW(m=4, ef_construction=16)


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(30, dim))
    return (centers[rng.integers(0, 30, n)] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered(N, DIM)


@pytest.fixture
def coll(store: vecpg.Store, vectors: np.ndarray) -> vecpg.Collection:
    c = store.create_collection("t", dimension=DIM)
    c.load({"id": str(i), "content": f"document {i} about topic {i % 7}", "embedding": v}
           for i, v in enumerate(vectors))
    return c


def queries(n: int = 60, seed: int = 5) -> np.ndarray:
    """Vectors from the collection's distribution that it does not hold."""
    return clustered(n, DIM, seed)


def ids(hits: list[vecpg.SearchResult]) -> list[str]:
    return [h.id for h in hits]


def sql_ids(conn: psycopg.Connection, query: np.ndarray, k: int = 10, options: str = "{}") -> list[str]:
    rows = conn.execute("SELECT id FROM vecpg.search('t', %s, %s, '{}', %s)", (query, k, options)).fetchall()
    return [r[0] for r in rows]


def assert_smallest(curve: tuple[tuple[int, float], ...], ladder: tuple[int, ...], target: float) -> None:
    """The curve climbs the ladder in order and stops at the first value reaching the target."""
    values = [v for v, _ in curve]
    assert values == list(ladder[:len(values)])
    assert curve[-1][1] >= target
    assert all(recall < target for _, recall in curve[:-1])


def test_tune_stores_the_smallest_ef_search_reaching_the_target(coll: vecpg.Collection) -> None:
    coll.create_index(POOR_HNSW)
    result = coll.tune()  # target 0.95, k 10, 200 stored vectors
    assert result.reached and result.parameter == "ef_search" and result.rerank is None
    assert result.sample == 200 and result.queries == "stored" and result.method == "hnsw"
    assert_smallest(result.curve, EF_SEARCH_LADDER, 0.95)
    assert result.curve[0][0] == 10 and result.curve[0][1] < 0.9  # the default would be far off
    assert (result.value, result.recall) == result.curve[-1]
    assert coll.search_defaults == {"ef_search": result.value}
    assert coll.tuning() == result  # stored whole
    again = coll.tune()  # the same stored vectors for the same seed, on the same graph
    assert again.curve == result.curve


def test_the_recall_reported_is_the_recall_searches_get(coll: vecpg.Collection, vectors: np.ndarray) -> None:
    coll.create_index(POOR_HNSW)
    given = queries()
    result = coll.tune(target_recall=0.9, queries=given)
    assert result.queries == "given" and result.sample == len(given) and result.seed is None
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for value, recall in result.curve:
        found = 0
        for q in given:
            exact = {str(i) for i in np.argsort(-(unit @ (q / np.linalg.norm(q))))[:10]}
            found += len(exact & set(ids(coll.search(q, k=10, ef_search=value))))
        assert found / (10 * len(given)) == pytest.approx(recall, abs=0.002)


def test_later_searches_use_the_choice_unless_a_call_overrides_it(coll: vecpg.Collection, store: vecpg.Store,
                                                                  conn: psycopg.Connection) -> None:
    coll.create_index(POOR_HNSW)
    chosen = coll.tune().value
    other = vecpg.connect(store.url).collection("t")  # another client reads the choice from the catalog
    differs = 0
    for q in queries():
        tuned = ids(coll.search(q, k=10))
        assert tuned == ids(coll.search(q, k=10, ef_search=chosen)) == ids(other.search(q, k=10))
        assert sql_ids(conn, q) == sql_ids(conn, q, options=json.dumps({"ef_search": chosen})) == tuned
        # A call's own ef_search wins, in Python and in SQL.
        low = ids(coll.search(q, k=10, ef_search=10))
        assert sql_ids(conn, q, options='{"ef_search": 10}') == low
        differs += low != tuned
    assert differs > 0
    other.store.close()


def test_a_tuned_ef_search_never_cuts_a_larger_search_short(coll: vecpg.Collection, conn: psycopg.Connection) -> None:
    coll.create_index(POOR_HNSW)
    assert coll.set_search_defaults(ef_search=10) == {"ef_search": 10}
    q = queries(1)[0]
    # An HNSW scan returns at most ef_search rows: the default is raised to the k asked for...
    assert len(coll.search(q, k=50)) == 50 and len(sql_ids(conn, q, k=50)) == 50
    # (hybrid search's vector list of 4 * 30 rows too: cut to 10 rows, no hit would rank below 10)
    rows = conn.execute("SELECT max(vector_rank) FROM vecpg.hybrid_search('t', 'document topic', %s, 30, '{}', "
                        "'{\"keyword_index\": false}')", (q,)).fetchone()
    assert rows[0] > 10
    # ...while a call's own ef_search is taken as given.
    assert len(coll.search(q, k=50, ef_search=20)) == 20


def test_hybrid_search_uses_the_choice_with_and_without_the_keyword_index(coll: vecpg.Collection,
                                                                          conn: psycopg.Connection) -> None:
    coll.create_index(POOR_HNSW)
    chosen = coll.tune(target_recall=0.9).value
    # The vector list reads `candidates` (40) rows: a tuned ef_search below that is raised to it.
    explicit = vecpg.HybridOptions(vector=vecpg.VectorOptions(ef_search=max(chosen, 40)))
    for keyword_index in (False, True):
        if keyword_index:
            coll.enable_keyword_index()
        for q in queries(10):
            tuned = coll.store.run(hybrid_query(coll, "document topic 3", q, 10))
            assert ids(tuned) == ids(coll.store.run(hybrid_query(coll, "document topic 3", q, 10, options=explicit)))
            rows = conn.execute("SELECT id FROM vecpg.hybrid_search('t', 'document topic 3', %s, 10)", (q,)).fetchall()
            assert [r[0] for r in rows] == ids(tuned)


def test_ivfflat_gets_the_smallest_probes(coll: vecpg.Collection, conn: psycopg.Connection) -> None:
    coll.create_index(vecpg.IVFFlat(lists=100))
    result = coll.tune()
    assert result.reached and result.parameter == "probes" and result.method == "ivfflat"
    assert_smallest(result.curve, (1, 2, 4, 8, 16, 32, 64, 100), 0.95)
    assert result.value > 1  # 30 rows a list: one list is not enough
    assert coll.search_defaults == {"probes": result.value}
    differs = 0
    for q in queries(20):
        tuned = ids(coll.search(q, k=10))
        assert tuned == ids(coll.search(q, k=10, probes=result.value)) == sql_ids(conn, q)
        differs += tuned != ids(coll.search(q, k=10, probes=1))
    assert differs > 0


def test_binary_codes_get_a_rerank_factor_then_ef_search(coll: vecpg.Collection, conn: psycopg.Connection) -> None:
    coll.create_index(vecpg.HNSW(quantization="binary"))
    coll.enable_keyword_index()
    result = coll.tune(sample=100)
    assert result.reached and result.quantization == "binary" and result.rerank is not None
    assert_smallest(result.rerank_curve, RERANK_LADDER, 0.95)
    assert result.rerank > 1  # 64 sign bits do not rank ten neighbours by themselves
    # ef_search starts at the candidates the re-ranking needs: fewer would cut them short.
    assert result.curve[0][0] == max(10 * result.rerank, 10) and result.curve[-1][1] >= 0.95
    assert coll.search_defaults == {"rerank": result.rerank, "ef_search": result.value}
    for q in queries(10):
        tuned = ids(coll.search(q, k=10))
        assert tuned == ids(coll.search(q, k=10, rerank=result.rerank, ef_search=result.value)) == sql_ids(conn, q)
    # The keyword index's search function was written again with the new re-rank factor.
    body = conn.execute("SELECT pg_get_functiondef('vecpg_postings.t'::regproc)").fetchone()[0]
    assert f"* ({result.rerank})" in body


def test_an_unreachable_target_stores_the_best_and_says_so(coll: vecpg.Collection) -> None:
    coll.create_index(vecpg.HNSW(m=4, ef_construction=8))
    result = coll.tune(target_recall=1.0, k=100, sample=30)
    assert not result.reached and result.recall < 1.0
    assert [v for v, _ in result.curve] == sorted({max(100, v) for v in EF_SEARCH_LADDER})  # every value tried
    assert result.recall == max(r for _, r in result.curve)
    assert coll.search_defaults == {"ef_search": result.value}
    assert "target not reached" in result.summary()


def test_what_there_is_nothing_to_tune_with(coll: vecpg.Collection, store: vecpg.Store,
                                            logins: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument, match="no vector index"):
        coll.tune()
    coll.create_index(POOR_HNSW)
    for bad in ({"target_recall": 0}, {"target_recall": 1.5}, {"k": 0}, {"sample": 0}, {"queries": []}):
        with pytest.raises(InvalidArgument):
            coll.tune(**bad)  # type: ignore[arg-type]
    with pytest.raises(vecpg.DimensionMismatch):
        coll.tune(queries=[[0.0] * 3])
    empty = store.create_collection("empty", dimension=DIM)
    empty.create_index()
    with pytest.raises(InvalidArgument, match="no stored vectors"):
        empty.tune()
    # Tuning is per collection: not inside a tenant, and only for those who may store it.
    with vecpg.connect(logins["admin"]) as admin, admin.tenant("acme"), pytest.raises(InvalidArgument, match="tenant"):
        admin.collection("t").tune()
    with vecpg.connect(logins["reader"]) as reader, pytest.raises(PermissionDenied):
        reader.collection("t").tune()
    assert coll.tuning() is None and coll.search_defaults == {}


def test_search_defaults_are_checked_as_search_options(coll: vecpg.Collection, conn: psycopg.Connection,
                                                       logins: dict[str, str]) -> None:
    for bad in ('{"ef_search": 0}', '{"ef_search": 1.5}', '{"probes": "4"}', '{"warp": 9}', '{"rerank": 101}',
                '{"iterative_scan": "sideways"}', '[]'):
        with pytest.raises(psycopg.Error, match="ef_search|probes|unknown|rerank|iterative_scan|object") as exc:
            conn.execute("SELECT vecpg.set_search_defaults('t', %s)", (bad,))
        assert exc.value.sqlstate == "VP005"
    with pytest.raises(psycopg.Error, match="tuning must be"):
        conn.execute("""SELECT vecpg.set_search_defaults('t', '{}', '[1]')""")
    with pytest.raises(InvalidArgument):
        coll.set_search_defaults(ef_search=0)
    # Stored in canonical form (a whole number as an integer), replacing what was there.
    stored = conn.execute("""SELECT vecpg.set_search_defaults('t', '{"ef_search": 64.0, "probes": 3}')""").fetchone()
    assert stored[0] == {"ef_search": 64, "probes": 3}
    assert coll.set_search_defaults(probes=5) == {"probes": 5} and coll.search_defaults == {"probes": 5}
    with vecpg.connect(logins["writer"]) as writer, pytest.raises(PermissionDenied):
        writer.collection("t").set_search_defaults(ef_search=100)
    assert coll.reset_search_defaults() is True and coll.reset_search_defaults() is False
    assert coll.search_defaults == {}


def test_a_new_or_dropped_index_forgets_the_tuning(coll: vecpg.Collection, conn: psycopg.Connection) -> None:
    coll.create_index(POOR_HNSW)
    result = coll.tune(target_recall=0.9, sample=50)
    coll.rebuild_index()  # REINDEX: the same index and settings, the choice stays
    assert coll.tuning() == result and coll.search_defaults == {"ef_search": result.value}
    # A tuned ef_search means nothing to IVFFlat, and a new graph has a curve of its own.
    coll.create_index(vecpg.IVFFlat(lists=100))
    assert coll.tuning() is None and coll.search_defaults == {}
    coll.tune(sample=50)
    conn.execute("SELECT vecpg.drop_index('t')")
    coll.refresh()
    assert coll.tuning() is None and coll.search_defaults == {}


def test_cli_tunes_and_collection_info_shows_it(coll: vecpg.Collection, db_url: str) -> None:
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["--url", db_url, *args], catch_exceptions=False)

    failed = run("index", "tune", "-c", "t")
    assert failed.exit_code == 2 and failed.output.count("\n") == 1 and "no vector index" in failed.output
    coll.create_index(POOR_HNSW)
    tuned = run("index", "tune", "--collection", "t", "--target-recall", "0.9", "--sample", "100", "--json")
    assert tuned.exit_code == 0, tuned.output
    chosen = json.loads(tuned.stdout)
    assert chosen["reached"] and chosen["parameter"] == "ef_search" and chosen["sample"] == 100
    assert chosen["recall"] >= 0.9 and chosen["curve"][-1] == [chosen["value"], chosen["recall"]]
    info = run("collection", "info", "t")
    assert f"tuned:         ef_search {chosen['value']}: recall@10 {chosen['recall']:.3f} (target 0.9;" in info.stdout
    assert json.loads(run("collection", "info", "t", "--json").stdout)["tuning"]["value"] == chosen["value"]

    text = run("index", "tune", "-c", "t", "--k", "100", "--target-recall", "1", "--sample", "20")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("tuned t: ef_search ") and "  ef_search: 100 -> " in text.stdout
    assert "warning: no ef_search up to 1000 reaches recall@100 1" in text.stderr
    bad = run("index", "tune", "-c", "t", "--target-recall", "0")
    assert bad.exit_code == 2 and bad.output.startswith("error:")
