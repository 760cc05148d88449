"""LangChain: ``VecpgVectorStore``, a ``langchain_core`` vector store on a vecpg collection, sync
and async, with vecpg's hybrid search, MMR and filters (docs/langchain.md). Needs
``pip install 'vecpg[langchain]'``; ``import vecpg`` never imports LangChain."""

from .integrations.langchain import VecpgVectorStore, to_vecpg_filter

__all__ = ["VecpgVectorStore", "to_vecpg_filter"]
