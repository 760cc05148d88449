"""Haystack 3: ``VecpgDocumentStore``, a DocumentStore on a vecpg collection, and the retriever
components ``VecpgEmbeddingRetriever``, ``VecpgKeywordRetriever`` and ``VecpgHybridRetriever``
(docs/haystack.md). Needs ``pip install 'vecpg[haystack]'``; ``import vecpg`` never imports Haystack."""

from .integrations.haystack import VecpgDocumentStore
from .integrations.haystack_retrievers import VecpgEmbeddingRetriever, VecpgHybridRetriever, VecpgKeywordRetriever

__all__ = ["VecpgDocumentStore", "VecpgEmbeddingRetriever", "VecpgHybridRetriever", "VecpgKeywordRetriever"]
