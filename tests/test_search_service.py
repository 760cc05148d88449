"""SearchService: a configured search in stages (first stage, reranker, MMR), as an application
runs it, and as the RAG pipeline and the HTTP service use it."""

from __future__ import annotations

import pytest

import vecpg
from vecpg import SearchService

DOCS = {
    "tides-1": ("The moon's gravity pulls the oceans and makes the tides rise and fall twice a day.", "sea"),
    "tides-2": ("Tides rise and fall twice a day because the moon's gravity pulls on the oceans.", "sea"),
    "spring": ("Spring tides are the highest tides, when the sun and moon line up at full and new moon.", "sea"),
    "tables": ("Harbour tide tables list the times of high and low water for each day of the year.", "sea"),
    "bread": ("Knead the dough for ten minutes, let it rise, then bake the bread at 220 degrees.", "kitchen"),
    "yeast": ("Yeast makes bread dough rise by turning sugar into carbon dioxide.", "kitchen"),
}


@pytest.fixture
def notes(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("notes")
    coll.upsert([{"id": i, "content": text, "metadata": {"topic": topic}} for i, (text, topic) in DOCS.items()])
    return coll


def test_one_stage_is_the_collections_own_search(notes: vecpg.Collection) -> None:
    service = SearchService(notes, k=3)  # hybrid by default
    hits = service.search("why do tides rise")
    assert [h.id for h in hits] == [h.id for h in notes.search("why do tides rise", k=3, mode="hybrid")]
    assert all(h.first_rank is None for h in hits)  # no second stage ran
    vector = SearchService(notes, mode="vector").search(notes.embed_query("bread"), k=2)
    assert [h.id for h in vector] == [h.id for h in notes.search("bread", k=2)]


def test_mmr_returns_one_of_each_near_duplicate_and_says_where_each_hit_ranked(notes: vecpg.Collection) -> None:
    question = "why do the tides rise and fall"
    plain = SearchService(notes, mode="vector", k=2).search(question)
    assert {h.id for h in plain} == {"tides-1", "tides-2"}  # the same sentence twice
    diverse = SearchService(notes, mode="vector", k=2, mmr=0.5, filter={"topic": "sea"}).search(question)
    assert diverse[0].id == plain[0].id and diverse[1].id not in {"tides-1", "tides-2"}
    first = {h.id: (rank, h.score) for rank, h in enumerate(notes.search(question, k=20, filter={"topic": "sea"}), 1)}
    for hit in diverse:
        assert (hit.first_rank, hit.first_score) == pytest.approx(first[hit.id])
    # A hybrid first stage: MMR weighs relevance by the fused scores, min-max scaled (so among
    # four candidates the weakest has relevance 0: diversity needs a lower lambda to win).
    hybrid = SearchService(notes, k=2, mmr=0.25, filter={"topic": "sea"}).search(question)
    assert len({h.id for h in hybrid} & {"tides-1", "tides-2"}) == 1
    assert [h.id for h in SearchService(notes, mode="vector", k=2, mmr=1.0).search(question)] == [h.id for h in plain]


def test_filters_of_the_service_and_of_the_call_both_apply(notes: vecpg.Collection) -> None:
    service = SearchService(notes, mode="vector", k=6, filter={"topic": "sea"})
    assert {h.id for h in service.search("rising")} == {"tides-1", "tides-2", "spring", "tables"}
    assert [h.id for h in service.search("rising", filter={"id": {"$in": ["spring", "bread"]}})] == ["spring"]
    assert service.with_options(filter=None).search("rising", filter={"topic": "kitchen"})[0].id in {"bread", "yeast"}


def test_search_many_answers_each_query_in_order(notes: vecpg.Collection) -> None:
    service = SearchService(notes, mode="vector", k=1, mmr=0.5)
    answers = service.search_many(["baking bread", "high water times", "baking bread"])
    assert [[h.id for h in a] for a in answers] == [["bread"], ["tables"], ["bread"]]


def test_tenants_see_only_their_documents(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("shared_notes")
    with vecpg.connect(logins["writer"], pool_size=1) as writer:
        coll = writer.collection("shared_notes")
        coll.upsert([{"id": "a", "content": "acme's tide tables"}], tenant="acme")
        coll.upsert([{"id": "g", "content": "globex's tide tables"}], tenant="globex")
        service = SearchService(coll, k=5, mmr=0.5)
        assert [h.id for h in service.search("tide tables", tenant="acme")] == ["a"]
        with writer.tenant("globex"):
            assert [h.id for h in service.search("tide tables")] == ["g"]


def test_the_search_is_an_operation_any_runner_can_run(notes: vecpg.Collection) -> None:
    service = SearchService(notes, mode="vector", k=2, mmr=0.5)
    assert notes.store.run(service.operation("bread")) == service.search("bread")


@pytest.mark.parametrize("settings, message", [
    ({"mode": "semantic"}, "mode"),
    ({"k": 0}, "k"),
    ({"mmr": 1.5}, "mmr"),
    ({"candidates": 0}, "candidates"),
    ({"candidates": 2000}, "candidates"),
    ({"mode": "keyword", "options": {"ef_search": 10}}, "ef_search"),
    ({"filter": 42}, "filter"),
    ({"backend": "faiss"}, "backend"),
])
def test_bad_settings_fail_when_the_service_is_made(notes: vecpg.Collection, settings: dict, message: str) -> None:
    with pytest.raises(vecpg.VecpgError, match=message):
        SearchService(notes, **settings)


def test_fewer_candidates_than_k_is_refused(notes: vecpg.Collection) -> None:
    with pytest.raises(vecpg.InvalidArgument, match="candidates"):
        SearchService(notes, k=10, candidates=5, mmr=0.5).search("tides")
