"""Batch search: many queries in one statement and one round trip, results per query in order.

A round trip and a statement's planning cost about as much as a small search, so a batch
answers far more queries per second than a loop of ``search`` calls (docs/performance.md).
Vector queries go through a LATERAL join that runs the single search's k-NN query once per
vector, each through the vector index (``queries/search_many.sql``; SQL's own is
``vecpg.search_many``); keyword and hybrid queries through a LATERAL join over
``vecpg.keyword_search`` / ``vecpg.hybrid_search``, so each query's results are the single
search's. Text queries are embedded in one batch of the collection's model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from psycopg import sql
from psycopg.types.json import Jsonb

from ..documents import check_k, check_text, check_vector
from ..errors import InvalidArgument
from ..filters import parse_filter
from ..ops.documents import embedding_array
from ..ops.statement import Call, Operation, Result, Statement, Steps
from ..resources import composed
from ..storage import STORAGES
from .dispatch import Searchable, check_backend_of_search
from .options import Options, options_for
from .results import SearchResult, score_of
from .vector import DEFAULT_RERANK, FIELDS, nearest, pgvector_settings, scoped, vector_settings

# The most queries one batch takes (vecpg.search_many has the same bound): a batch holds a
# connection, and its memory, until its last query is answered.
MAX_QUERIES = 1000
_QUERY = sql.SQL("queries.v")  # the query vector of each search in the batch (search_many.sql)
_NO_EMBEDDING = sql.SQL("NULL")

Query = str | Sequence[float] | np.ndarray
Batch = list[list[SearchResult]]


class BatchSearchable(Searchable, Protocol):
    """A collection as a batch search sees it: it also embeds several texts at once."""

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]: ...


def search_many_query(
    collection: BatchSearchable,
    queries: Sequence[Query] | np.ndarray,
    k: int = 10,
    *,
    mode: str = "vector",
    filter: Any = None,
    options: Options | Mapping[str, Any] | None = None,
    vectors: bool = False,
    tuning: Mapping[str, Any] | None = None,
    backend: str = "postgres",
) -> Operation[Batch]:
    """``Collection.search_many`` as an operation: every query checked (and every vector's
    dimension) before a model or the database is asked; then one statement, after one batch of
    the model when there are texts and one compilation when the filter is of a new shape."""
    tuning = tuning or {}
    opts = options_for(mode, options, **tuning)
    check_k(k)
    flt = parse_filter(filter)
    if not isinstance(vectors, bool):
        raise InvalidArgument(f"vectors must be true or false, got {vectors!r}")
    check_backend_of_search(backend, mode, bool(options) or any(v is not None for v in tuning.values()))
    if backend == "qdrant" and vectors:
        # Qdrant keeps cosine vectors normalised: they would not be the stored ones.
        raise InvalidArgument("the Qdrant mirror does not return stored vectors: search PostgreSQL for vectors=True")
    items = _checked(collection, queries, mode)
    known = collection.store.filters.known(flt)
    if items and mode == "vector" and backend == "postgres" and known and not any(isinstance(q, str) for q in items):
        return _vector_batch(collection, items, k, known[0], known[1], bool(flt), opts, vectors)  # type: ignore[arg-type]
    return _steps(collection, items, k, mode, flt, opts, vectors, backend)


def _checked(collection: BatchSearchable, queries: Any, mode: str) -> list[str | np.ndarray]:
    """The queries as a list, texts checked as texts and vectors as the collection's vectors."""
    if isinstance(queries, (str, bytes)) or (isinstance(queries, np.ndarray) and queries.ndim != 2):
        raise InvalidArgument("search_many takes a sequence of queries (texts, vectors, or a 2-D array with a "
                              "vector per row); search takes one")
    try:
        items = list(queries)
    except TypeError:
        raise InvalidArgument(f"search_many takes a sequence of queries, got {type(queries).__name__}") from None
    if len(items) > MAX_QUERIES:
        raise InvalidArgument(f"a batch holds at most {MAX_QUERIES} queries, got {len(items)}: split it")
    largest = STORAGES[collection.storage].largest
    checked: list[str | np.ndarray] = []
    for i, query in enumerate(items):
        if isinstance(query, str):
            checked.append(check_text(query, f"query {i}"))
        elif mode != "vector":
            raise InvalidArgument(f"{mode} search needs text queries: query {i} is a {type(query).__name__}")
        else:
            checked.append(check_vector(query, collection.dimension, f"query {i}", largest=largest))
    return checked


def _steps(collection: BatchSearchable, items: list[str | np.ndarray], k: int, mode: str, flt: dict[str, Any],
           opts: Options, vectors: bool, backend: str = "postgres") -> Steps[Batch]:
    if not items:
        return []
    texts = [q for q in items if isinstance(q, str)]
    embedded: dict[str, np.ndarray] = {}
    if texts and mode != "keyword":
        unique = list(dict.fromkeys(texts))
        embedded = dict(zip(unique, (yield Call(collection.embed_queries, (unique,)))))
    if mode == "keyword":
        return (yield _text_batch(collection, "keyword_search_many", texts, None, k, flt, opts, vectors))
    query_vectors = [embedded[q] if isinstance(q, str) else q for q in items]
    if backend == "qdrant":
        from ..mirror.search import mirror_search_many  # the mirror's code loads only when asked for

        hits = yield Call(mirror_search_many, (collection, query_vectors, k, flt))
        if hits is not None:  # else the mirror is behind, and the collection's rules say PostgreSQL
            return hits
    if mode == "hybrid":
        return (yield _text_batch(collection, "hybrid_search_many", texts, query_vectors, k, flt, opts, vectors))
    where, params = yield from collection.store.filters.compile(flt)
    return (yield _vector_batch(collection, query_vectors, k, where, params, bool(flt), opts, vectors))


def _vector_batch(collection: BatchSearchable, query_vectors: list[np.ndarray], k: int, where: sql.Composable,
                  params: dict[str, Any], filtered: bool, opts: Options, vectors: bool) -> Statement[Batch]:
    """The k-NN searches of a batch of vectors as one statement, with the settings a single
    search of k rows runs with (vector.vector_settings)."""
    where = scoped(collection, where)
    settings, floor = vector_settings(collection, opts, k, filtered)
    rerank = int(settings.get("rerank", DEFAULT_RERANK))
    key = ("many+vectors" if vectors else "many", where.as_bytes(None), (), k, rerank, FIELDS, False)
    statement = collection.statements.vector(key, lambda: composed(
        "search_many", search=nearest(collection, where, k, rerank, FIELDS, _QUERY, vectors)))
    return Statement(statement, {**params, "queries": query_vectors},
                     _by_query(len(query_vectors), _vector_hit(collection.distance, vectors)),
                     pgvector_settings(settings), floor, binary=True)


def _text_batch(collection: BatchSearchable, name: str, texts: list[str], query_vectors: list[np.ndarray] | None,
                k: int, flt: dict[str, Any], opts: Options, vectors: bool) -> Statement[Batch]:
    """Keyword or hybrid searches of a batch as one statement over the single search's SQL
    function: each query's results are that function's."""
    key = (name + ("+vectors" if vectors else ""), b"", (), 0, 0, (), False)  # k is a parameter here
    statement = collection.statements.vector(key, lambda: composed(name, embedding=_embedding(collection, vectors)))
    params: dict[str, Any] = {"texts": texts, "collection": collection.name, "k": k, "filter": Jsonb(flt),
                              "options": Jsonb(opts.given())}
    if query_vectors is not None:
        params["queries"] = query_vectors
    hit = _keyword_hit if query_vectors is None else _hybrid_hit
    # The session's settings as the connection has them (a read: a replica may answer it);
    # vecpg.hybrid_search applies the call's own on top (as hybrid.hybrid_query does).
    return Statement(statement, params, _by_query(len(texts), _with_vector(hit) if vectors else hit), settings={})


def _embedding(collection: BatchSearchable, vectors: bool) -> sql.Composable:
    """The stored embedding of hit ``s`` (ids are the table's primary key), or NULL."""
    if not vectors:
        return _NO_EMBEDDING
    return sql.SQL("(SELECT d.embedding FROM {} AS d WHERE d.id = s.id)").format(collection.statements.table)


Hit = Callable[[tuple[Any, ...]], SearchResult]


def _by_query(count: int, hit: Hit) -> Callable[[Result], Batch]:
    """Rows (query number from 1, then a hit's columns) to each query's hits, in input order."""
    def results(result: Result) -> Batch:
        batch: Batch = [[] for _ in range(count)]
        for row in result.rows:
            batch[row[0] - 1].append(hit(row))
        return batch

    return results


def _vector_hit(metric: str, vectors: bool) -> Hit:
    # Rows: n, id, title, content, metadata, [embedding], distance.
    def hit(r: tuple[Any, ...]) -> SearchResult:
        found = SearchResult(r[1], r[2], r[3] or "", r[4] or {}, r[-1], score_of(r[-1], metric))
        if vectors:
            found.vector = embedding_array(r[5])
        return found

    return hit


def _keyword_hit(r: tuple[Any, ...]) -> SearchResult:
    # As keyword.py's hits: the keyword rank and score beside the score.
    return SearchResult(r[1], r[2], r[3], r[4], None, r[5], keyword_rank=r[6], keyword_score=r[5])


def _hybrid_hit(r: tuple[Any, ...]) -> SearchResult:
    return SearchResult(r[1], r[2], r[3], r[4], None, r[5], r[6], r[7], r[8], r[9])


def _with_vector(hit: Hit) -> Hit:
    def with_vector(r: tuple[Any, ...]) -> SearchResult:
        found = hit(r)
        found.vector = embedding_array(r[-1])
        return found

    return with_vector
