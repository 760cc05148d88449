"""Search: vector, keyword (BM25) and hybrid; options per mode; typed results; cached statements.

Each mode is an operation (vecpg/ops/statement.py): ``vector_query``, ``keyword_query``,
``hybrid_query`` and ``chunk_query`` build it, ``dispatch.search_query`` is one
``Collection.search`` call; ``store.run(...)`` runs any of them. ``mmr_query`` re-picks a first
stage's candidates for diversity, ``mmr_search_query`` is vector search with it.
"""

from .chunks import chunk_query
from .hybrid import hybrid_query
from .keyword import keyword_query
from .mmr import Pick, mmr_query, mmr_search_query
from .options import MODES, HybridOptions, KeywordOptions, MMROptions, Options, VectorOptions, options_for
from .results import SearchResult, score_of
from .service import SearchService
from .statements import Statements
from .target import SearchTarget
from .vector import FIELDS, search_statement, vector_query

__all__ = [
    "FIELDS",
    "MODES",
    "HybridOptions",
    "KeywordOptions",
    "MMROptions",
    "Options",
    "Pick",
    "SearchResult",
    "SearchService",
    "SearchTarget",
    "Statements",
    "VectorOptions",
    "chunk_query",
    "hybrid_query",
    "keyword_query",
    "mmr_query",
    "mmr_search_query",
    "options_for",
    "score_of",
    "search_statement",
    "vector_query",
]
