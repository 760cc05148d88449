"""vecpg: vector search on PostgreSQL, SQL first.

    import vecpg
    store = vecpg.connect()                      # embedded PostgreSQL unless VECPG_DATABASE_URL
    docs = store.get_or_create_collection("docs")
    docs.upsert([{"id": "1", "content": "PostgreSQL stores vectors with pgvector"}])
    docs.search("where do vectors live?", k=5)

Layout: ``store`` and ``collection`` are the library's face; ``search/`` runs the three modes
(``options`` defines every tuning option once, ``statements`` caches what a collection's searches
compose); ``filters`` parses filters and caches their compiled predicates; ``embedding/`` has the
embedders (one module per backend, the registry sharing them, the query cache); ``cli/`` has one module
per command; ``schema/`` applies sql/'s files (incremental, idempotent, history) for the
Alembic revisions and compares catalogs; ``ingest/`` reads CSV, JSONL and Parquet files as streams
and loads them in chunks, each committed with its checkpoint; ``index_builds`` runs the concurrent
index builds SQL cannot run itself and ``index_advice`` suggests and sizes indexes. Features to
come get a package of their own beside these: ``mirror/``, ``worker/``,
``rag/``, ``integrations/``. No module below ``store``/``collection`` imports them.
"""

from .collection import Collection, CollectionInfo
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
    ServerError,
    TenancyNotEnforced,
    ValueRejected,
    VecpgError,
)
from .index_advice import IndexAdvice
from .indexes import HNSW, IndexInfo, IVFFlat, Prewarmed
from .search import HybridOptions, KeywordOptions, SearchResult, VectorOptions
from .store import Store, connect
from .tuning import TuningResult

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "HNSW",
    "Collection",
    "CollectionExists",
    "CollectionInfo",
    "CollectionNotFound",
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
    "Prewarmed",
    "SearchResult",
    "SentenceTransformerEmbedder",
    "ServerError",
    "Store",
    "TenancyNotEnforced",
    "TransformersEmbedder",
    "TuningResult",
    "ValueRejected",
    "VecpgError",
    "VectorOptions",
    "connect",
]
