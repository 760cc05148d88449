"""One search call, whatever its mode: the checks, the query's embedding, and the search that
answers it (PostgreSQL's three modes, chunks, or the Qdrant mirror), as one operation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ..documents import check_k, check_text, check_vector
from ..errors import InvalidArgument
from ..filters import parse_filter
from ..ops.statement import Call, Operation, Steps, steps
from ..storage import STORAGES
from .chunks import chunk_query
from .hybrid import hybrid_query
from .keyword import keyword_query
from .options import Options, options_for
from .results import SearchResult
from .target import SearchTarget
from .vector import FIELDS, vector_query

BACKENDS = ("postgres", "qdrant")


class Searchable(SearchTarget, Protocol):
    """A collection as a search call sees it: search's target that can also embed a text."""

    def embed_query(self, text: str) -> np.ndarray: ...


_CHECKED_FIELDS: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}


def check_fields(include: Iterable[str] | None, mode: str) -> tuple[str, ...]:
    """The document fields a search fetches, in their canonical order."""
    if include is None:
        return FIELDS
    if type(include) is tuple and len(include) <= len(FIELDS):  # the same few tuples, checked once each
        known = _CHECKED_FIELDS.get((include, mode))
        if known is None:
            known = _CHECKED_FIELDS[(include, mode)] = _check_fields(include, mode)
        return known
    return _check_fields(include, mode)


def _check_fields(include: Iterable[str], mode: str) -> tuple[str, ...]:
    if isinstance(include, str):
        raise InvalidArgument("include takes a sequence of field names, not a string")
    asked = set(include)
    unknown = sorted(asked - set(FIELDS))
    if unknown:
        raise InvalidArgument(f"unknown field(s) {', '.join(map(repr, unknown))}: include takes {', '.join(FIELDS)}")
    if mode != "vector" and asked != set(FIELDS):
        raise InvalidArgument("include applies to vector searches")
    return tuple(f for f in FIELDS if f in asked)


def check_backend_of_search(backend: str, mode: str, tuned: bool) -> None:
    """The mirror serves plain vector searches: no options, tuning or chunks (``tuned``)."""
    if backend not in BACKENDS:
        raise InvalidArgument(f"backend must be postgres or qdrant, got {backend!r}")
    if backend == "qdrant" and (mode != "vector" or tuned):
        raise InvalidArgument("the Qdrant mirror serves vector searches without tuning options or chunks")


def search_query(
    collection: Searchable,
    query: str | Sequence[float] | np.ndarray,
    k: int = 10,
    *,
    mode: str = "vector",
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
    backend: str = "postgres",
    chunks: bool = False,
    include: Iterable[str] | None = None,
    tuning: Mapping[str, Any] | None = None,
) -> Operation[list[SearchResult]]:
    """``Collection.search`` as an operation (its docstring says what each argument does): one
    statement for a vector, steps when a text must be embedded first or the mirror is asked."""
    tuning = tuning or {}
    opts = options_for(mode, options, **tuning)  # cheap checks before the model runs
    check_k(k)
    flt = parse_filter(filter)
    check_backend_of_search(backend, mode, bool(options) or chunks or any(v is not None for v in tuning.values()))
    if chunks and mode != "vector":
        raise InvalidArgument("searching by chunks is a vector search: use mode='vector'")
    fields = check_fields(include, mode)
    if mode == "vector":
        if isinstance(query, str) or backend == "qdrant":
            return _vector_steps(collection, query, k, flt, opts, fields, backend, chunks)
        vector = check_vector(query, collection.dimension, largest=STORAGES[collection.storage].largest)
        return chunk_query(collection, vector, k, flt, opts) if chunks else \
            vector_query(collection, vector, k, flt, opts, fields)
    if not isinstance(query, str):
        raise InvalidArgument(f"{mode} search needs a text query")
    check_text(query, "query text")
    if mode == "keyword":
        return keyword_query(collection, query, k, flt, opts)
    return _hybrid_steps(collection, query, k, flt, opts)


def _vector_steps(collection: Searchable, query: Any, k: int, flt: Any, opts: Options, fields: tuple[str, ...],
                  backend: str, chunks: bool) -> Steps[list[SearchResult]]:
    if isinstance(query, str):
        query = yield Call(collection.embed_query, (query,))
    vector = check_vector(query, collection.dimension, largest=STORAGES[collection.storage].largest)
    if backend == "qdrant":
        from ..mirror.search import mirror_search  # the mirror's code loads only when asked for

        hits = yield Call(mirror_search, (collection, vector, k, flt, fields))
        if hits is not None:
            return hits
    if chunks:
        return (yield chunk_query(collection, vector, k, flt, opts))
    return (yield from steps(vector_query(collection, vector, k, flt, opts, fields)))


def _hybrid_steps(collection: Searchable, query: str, k: int, flt: Any, opts: Options) -> Steps[list[SearchResult]]:
    vector = yield Call(collection.embed_query, (query,))
    return (yield from hybrid_query(collection, query, vector, k, flt, opts))
