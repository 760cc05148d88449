"""LlamaIndex: ``VecpgVectorStore``, a vector store on a vecpg collection (docs/llamaindex.md).
Needs ``pip install 'vecpg[llamaindex]'``; ``import vecpg`` never imports LlamaIndex."""

from .integrations.llamaindex import VecpgVectorStore
from .integrations.llamaindex_filters import to_vecpg_filter

__all__ = ["VecpgVectorStore", "to_vecpg_filter"]
