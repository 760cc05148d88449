"""Haystack retriever components over a ``VecpgDocumentStore``: by embedding (vector search), by
keywords (BM25, a document matching some of the query's words is found) and hybrid (both lists
fused; ``alpha`` weights the vector list against the keyword list, convex fusion)."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.types import FilterPolicy, apply_filter_policy

from .haystack import VecpgDocumentStore


class _Retriever:
    """What the three retrievers share: the store, default filters, top_k and serialization."""

    def __init__(self, *, document_store: VecpgDocumentStore, filters: dict[str, Any] | None = None,
                 top_k: int = 10, filter_policy: str | FilterPolicy = FilterPolicy.REPLACE) -> None:
        if not isinstance(document_store, VecpgDocumentStore):
            raise TypeError("document_store must be a VecpgDocumentStore")
        self.document_store = document_store
        self.filters = filters or {}
        self.top_k = top_k
        self.filter_policy = FilterPolicy.from_str(filter_policy) if isinstance(filter_policy, str) else filter_policy

    def _filters(self, runtime: dict[str, Any] | None) -> dict[str, Any] | None:
        return apply_filter_policy(self.filter_policy, self.filters, runtime)

    def _settings(self) -> dict[str, Any]:
        return {"filters": self.filters, "top_k": self.top_k, "filter_policy": self.filter_policy.value}

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, document_store=self.document_store.to_dict(), **self._settings())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        params = data["init_parameters"]
        params["document_store"] = VecpgDocumentStore.from_dict(params["document_store"])
        return default_from_dict(cls, data)


@component
class VecpgEmbeddingRetriever(_Retriever):
    """The ``top_k`` documents nearest a query embedding (the collection's distance)."""

    @component.output_types(documents=list[Document])
    def run(self, query_embedding: list[float], filters: dict[str, Any] | None = None,
            top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": self.document_store._retrieve("vector", vector=query_embedding,
                                                           filters=self._filters(filters), top_k=top_k or self.top_k)}

    @component.output_types(documents=list[Document])
    async def run_async(self, query_embedding: list[float], filters: dict[str, Any] | None = None,
                        top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": await self.document_store._retrieve_async(
            "vector", vector=query_embedding, filters=self._filters(filters), top_k=top_k or self.top_k)}


@component
class VecpgKeywordRetriever(_Retriever):
    """The ``top_k`` best documents for a text by BM25: documents holding any of its words, the
    more (and rarer) the better."""

    @component.output_types(documents=list[Document])
    def run(self, query: str, filters: dict[str, Any] | None = None,
            top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": self.document_store._retrieve("keyword", text=query, filters=self._filters(filters),
                                                           top_k=top_k or self.top_k)}

    @component.output_types(documents=list[Document])
    async def run_async(self, query: str, filters: dict[str, Any] | None = None,
                        top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": await self.document_store._retrieve_async(
            "keyword", text=query, filters=self._filters(filters), top_k=top_k or self.top_k)}


@component
class VecpgHybridRetriever(_Retriever):
    """The ``top_k`` best documents for a text and its embedding: the vector and keyword lists
    fused in the database. ``alpha`` (0 to 1): the vector list's weight in convex fusion of
    normalised scores, the keyword list's being 1 - alpha; None: vecpg's default fusion."""

    def __init__(self, *, document_store: VecpgDocumentStore, filters: dict[str, Any] | None = None,
                 top_k: int = 10, filter_policy: str | FilterPolicy = FilterPolicy.REPLACE,
                 alpha: float | None = None) -> None:
        # @component makes a new class of this one: a bare super() would not find it
        _Retriever.__init__(self, document_store=document_store, filters=filters, top_k=top_k,
                            filter_policy=filter_policy)
        if alpha is not None and not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
        self.alpha = alpha

    def _settings(self) -> dict[str, Any]:
        return {**_Retriever._settings(self), "alpha": self.alpha}

    @component.output_types(documents=list[Document])
    def run(self, query: str, query_embedding: list[float], filters: dict[str, Any] | None = None,
            top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": self.document_store._retrieve("hybrid", text=query, vector=query_embedding,
                                                           filters=self._filters(filters), top_k=top_k or self.top_k,
                                                           alpha=self.alpha)}

    @component.output_types(documents=list[Document])
    async def run_async(self, query: str, query_embedding: list[float], filters: dict[str, Any] | None = None,
                        top_k: int | None = None) -> dict[str, list[Document]]:
        return {"documents": await self.document_store._retrieve_async(
            "hybrid", text=query, vector=query_embedding, filters=self._filters(filters),
            top_k=top_k or self.top_k, alpha=self.alpha)}
