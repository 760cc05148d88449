"""LangChain's ``VectorStore`` on a vecpg collection, sync and async (docs/langchain.md).

The store holds vectors from the LangChain ``Embeddings`` it is given: its collection has no
model of its own and is created on the first write, with the dimension of the vectors written.
Every search is vecpg's own operation (vector, keyword or hybrid mode; MMR is
``SearchService(mmr=λ)``), built inside the tenant's scope and run by the sync store's runner
or the async store's (``vecpg.connect_async``): one definition, two runners, as in the core API.
Filters in LangChain's operator syntax (langchain-postgres') become vecpg filters; what has no
vecpg equivalent is a ``FilterError``, never ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..errors import CollectionNotFound, FilterError, InvalidArgument, MissingDependency
from ..ops import documents as docs
from ..ops.statement import Operation
from ..search.dispatch import search_query
from ..search.options import MODES
from ..search.results import SearchResult
from ..search.service import SearchService

try:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore
except ImportError as exc:
    raise MissingDependency("vecpg.langchain needs langchain-core: pip install 'vecpg[langchain]'") from exc

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..aio import AsyncCollection, AsyncStore
    from ..collection import Collection
    from ..store import Store

T = TypeVar("T")

DISTANCES = ("cosine", "l2", "ip")
COMPARISONS = ("$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$exists")
_REFUSED = {"$like": "pattern matching", "$ilike": "case-insensitive pattern matching"}


# -- filters ----------------------------------------------------------------------------------
def to_vecpg_filter(filter: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A LangChain metadata filter (langchain-postgres' operators: ``$eq $ne $lt $lte $gt $gte
    $in $nin $between $exists $and $or $not`` and plain equality) as a vecpg filter.

    Every key is a metadata key (``metadata.<key>`` in vecpg, so ``id`` is the metadata's, not the
    document id; dots reach into nested metadata). ``$like``/``$ilike`` and unknown operators
    raise FilterError: vecpg's filter language has no pattern matching, and a filter is never ignored.
    """
    if filter is None or (isinstance(filter, Mapping) and not filter):
        return None
    return _node(filter)


def _node(node: Any) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        raise FilterError(f"a filter must be a dict, got {type(node).__name__}")
    parts: list[dict[str, Any]] = []
    for key, value in node.items():
        if not isinstance(key, str) or not key:
            raise FilterError(f"filter keys must be non-empty strings, got {key!r}")
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)) or not value:
                raise FilterError(f"{key} needs a non-empty list of filters")
            parts.append({key: [_node(v) for v in value]})
        elif key == "$not":
            if isinstance(value, (list, tuple)):  # langchain-postgres: NOT each of them
                if not value:
                    raise FilterError("$not needs a filter or a non-empty list of filters")
                parts.append({key: {"$or": [_node(v) for v in value]}})
            else:
                parts.append({key: _node(value)})
        elif key.startswith("$"):
            raise FilterError(f"unknown filter operator {key} (combine filters with $and, $or, $not)")
        else:
            parts.append(_field(key, value))
    if not parts:
        raise FilterError("a filter must not be empty")
    merged = {k: v for part in parts for k, v in part.items()}
    return merged if len(merged) == sum(map(len, parts)) else {"$and": parts}


def _field(key: str, value: Any) -> dict[str, Any]:
    field = f"metadata.{key}"
    if not (isinstance(value, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in value)):
        return {field: value}  # plain equality
    conditions: list[tuple[str, Any]] = []
    for op, arg in value.items():
        if not isinstance(op, str) or not op.startswith("$"):
            raise FilterError(f"filter on {key!r} mixes operators and plain keys")
        if op in _REFUSED:
            raise FilterError(f"filter on {key!r}: {op} ({_REFUSED[op]}) has no equivalent in vecpg's filter language")
        if op == "$between":
            if not isinstance(arg, (list, tuple)) or len(arg) != 2:
                raise FilterError(f"filter on {key!r}: $between needs [low, high]")
            conditions += [("$gte", arg[0]), ("$lte", arg[1])]
        elif op in COMPARISONS:
            if op in ("$in", "$nin") and not isinstance(arg, (list, tuple)):
                raise FilterError(f"filter on {key!r}: {op} needs a list")
            conditions.append((op, list(arg) if isinstance(arg, tuple) else arg))
        else:
            raise FilterError(f"unknown filter operator {op} on {key!r} "
                              f"(use {', '.join(COMPARISONS)}, $between)")
    ops: dict[str, Any] = {}
    parts: list[dict[str, Any]] = []
    for op, arg in conditions:
        if op == "$in" and arg and not any(isinstance(v, Mapping) for v in arg):  # equalities ORed: the metadata index serves each (vecpg's $in scans)
            parts.append({"$or": [{field: v} for v in arg]} if len(arg) > 1 else {field: arg[0]})
        elif op in ops:  # an operator twice ($between and $gte)
            parts.append({field: {op: arg}})
        else:
            ops[op] = arg
    parts = ([{field: ops}] if ops else []) + parts
    return parts[0] if len(parts) == 1 else {"$and": parts}


# -- the store --------------------------------------------------------------------------------
class _QueryVector:
    """A collection whose ``embed_query`` returns the vector LangChain's embeddings gave the
    query: hybrid search and MMR embed a text query through the collection, which has no model."""

    def __init__(self, collection: Collection, text: str, vector: np.ndarray) -> None:
        self._collection, self._text, self._vector = collection, text, vector

    def embed_query(self, text: str) -> np.ndarray:
        if text != self._text:
            raise InvalidArgument("only the query's own text has a vector here")
        return self._vector

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


class VecpgVectorStore(VectorStore):
    """A LangChain vector store on a vecpg collection (``collection_name``), sync and async.

    Give one of ``url`` (the store connects itself, sync and async, as ``vecpg.connect`` does:
    without a url, to ``VECPG_DATABASE_URL`` or the embedded server; ``close()``/``aclose()``
    close what it opened), ``store`` (a ``vecpg.Store``) or ``async_store`` (a
    ``vecpg.AsyncStore``; its ``sync`` serves the sync methods). ``tenant``: every call acts for
    it. ``distance``: of the collection when this store creates it. ``mode``: how ``similarity_search``
    searches, ``vector``, ``keyword`` (BM25) or ``hybrid`` (both fused; ``alpha`` weights the
    vector list in convex fusion, else vecpg's adaptive fusion); searches also take ``mode=``
    and ``alpha=``. Scores of ``similarity_search_with_score``: the distance in vector mode
    (lower is closer, as in langchain-postgres), vecpg's score otherwise (higher is better).
    """

    def __init__(
        self,
        embedding: Embeddings,
        collection_name: str = "langchain",
        *,
        url: str | None = None,
        store: Store | None = None,
        async_store: AsyncStore | None = None,
        tenant: str | None = None,
        distance: str = "cosine",
        mode: str = "vector",
        alpha: float | None = None,
    ) -> None:
        if url is not None and (store is not None or async_store is not None):
            raise InvalidArgument("give url= or stores, not both")
        if distance not in DISTANCES:
            raise InvalidArgument(f"distance must be one of {', '.join(DISTANCES)}, got {distance!r}")
        self._check_mode(mode, alpha)
        self._embedding = embedding
        self.collection_name = collection_name
        self.tenant = tenant
        self.distance = distance
        self.mode = mode
        self.alpha = alpha
        self._url = url
        self._store = store if store is not None else (async_store.sync if async_store is not None else None)
        self._async_store = async_store
        self._owned: list[Any] = []  # the stores this object opened, closed by close()/aclose()
        self._collection: Collection | None = None
        self._acollection: AsyncCollection | None = None

    @staticmethod
    def _check_mode(mode: str, alpha: float | None) -> None:
        if mode not in MODES:
            raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if alpha is not None and not 0 <= alpha <= 1:
            raise InvalidArgument(f"alpha must be between 0 and 1, got {alpha!r}")

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    # -- connections and the collection -------------------------------------------------------
    def _sync_store(self) -> Store:
        if self._store is None:
            import vecpg

            self._store = vecpg.connect(self._url)
            self._owned.append(self._store)
        return self._store

    async def _astore(self) -> AsyncStore:
        if self._async_store is None:
            import vecpg

            self._async_store = await vecpg.connect_async(self._url or self._sync_store().url)
            self._owned.append(self._async_store)
        return self._async_store

    def _coll(self, dimension: int | None = None) -> Collection | None:
        """The collection; created with ``dimension`` when there is none and one is given, else None."""
        if self._collection is None:
            store = self._sync_store()
            try:
                self._collection = store.collection(self.collection_name)
            except CollectionNotFound:
                if dimension is None:
                    return None
                self._collection = store.get_or_create_collection(self.collection_name, dimension=dimension,
                                                                  distance=self.distance)
        return self._collection

    async def _acoll(self, dimension: int | None = None) -> AsyncCollection | None:
        """``_coll``'s async twin, on the async store."""
        if self._acollection is None:
            store = await self._astore()
            try:
                self._acollection = await store.collection(self.collection_name)
            except CollectionNotFound:
                if dimension is None:
                    return None
                self._acollection = await store.get_or_create_collection(self.collection_name, dimension=dimension,
                                                                         distance=self.distance)
        return self._acollection

    def _run(self, build: Callable[[], Operation[T]]) -> T:
        """An operation built and run acting for the tenant (search reads the tenant when built)."""
        store = self._sync_store()
        return store.scoped(self.tenant, lambda: store.run(build()))

    async def _arun(self, build: Callable[[], Operation[T]]) -> T:
        store = await self._astore()
        return await store.scoped(self.tenant, lambda: store.run(build()))

    def close(self) -> None:
        """Close the stores this object connected (not those it was given); sync stores only."""
        for owned in [s for s in self._owned if not hasattr(s, "sync")]:
            owned.close()
            self._owned.remove(owned)

    async def aclose(self) -> None:
        """Close every store this object connected, async and sync."""
        for owned in reversed(self._owned):
            if hasattr(owned, "sync"):
                await owned.close()
            else:
                owned.close()
        self._owned.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- writes -------------------------------------------------------------------------------
    @staticmethod
    def _rows(texts: list[str], metadatas: list[dict] | None, ids: Sequence[str | None] | None,
              vectors: list[list[float]]) -> list[dict[str, Any]]:
        if metadatas is not None and len(metadatas) != len(texts):
            raise InvalidArgument(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise InvalidArgument(f"{len(ids)} ids for {len(texts)} texts")
        return [{"id": str(ids[i]) if ids is not None and ids[i] is not None else str(uuid.uuid4()),
                 "content": text, "metadata": dict(metadatas[i] or {}) if metadatas else {},
                 "embedding": vectors[i]} for i, text in enumerate(texts)]

    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        """Embed and upsert the texts (a document with an existing id is replaced); their ids,
        generated (UUID4) where none is given. One transaction."""
        texts = list(texts)
        if not texts:
            return []
        rows = self._rows(texts, metadatas, ids, self._embedding.embed_documents(texts))
        coll = self._coll(len(rows[0]["embedding"]))
        assert coll is not None
        return self._sync_store().scoped(self.tenant, lambda: coll.upsert(rows))

    async def aadd_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *,
                         ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        rows = self._rows(texts, metadatas, ids, await self._embedding.aembed_documents(texts))
        coll = await self._acoll(len(rows[0]["embedding"]))
        assert coll is not None
        return await coll.upsert(rows, tenant=self.tenant)

    def delete(self, ids: list[str] | None = None, *, filter: Mapping[str, Any] | None = None,
               **kwargs: Any) -> bool:
        """Delete these ids (missing ones are no error), those matching ``filter``, or both;
        with neither, every document (of the tenant)."""
        coll = self._coll()
        if coll is None or (ids is not None and not ids):
            return True
        flt = to_vecpg_filter(filter)
        self._run(lambda: docs.delete(coll.store.filters, coll.table, None if ids is None else list(map(str, ids)), flt))
        return True

    async def adelete(self, ids: list[str] | None = None, *, filter: Mapping[str, Any] | None = None,
                      **kwargs: Any) -> bool:
        coll = await self._acoll()
        if coll is None or (ids is not None and not ids):
            return True
        flt = to_vecpg_filter(filter)
        await self._arun(lambda: docs.delete(coll.sync.store.filters, coll.table,
                                             None if ids is None else list(map(str, ids)), flt))
        return True

    # -- reads --------------------------------------------------------------------------------
    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order asked; missing ids are left out."""
        coll = self._coll()
        if coll is None or not ids:
            return []
        found = self._sync_store().scoped(self.tenant, lambda: coll.get(list(map(str, ids))))
        return [_document(d.id, d.content, d.metadata) for d in found]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        coll = await self._acoll()
        if coll is None or not ids:
            return []
        found = await coll.get(list(map(str, ids)), tenant=self.tenant)
        return [_document(d.id, d.content, d.metadata) for d in found]

    # -- search -------------------------------------------------------------------------------
    def _plan(self, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        mode = kwargs.pop("mode", self.mode)
        alpha = kwargs.pop("alpha", self.alpha)
        self._check_mode(mode, alpha)
        options = None if alpha is None or mode != "hybrid" else \
            {"method": "convex", "vector_weight": alpha, "keyword_weight": 1 - alpha}
        return mode, options

    def _operation(self, coll: Collection, text: str | None, vector: Any, k: int, filter: Any, mode: str,
                   options: dict[str, Any] | None, mmr: tuple[float, int] | None) -> Operation[list[SearchResult]]:
        """The search: the vector in vector mode, the text otherwise (hybrid's vector beside it)."""
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32)
        target: Any = coll if mode != "hybrid" else _QueryVector(coll, text or "", vector)
        query: Any = vector if mode == "vector" else text
        if mmr is None:
            return search_query(target, query, k, mode=mode, filter=filter, options=options)
        lambda_mult, fetch_k = mmr
        return SearchService(target, mode=mode, k=k, filter=filter, options=options, mmr=lambda_mult,
                             candidates=max(fetch_k, k)).operation(query)

    def _search(self, text: str | None, vector: Any, k: int, filter: Any, kwargs: dict[str, Any],
                mmr: tuple[float, int] | None = None) -> tuple[str, list[SearchResult]]:
        mode, options = self._plan(kwargs)
        flt = to_vecpg_filter(filter)
        if text is None and mode != "vector":
            raise InvalidArgument(f"a search by vector is a vector search, not {mode}")
        coll = self._coll()
        if coll is None:
            return mode, []
        if vector is None and mode != "keyword":
            vector = self._embedding.embed_query(text)  # type: ignore[arg-type]
        return mode, self._run(lambda: self._operation(coll, text, vector, k, flt, mode, options, mmr))

    async def _asearch(self, text: str | None, vector: Any, k: int, filter: Any, kwargs: dict[str, Any],
                       mmr: tuple[float, int] | None = None) -> tuple[str, list[SearchResult]]:
        mode, options = self._plan(kwargs)
        flt = to_vecpg_filter(filter)
        if text is None and mode != "vector":
            raise InvalidArgument(f"a search by vector is a vector search, not {mode}")
        coll = await self._acoll()
        if coll is None:
            return mode, []
        if vector is None and mode != "keyword":
            vector = await self._embedding.aembed_query(text)  # type: ignore[arg-type]
        return mode, await self._arun(lambda: self._operation(coll.sync, text, vector, k, flt, mode, options, mmr))

    @staticmethod
    def _scored(mode: str, hits: list[SearchResult]) -> list[tuple[Document, float]]:
        return [(_document(h.id, h.content, h.metadata),
                 float((h.distance if mode == "vector" else h.score) or 0.0)) for h in hits]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        """The k best documents with their scores: the distance in vector mode, else vecpg's score."""
        return self._scored(*self._search(query, None, k, filter, kwargs))

    async def asimilarity_search_with_score(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                                            **kwargs: Any) -> list[tuple[Document, float]]:
        return self._scored(*await self._asearch(query, None, k, filter, kwargs))

    def similarity_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                          **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                                 **kwargs: Any) -> list[Document]:
        return [d for d, _ in await self.asimilarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Document]:
        kwargs.setdefault("mode", "vector")
        return [d for d, _ in self._scored(*self._search(None, embedding, k, filter, kwargs))]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                           filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Document]:
        kwargs.setdefault("mode", "vector")
        return [d for d, _ in self._scored(*await self._asearch(None, embedding, k, filter, kwargs))]

    def hybrid_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, *,
                      alpha: float | None = None) -> list[Document]:
        """Vector and keyword (BM25) lists fused; ``alpha`` weights the vector list (convex fusion)."""
        return self.similarity_search(query, k, filter, mode="hybrid", alpha=alpha if alpha is not None else self.alpha)

    async def ahybrid_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, *,
                             alpha: float | None = None) -> list[Document]:
        return await self.asimilarity_search(query, k, filter, mode="hybrid",
                                             alpha=alpha if alpha is not None else self.alpha)

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Document]:
        """k documents relevant and unlike each other, picked by vecpg's MMR from ``fetch_k`` candidates."""
        return [d for d, _ in self._scored(*self._search(query, None, k, filter, kwargs, (lambda_mult, fetch_k)))]

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                             lambda_mult: float = 0.5, filter: Mapping[str, Any] | None = None,
                                             **kwargs: Any) -> list[Document]:
        hits = await self._asearch(query, None, k, filter, kwargs, (lambda_mult, fetch_k))
        return [d for d, _ in self._scored(*hits)]

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, filter: Mapping[str, Any] | None = None,
                                                **kwargs: Any) -> list[Document]:
        kwargs.setdefault("mode", "vector")
        return [d for d, _ in self._scored(*self._search(None, embedding, k, filter, kwargs, (lambda_mult, fetch_k)))]

    async def amax_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                       lambda_mult: float = 0.5,
                                                       filter: Mapping[str, Any] | None = None,
                                                       **kwargs: Any) -> list[Document]:
        kwargs.setdefault("mode", "vector")
        hits = await self._asearch(None, embedding, k, filter, kwargs, (lambda_mult, fetch_k))
        return [d for d, _ in self._scored(*hits)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return self._relevance_fn(self.mode)

    def _relevance_fn(self, mode: str) -> Callable[[float], float]:
        """Relevance in [0, 1] from a vector-mode distance; keyword and hybrid scores as they are."""
        if mode != "vector":
            return lambda score: score
        return {"cosine": self._cosine_relevance_score_fn, "l2": self._euclidean_relevance_score_fn,
                "ip": self._max_inner_product_relevance_score_fn}[self.distance]

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                 **kwargs: Any) -> list[tuple[Document, float]]:
        relevance = self._relevance_fn(kwargs.get("mode", self.mode))  # a call's mode, not only the store's
        return [(d, relevance(s)) for d, s in self.similarity_search_with_score(query, k, **kwargs)]

    async def _asimilarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                        **kwargs: Any) -> list[tuple[Document, float]]:
        relevance = self._relevance_fn(kwargs.get("mode", self.mode))
        return [(d, relevance(s)) for d, s in await self.asimilarity_search_with_score(query, k, **kwargs)]

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict] | None = None,
                   *, ids: list[str] | None = None, collection_name: str = "langchain", **kwargs: Any) -> Self:
        """A store (``url=``/``store=`` and the other settings as keywords) holding these texts."""
        vectorstore = cls(embedding, collection_name, **kwargs)
        vectorstore.add_texts(texts, metadatas, ids=ids)
        return vectorstore

    @classmethod
    async def afrom_texts(cls, texts: list[str], embedding: Embeddings,
                          metadatas: list[dict] | None = None, *, ids: list[str] | None = None,
                          collection_name: str = "langchain", **kwargs: Any) -> Self:
        vectorstore = cls(embedding, collection_name, **kwargs)
        await vectorstore.aadd_texts(texts, metadatas, ids=ids)
        return vectorstore


def _document(id: str | None, content: str, metadata: Mapping[str, Any] | None) -> Document:
    return Document(page_content=content, metadata=dict(metadata or {}), id=id)
