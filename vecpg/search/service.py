"""``SearchService``: a search as an application runs it, in stages.

The first stage is ``Collection.search`` in any mode, over-fetching ``candidates`` when a second
stage follows; a reranker then rescores the candidates with the query's text, and maximal
marginal relevance (``mmr=λ``) picks the k that are both relevant and unlike each other. Each
hit keeps its first-stage rank and score beside the reranker's (SearchResult's ``first_rank``,
``first_score``, ``rerank_score``). The RAG pipeline and the HTTP service are built on this
class: its surface is small on purpose (a frozen configuration, ``search`` and ``search_many``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from ..documents import check_k
from ..errors import InvalidArgument
from ..filters import parse_filter
from ..ops.statement import Call, Operation, Steps, steps
from .batch import BatchSearchable, search_many_query
from .dispatch import BACKENDS, search_query
from .mmr import mmr_query
from .options import MODES, MMROptions, Options, options_for
from .results import SearchResult
from .target import Database

if TYPE_CHECKING:
    from ..rerank import Reranker

T = TypeVar("T")


class TenantDatabase(Database, Protocol):
    """A store as the service sees it: search's view, and acting for a tenant."""

    def scoped(self, tenant: str | None, work: Callable[[], T]) -> T: ...


class Served(BatchSearchable, Protocol):
    """A collection as the service sees it (``vecpg.Collection`` is one)."""

    @property
    def store(self) -> TenantDatabase: ...

    @property
    def model(self) -> str | None: ...



@dataclass(frozen=True)
class SearchService:
    """A configured search over one collection.

    ``mode``: ``vector``, ``keyword`` or ``hybrid`` (the default: never worse than vector search
    alone, see docs/keyword-and-hybrid.md). ``filter``: applied to every search, and ANDed with
    a call's own. ``candidates``: how many the first stage fetches when a reranker or MMR
    follows (default 20 or ``4 * k``, whichever is larger). ``reranker``: a ``vecpg.rerank.Reranker`` or the name or local
    path ``vecpg.rerank.get_reranker`` takes. ``mmr``: λ in [0, 1] for maximal marginal relevance
    (1 = relevance only). ``options``: the first stage's search options; ``backend="qdrant"``:
    the first stage through the Qdrant mirror (vector mode).
    """

    collection: Served
    mode: str = "hybrid"
    k: int = 10
    filter: Any = None
    candidates: int | None = None
    reranker: Reranker | str | None = None
    mmr: float | None = None
    options: Options | Mapping[str, Any] | None = None
    backend: str = "postgres"
    _reranker: Reranker | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        check_k(self.k)
        options_for(self.mode, self.options)
        parse_filter(self.filter)
        if self.backend not in BACKENDS:
            raise InvalidArgument(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        MMROptions(mmr=self.mmr, candidates=self.candidates)  # the bounds of both, defined there
        if self.reranker is not None:
            from ..rerank import get_reranker  # the reranker's model loads only when one is asked for

            object.__setattr__(self, "_reranker", get_reranker(self.reranker))

    def with_options(self, **changes: Any) -> SearchService:
        """A copy with some settings changed (``service.with_options(mmr=0.5)``)."""
        return replace(self, **changes)

    def search(self, query: str | Sequence[float] | np.ndarray, k: int | None = None, *, filter: Any = None,
               tenant: str | None = None) -> list[SearchResult]:
        """The k best documents for a text (or a vector, without a reranker), through every stage."""
        return self.run(self.operation(query, k, filter=filter), tenant)

    def search_many(self, queries: Sequence[str | Sequence[float] | np.ndarray], k: int | None = None, *,
                    filter: Any = None, tenant: str | None = None) -> list[list[SearchResult]]:
        """``search`` for each query, in input order: the first stage of the whole batch in one
        statement (``Collection.search_many``), the second stages query by query."""
        return self.run(self.many_operation(queries, k, filter=filter), tenant)

    def operation(self, query: str | Sequence[float] | np.ndarray, k: int | None = None, *,
                  filter: Any = None) -> Operation[list[SearchResult]]:
        """The search as an operation, for a runner of the caller's (the async API's, say)."""
        k, fetch = self._sizes(k, [query])
        first = search_query(self.collection, query, fetch, mode=self.mode, filter=self._filter(filter),
                             options=self.options, backend=self.backend)
        if fetch == k and self._reranker is None and self.mmr is None:
            return first
        return self._stages(first, [query], k, single=True)

    def many_operation(self, queries: Sequence[str | Sequence[float] | np.ndarray], k: int | None = None, *,
                       filter: Any = None) -> Operation[list[list[SearchResult]]]:
        """``search_many`` as an operation."""
        queries = list(queries)
        k, fetch = self._sizes(k, queries)
        first = search_many_query(self.collection, queries, fetch, mode=self.mode, filter=self._filter(filter),
                                  options=self.options, backend=self.backend)
        if self._reranker is None and self.mmr is None:
            return first
        return self._stages(first, queries, k, single=False)

    def _sizes(self, k: int | None, queries: Sequence[Any]) -> tuple[int, int]:
        """The k asked for, and how many the first stage fetches."""
        k = self.k if k is None else k
        check_k(k)
        if self._reranker is not None and not all(isinstance(q, str) for q in queries):
            raise InvalidArgument("a reranker reads the query's text: search with a text, not a vector")
        if self._reranker is None and self.mmr is None:
            return k, k
        # As many candidates as MMR takes by default (20 or 4*k): enough for a reranker to lift
        # a relevant document from below the first page, few enough to score on a CPU.
        return k, MMROptions(candidates=self.candidates).candidates_for(k)

    def _stages(self, first: Operation[Any], queries: list[Any], k: int, single: bool) -> Steps[Any]:
        batch = yield from steps(first)
        answers = []
        for query, hits in zip(queries, [batch] if single else batch):
            answers.append((yield from self._second(query, hits, k)))
        return answers[0] if single else answers

    def _second(self, query: Any, hits: list[SearchResult], k: int) -> Steps[list[SearchResult]]:
        """The reranker and MMR over one query's candidates."""
        for rank, hit in enumerate(hits, 1):
            hit.first_rank, hit.first_score = rank, hit.score
        relevance: list[float] | None = None
        if self._reranker is not None:
            from ..rerank import rerank

            keep = len(hits) if self.mmr is not None else k
            hits = yield Call(rerank, (self._reranker, query, hits, keep))
            relevance = [h.rerank_score for h in hits]  # type: ignore[misc]
        if self.mmr is not None and hits:
            if self.mode != "vector" and relevance is None:
                relevance = [h.score for h in hits]  # type: ignore[misc]
            vector = (yield Call(self.collection.embed_query, (query,))) if isinstance(query, str) else query
            picks = yield mmr_query(self.collection, vector, [h.id for h in hits], relevance, k, self.mmr)
            by_id = {h.id: h for h in hits}
            hits = [by_id[p.id] for p in picks]
        return hits[:k]

    def _filter(self, filter: Any) -> Any:
        own, call = parse_filter(self.filter), parse_filter(filter)
        if own and call:
            return {"$and": [own, call]}
        return own or call or None

    def run(self, op: Operation[T], tenant: str | None = None) -> T:
        """An operation of this service's (or one built on it, as the RAG pipeline's retrieval)
        on the collection's store, for ``tenant`` when given."""
        store = self.collection.store
        return store.scoped(tenant, lambda: store.run(op))
