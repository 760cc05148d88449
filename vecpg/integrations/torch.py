"""A retriever as a ``torch.nn.Module``: a batch of queries in, the k nearest documents of each
out as tensors, from one batch search (one round trip per batch).

Retrieval is a lookup, not a differentiable function: no gradient reaches the index or flows
through the returned scores. A model learns through retrieval by recomputing the scores from
its own query embedding and the returned vectors, ``torch.einsum('bd,bkd->bk', q, vectors)``
(docs/ml-frameworks.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import InvalidArgument, MissingDependency
from .retrieval import Padded, Retrieval

try:
    import torch
except ImportError as exc:
    raise MissingDependency("vecpg.torch needs PyTorch: pip install 'vecpg[torch]'") from exc

if TYPE_CHECKING:
    from ..collection import Collection
    from ..search.options import Options
    from ..search.results import SearchResult


class Retrieved(NamedTuple):
    """What a ``VecpgRetriever`` returns for a batch of B queries.

    ``ids``: the hits' ids, a list per query (shorter than k when a query found fewer).
    ``scores``: ``[B, k]``, higher is better (the similarity; -distance for l2; BM25 or the
    fused score in keyword and hybrid modes), -inf where there is no hit, so a softmax over a
    row gives padding no weight. ``mask``: bool ``[B, k]``, True where there is a hit.
    ``vectors``: ``[B, k, d]`` stored embeddings, zeros where there is no hit; None unless the
    retriever was made with ``return_vectors=True``. ``results``: the hits as ``SearchResult``s
    (content, metadata...), a list per query.
    """

    ids: list[list[str]]
    scores: torch.Tensor
    mask: torch.Tensor
    vectors: torch.Tensor | None
    results: list[list[SearchResult]]


class VecpgRetriever(torch.nn.Module):
    """The k nearest documents of each query in a batch, as tensors.

    ``forward(queries)`` takes a list of texts (embedded by the collection's model, in one batch)
    or a ``[B, d]`` float tensor of query embeddings (vector mode), and returns ``Retrieved``.
    ``mode``, ``filter``, ``options`` and ``tenant`` are those of ``Collection.search``, checked
    here, once. Every forward is one ``Collection.search_many`` call: one statement and one round
    trip per batch (per 1,000 queries beyond that).

    Tensors come back on the query tensor's device, in its floating dtype; for texts, on the
    device and in the dtype of the module (``retriever.to(...)`` moves it; float32 on the CPU by
    default). The search runs under ``torch.no_grad`` on a detached CPU copy of the queries:
    retrieval is not differentiable, with respect to the index or the queries, and the returned
    scores carry no gradient. To learn through retrieval, ask for the vectors and recompute the
    scores from the query embedding: ``torch.einsum('bd,bkd->bk', q, out.vectors)`` (the
    returned scores exactly, for an ``ip`` collection), masking padding with ``out.mask``.

    The module holds no parameters and adds nothing to ``state_dict``; ``copy.deepcopy`` of a
    model shares the retriever's collection. Pickling the whole model (``torch.save(model)``)
    fails, as a connection cannot be pickled: save the ``state_dict`` instead.
    """

    _place: torch.Tensor

    def __init__(self, collection: Collection, k: int = 10, *, mode: str = "vector", filter: Any = None,
                 options: Options | Mapping[str, Any] | None = None, return_vectors: bool = False,
                 tenant: str | None = None) -> None:
        super().__init__()
        self.retrieval = Retrieval.checked(collection, k, mode, filter, options, return_vectors, tenant,
                                           "VecpgRetriever")
        # Follows .to(device/dtype): where texts' results go (a query tensor's go where it is).
        self.register_buffer("_place", torch.empty(0), persistent=False)

    @property
    def collection(self) -> Collection:
        return self.retrieval.collection

    @property
    def k(self) -> int:
        return self.retrieval.k

    def forward(self, queries: Sequence[str] | torch.Tensor) -> Retrieved:
        with torch.no_grad():
            searched, device, dtype = self._queries(queries)
            found = self.retrieval(searched)
            return _tensors(found, device, dtype)

    def _queries(self, queries: Any) -> tuple[Sequence[str] | np.ndarray, torch.device, torch.dtype]:
        if isinstance(queries, torch.Tensor):
            if queries.ndim != 2:
                raise InvalidArgument(f"VecpgRetriever takes a [B, d] tensor of query embeddings, got shape "
                                      f"{list(queries.shape)} (one query: q.unsqueeze(0))")
            dtype = queries.dtype if queries.is_floating_point() else torch.float32
            return queries.detach().to("cpu", torch.float32).numpy(), queries.device, dtype
        if isinstance(queries, (str, bytes)) or not isinstance(queries, (list, tuple)):
            raise InvalidArgument(f"VecpgRetriever takes a list of query texts or a [B, d] tensor, got "
                                  f"{type(queries).__name__}")
        return queries, self._place.device, self._place.dtype

    def extra_repr(self) -> str:
        r = self.retrieval
        parts = [f"collection={r.collection.name!r}", f"k={r.k}", f"mode={r.mode!r}"]
        parts += [f"filter={r.filter!r}"] if r.filter else []
        parts += [f"tenant={r.tenant!r}"] if r.tenant is not None else []
        return ", ".join(parts + ([f"return_vectors={r.vectors}"] if r.vectors else []))


def _tensors(found: Padded, device: torch.device, dtype: torch.dtype) -> Retrieved:
    vectors = None if found.vectors is None else torch.from_numpy(found.vectors).to(device, dtype)
    return Retrieved(found.ids, torch.from_numpy(found.scores).to(device, dtype),
                     torch.from_numpy(found.mask).to(device), vectors, found.results)
