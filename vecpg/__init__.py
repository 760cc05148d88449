"""vecpg: vector search on PostgreSQL, SQL first.

    import vecpg
    store = vecpg.connect()                      # embedded PostgreSQL unless VECPG_DATABASE_URL
    docs = store.get_or_create_collection("docs")
    docs.upsert([{"id": "1", "content": "PostgreSQL stores vectors with pgvector"}])
    docs.search("where do vectors live?", k=5)

The face of the library is ``store`` and ``collection``; every operation they run is data
(``ops/``) executed by the store's runner; ``search/``, ``index/``, ``embedding/``, ``db/``,
``schema/``, ``mirror/``, ``worker/``, ``ingest/`` and ``cli/`` hold the parts. docs/design.md
has the map and the reasons.
"""

from .aio import AsyncCollection, AsyncStore, connect_async
from .collection import Collection
from .documents import Document
from .embedding import (
    BACKENDS,
    DEFAULT_MODEL,
    Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    TransformersEmbedder,
)
from .errors import (
    CollectionExists,
    CollectionNotFound,
    ConnectTimeout,
    DimensionMismatch,
    FilterError,
    InputFileError,
    InvalidArgument,
    InvalidDocument,
    InvalidVector,
    MirrorError,
    MissingDependency,
    NotMigrated,
    PermissionDenied,
    PoolTimeout,
    ServerError,
    StatementTimeout,
    TenancyNotEnforced,
    ValueRejected,
    VecpgError,
)
from .index.advice import IndexAdvice
from .index.specs import HNSW, IndexInfo, IVFFlat, Prewarmed
from .index.tuning import TuningResult
from .ops.catalog import CollectionInfo
from .search import HybridOptions, KeywordOptions, SearchResult, SearchService, VectorOptions
from .store import Store, connect

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "HNSW",
    "AsyncCollection",
    "AsyncStore",
    "Collection",
    "CollectionExists",
    "CollectionInfo",
    "CollectionNotFound",
    "ConnectTimeout",
    "DimensionMismatch",
    "Document",
    "Embedder",
    "FilterError",
    "HybridOptions",
    "IVFFlat",
    "IndexAdvice",
    "IndexInfo",
    "InputFileError",
    "InvalidArgument",
    "InvalidDocument",
    "InvalidVector",
    "KeywordOptions",
    "MirrorError",
    "MissingDependency",
    "NotMigrated",
    "OnnxEmbedder",
    "PermissionDenied",
    "PoolTimeout",
    "Prewarmed",
    "SearchResult",
    "SearchService",
    "SentenceTransformerEmbedder",
    "ServerError",
    "StatementTimeout",
    "Store",
    "TenancyNotEnforced",
    "TransformersEmbedder",
    "TuningResult",
    "ValueRejected",
    "VecpgError",
    "VectorOptions",
    "connect",
    "connect_async",
]
