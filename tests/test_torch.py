"""vecpg.torch: a retriever inside PyTorch code. A batch of queries in, the k nearest documents
of each out as tensors from one batch search; a model learns through it by recomputing the scores
from its query embedding and the returned vectors."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import vecpg
from vecpg.torch import Retrieved, VecpgRetriever

DIM = 16
CLASSES = 4


def load_items(store: vecpg.Store, vectors: np.ndarray, labels: np.ndarray, distance: str = "ip") -> vecpg.Collection:
    items = store.create_collection("items", dimension=DIM, distance=distance)
    items.load({"id": f"item{i}", "content": f"item {i}", "embedding": v, "metadata": {"label": int(c)}}
               for i, (v, c) in enumerate(zip(vectors, labels)))
    return items


def clusters(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n float32 points around CLASSES centres, and each point's class."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLASSES, DIM))
    labels = rng.integers(0, CLASSES, n)
    return (centres[labels] + 0.5 * rng.normal(size=(n, DIM))).astype(np.float32), labels


@pytest.fixture
def items(store: vecpg.Store) -> vecpg.Collection:
    return load_items(store, *clusters(300))


def test_a_batch_gives_each_querys_hits_as_tensors(items: vecpg.Collection) -> None:
    queries = torch.from_numpy(clusters(5, seed=1)[0])
    retriever = VecpgRetriever(items, k=7, return_vectors=True)
    out = retriever(queries)
    assert isinstance(out, Retrieved)
    assert out.scores.shape == (5, 7) and out.scores.dtype == torch.float32
    assert out.vectors is not None and out.vectors.shape == (5, 7, DIM)
    assert out.mask.dtype == torch.bool and bool(out.mask.all())
    expected = items.search_many(queries.numpy(), k=7, vectors=True)
    assert out.ids == [[h.id for h in hits] for hits in expected]
    assert torch.allclose(out.scores, torch.tensor([[h.score for h in hits] for hits in expected]), atol=1e-5)
    stored = {d.id: d.embedding for d in items.get([i for ids in out.ids for i in ids])}
    assert np.array_equal(out.vectors[2, 4].numpy(), stored[out.ids[2][4]])
    assert [h.metadata["label"] for h in out.results[0]] == [h.metadata["label"] for h in expected[0]]
    # An ip collection: the scores are the dot products, so the model can recompute them.
    assert torch.allclose(torch.einsum("bd,bkd->bk", queries, out.vectors), out.scores, atol=1e-4)


def test_scores_follow_the_query_tensor_and_carry_no_gradient(items: vecpg.Collection) -> None:
    queries = torch.from_numpy(clusters(3, seed=2)[0]).double().requires_grad_()
    out = VecpgRetriever(items, k=4, return_vectors=True)(queries)
    assert out.scores.dtype == torch.float64 and out.vectors is not None and out.vectors.dtype == torch.float64
    assert not out.scores.requires_grad and not out.vectors.requires_grad
    assert VecpgRetriever(items, k=4)(queries).vectors is None


def test_fewer_hits_than_k_are_padded_and_masked(items: vecpg.Collection) -> None:
    queries = torch.from_numpy(clusters(4, seed=3)[0])
    out = VecpgRetriever(items, k=10, filter={"label": 2}, return_vectors=True)(queries)
    assert all(h.metadata["label"] == 2 for hits in out.results for h in hits)
    small = items.store.create_collection("three", dimension=DIM)
    small.load({"id": str(i), "content": str(i), "embedding": v} for i, v in enumerate(clusters(3)[0]))
    out = VecpgRetriever(small, k=5, return_vectors=True)(queries)
    assert [len(ids) for ids in out.ids] == [3, 3, 3, 3]
    assert out.mask.tolist() == [[True] * 3 + [False] * 2] * 4
    assert torch.isneginf(out.scores[:, 3:]).all() and torch.isfinite(out.scores[:, :3]).all()
    assert out.vectors is not None and not out.vectors[:, 3:].any() and out.vectors[:, :3].abs().sum(-1).gt(0).all()
    assert torch.softmax(out.scores, dim=1)[:, 3:].sum() == 0  # padding takes no weight


def test_text_queries_are_embedded_by_the_collections_model(store: vecpg.Store, embedder: vecpg.Embedder) -> None:
    facts = store.create_collection("facts")
    facts.upsert([{"id": "tides", "content": "The Moon's gravity raises the ocean tides twice a day."},
                  {"id": "bread", "content": "Bake sourdough bread in a very hot oven with steam."},
                  {"id": "zx81", "content": "The ZX81 was a home computer sold in kit form in 1981."}])
    retriever = VecpgRetriever(facts, k=2, return_vectors=True).to(torch.float64)
    out = retriever(["why do the tides rise", "baking bread at home"])
    assert [ids[0] for ids in out.ids] == ["tides", "bread"]
    assert out.scores.dtype == torch.float64 and out.vectors is not None and out.vectors.shape == (2, 2, 384)
    keyword = VecpgRetriever(facts, k=3, mode="keyword")(["sourdough oven", "ZX81 computer", "tides"])
    assert keyword.ids == [["bread"], ["zx81"], ["tides"]]
    assert keyword.mask.sum(1).tolist() == [1, 1, 1]
    assert VecpgRetriever(facts, k=3, mode="hybrid")(["tides of the ocean"]).ids[0][0] == "tides"


def test_a_tenants_retriever_sees_only_its_rows(store: vecpg.Store, logins: dict[str, str]) -> None:
    store.create_collection("shared", dimension=DIM)
    vectors, _ = clusters(12)
    with vecpg.connect(logins["writer"]) as writer:
        for tenant, rows in (("a", vectors[:6]), ("b", vectors[6:])):
            with writer.tenant(tenant):
                writer.collection("shared").load({"id": f"{tenant}{i}", "content": "x", "embedding": v}
                                                 for i, v in enumerate(rows))
    with vecpg.connect(logins["reader"]) as reader:
        out = VecpgRetriever(reader.collection("shared"), k=8, tenant="a")(torch.from_numpy(vectors[:2]))
    assert all(i.startswith("a") for ids in out.ids for i in ids)
    assert out.mask.sum(1).tolist() == [6, 6]


def test_bad_settings_fail_when_the_retriever_is_made(items: vecpg.Collection) -> None:
    for kwargs in ({"k": 0}, {"mode": "semantic"}, {"options": {"ef": 5}}, {"return_vectors": "yes"}):
        with pytest.raises(vecpg.InvalidArgument):
            VecpgRetriever(items, **kwargs)
    with pytest.raises(vecpg.FilterError, match=r"\$near"):  # compiled by the database, before any batch
        VecpgRetriever(items, filter={"label": {"$near": 1}})
    with pytest.raises(vecpg.InvalidArgument, match="Collection"):
        VecpgRetriever("items")  # type: ignore[arg-type]
    retriever = VecpgRetriever(items, k=3)
    with pytest.raises(vecpg.InvalidArgument, match=r"\[B, d\]"):
        retriever(torch.zeros(DIM))
    with pytest.raises(vecpg.InvalidArgument, match="list of query texts"):
        retriever("one text")  # type: ignore[arg-type]
    with pytest.raises(vecpg.DimensionMismatch):
        retriever(torch.zeros(2, DIM + 1))


def test_a_model_holding_a_retriever_copies_but_does_not_pickle(items: vecpg.Collection) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(DIM, DIM), VecpgRetriever(items, k=3))
    twin = copy.deepcopy(model)
    assert twin[1].collection is items and list(twin.state_dict()) == ["0.weight", "0.bias"]
    assert "collection='items', k=3" in repr(model)
    with pytest.raises(TypeError, match="state_dict"):
        pickle.dumps(model)


def test_without_torch_importing_vecpg_torch_says_what_to_install() -> None:
    code = "import sys; sys.modules['torch'] = None\ntry:\n    import vecpg.torch\nexcept ImportError as e: print(type(e).__name__, e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "MissingDependency vecpg.torch needs PyTorch: pip install 'vecpg[torch]'"


class RetrievalClassifier(torch.nn.Module):
    """Embeds a query, retrieves its neighbours with their vectors and labels, and predicts its
    class as the softmax-weighted vote of the neighbours, the weights recomputed from the
    query embedding (the path the gradient takes: retrieval itself has none)."""

    def __init__(self, retriever: VecpgRetriever, features: int) -> None:
        super().__init__()
        self.encoder = torch.nn.Linear(features, DIM)
        self.retriever = retriever

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.encoder(x)
        hits = self.retriever(q)
        assert hits.vectors is not None
        scores = torch.einsum("bd,bkd->bk", q, hits.vectors).masked_fill(~hits.mask, float("-inf"))
        labels = torch.tensor([[h.metadata["label"] for h in row] for row in hits.results])
        votes = torch.nn.functional.one_hot(labels, CLASSES).float()
        probs = torch.einsum("bk,bkc->bc", torch.softmax(scores, dim=1), votes)
        return torch.log(probs.clamp_min(1e-6))


def test_a_retrieval_augmented_model_learns_through_the_returned_vectors(items: vecpg.Collection) -> None:
    torch.manual_seed(0)
    points, labels = clusters(2000, seed=0)  # the items' distribution: the first 300 are the items
    mixing = np.random.default_rng(7).normal(size=(DIM, DIM)).astype(np.float32)  # queries in another basis
    x, y = torch.from_numpy(points[300:] @ mixing), torch.from_numpy(labels[300:])
    held_out = slice(1600, 1700)
    model = RetrievalClassifier(VecpgRetriever(items, k=8, return_vectors=True), DIM)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)

    def held_out_loss() -> float:
        with torch.no_grad():
            return torch.nn.functional.nll_loss(model(x[held_out]), y[held_out]).item()

    before = held_out_loss()
    for step in range(50):
        batch = slice(32 * step, 32 * step + 32)
        loss = torch.nn.functional.nll_loss(model(x[batch]), y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    after = held_out_loss()
    assert after < 0.7 * before, (before, after)
