"""Search: vector, keyword (BM25) and hybrid; options per mode; typed results; cached statements."""

from .chunks import chunk_search
from .hybrid import hybrid_search
from .keyword import keyword_search
from .options import MODES, HybridOptions, KeywordOptions, Options, VectorOptions, options_for
from .results import SearchResult, score_of
from .statements import Statements
from .target import SearchTarget
from .vector import FIELDS, search_statement, vector_search

__all__ = [
    "FIELDS",
    "MODES",
    "HybridOptions",
    "KeywordOptions",
    "Options",
    "SearchResult",
    "SearchTarget",
    "Statements",
    "VectorOptions",
    "chunk_search",
    "hybrid_search",
    "keyword_search",
    "options_for",
    "score_of",
    "search_statement",
    "vector_search",
]
