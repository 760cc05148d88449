"""A LlamaIndex vector store on a vecpg collection: ``VecpgVectorStore`` (docs/llamaindex.md).

Nodes are stored as LlamaIndex's own stores store them (``node_to_metadata_dict``): the text is
the document's content, the metadata holds the node's metadata at its top level (so filters and
``delete(ref_doc_id)`` read it) beside ``_node_content``, the rest of the node (relationships,
ref_doc_id, templates) as JSON, from which ``metadata_dict_to_node`` rebuilds it. Queries: dense
(``default``), ``hybrid`` (vecpg's fusion of the vector and BM25 lists, convex with weights
``alpha`` and ``1 - alpha`` when alpha is given), ``text_search``/``sparse`` (BM25) and ``mmr``.
The store acts for one tenant when given one, in every call, sync and async.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..documents import check_vector
from ..errors import CollectionNotFound, InvalidArgument, MissingDependency
from ..filters import parse_filter
from ..search import hybrid_query, options_for
from ..search.mmr import mmr_search_query
from ..search.results import SearchResult
from ..storage import STORAGES
from .llamaindex_filters import to_vecpg_filter

try:
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.schema import BaseNode, MetadataMode, TextNode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
except ImportError as exc:
    raise MissingDependency("vecpg.llamaindex needs LlamaIndex: pip install 'vecpg[llamaindex]'") from exc

if TYPE_CHECKING:
    from ..aio import AsyncCollection, AsyncStore
    from ..collection import Collection
    from ..store import Store

T = TypeVar("T")
_KEYWORD_MODES = (VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.SPARSE)
_EVERYTHING: dict[str, Any] = {"id": {"$nin": []}}  # a filter every document matches (delete refuses none)


class VecpgVectorStore(BasePydanticVectorStore):
    """LlamaIndex's vector store interface over one vecpg collection.

    ``collection``: its name; created on the first ``add`` if missing, with ``embed_dim`` (else
    the first node's embedding length) and ``distance``. ``url`` or ``store`` (a ``vecpg.Store``)
    say where; ``async_store`` (a ``vecpg.AsyncStore``) serves the async methods, else one is
    opened on first use on the same database. ``tenant``: every call acts for this tenant.
    """

    stores_text: bool = True
    flat_metadata: bool = False
    collection_name: str
    embed_dim: int | None = None
    distance: str = "cosine"
    tenant: str | None = None

    _store: Store | None = PrivateAttr(default=None)
    _astore: AsyncStore | None = PrivateAttr(default=None)
    _url: str | None = PrivateAttr(default=None)
    _owned: list[Any] = PrivateAttr(default_factory=list)
    _astore_loop: asyncio.AbstractEventLoop | None = PrivateAttr(default=None)
    _coll: Collection | None = PrivateAttr(default=None)
    _acoll: AsyncCollection | None = PrivateAttr(default=None)

    def __init__(self, collection: str = "llamaindex", *, url: str | None = None, store: Store | None = None,
                 async_store: AsyncStore | None = None, embed_dim: int | None = None, distance: str = "cosine",
                 tenant: str | None = None) -> None:
        super().__init__(collection_name=collection, embed_dim=embed_dim, distance=distance,  # type: ignore[call-arg]
                         tenant=tenant)
        self._store = store if store is not None else (async_store.sync if async_store is not None else None)
        self._astore = async_store
        self._url = url

    @classmethod
    def class_name(cls) -> str:
        return "VecpgVectorStore"

    @property
    def client(self) -> Store:
        """The vecpg store (opened on first use when the vector store was given a URL)."""
        if self._store is None:
            from ..store import connect

            self._store = connect(self._url)
            self._owned.append(self._store)
        return self._store

    async def aclient(self) -> AsyncStore | None:
        """The async vecpg store for this event loop: the one given, else one opened on first
        use on the sync store's database, for the loop of the main thread that opened it. An
        async pool belongs to its loop, and LlamaIndex runs some work in short-lived loops of its
        own, in worker threads (``use_async=True``): None there, and the async methods run the
        sync ones in a thread instead of leaving a pool in a loop about to close."""
        if self._astore is not None and self._astore_loop is None:
            return self._astore  # given: the caller's loop
        loop = asyncio.get_running_loop()
        if self._astore is not None and self._astore_loop is loop:
            return self._astore
        if threading.current_thread() is not threading.main_thread():
            return None
        if self._astore is not None:
            if not self._astore_loop.is_closed():  # type: ignore[union-attr]
                return None  # another loop's, still running
            self._owned.remove(self._astore)  # its loop has ended, its pool with it
            self._astore.sync.close()
        from ..aio import connect_async

        url = self._url if self._url is not None or self._store is None else self._store.url
        self._astore, self._astore_loop, self._acoll = await connect_async(url), loop, None
        self._owned.append(self._astore)
        return self._astore

    def close(self) -> None:
        """Close the stores this vector store opened (not those it was given); ``aclose`` for
        an async one."""
        if any(hasattr(owned, "sync") for owned in self._owned):
            raise InvalidArgument("this vector store opened an async store: await aclose() instead")
        while self._owned:
            self._owned.pop().close()

    async def aclose(self) -> None:
        """Close the stores this vector store opened, async ones included."""
        while self._owned:
            owned = self._owned.pop()
            result = owned.close()
            if result is not None:
                await result

    # -- the collection ---------------------------------------------------------------------
    def _collection(self, create_for: Sequence[BaseNode] = ()) -> Collection | None:
        if self._coll is None:
            try:
                self._coll = self.client.collection(self.collection_name)
            except CollectionNotFound:
                if not create_for:
                    return None
                self._coll = self.client.get_or_create_collection(self.collection_name, **self._settings(create_for))
        return self._coll

    async def _acollection(self, astore: AsyncStore,
                           create_for: Sequence[BaseNode] = ()) -> AsyncCollection | None:
        if self._acoll is None:
            try:
                self._acoll = await astore.collection(self.collection_name)
            except CollectionNotFound:
                if not create_for:
                    return None
                self._acoll = await astore.get_or_create_collection(self.collection_name,
                                                                    **self._settings(create_for))
        return self._acoll

    def _scoped(self, work: Callable[[], T]) -> T:
        return self.client.scoped(self.tenant, work)

    def _settings(self, nodes: Sequence[BaseNode]) -> dict[str, Any]:
        dimension = self.embed_dim if self.embed_dim is not None else len(nodes[0].get_embedding())
        return {"dimension": dimension, "distance": self.distance, "model": None}

    # -- writes -----------------------------------------------------------------------------
    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Store nodes with their embeddings; returns their ids (a node stored again is replaced)."""
        if not nodes:
            return []
        documents = [self._document(n) for n in nodes]
        coll = self._collection(create_for=nodes)
        assert coll is not None
        return self._scoped(lambda: coll.upsert(documents))

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.add, nodes)
        if not nodes:
            return []
        documents = [self._document(n) for n in nodes]
        coll = await self._acollection(astore, create_for=nodes)
        assert coll is not None
        return await astore.scoped(self.tenant, lambda: coll.upsert(documents))

    def _document(self, node: BaseNode) -> dict[str, Any]:
        if node.embedding is None:
            raise InvalidArgument(f"node {node.node_id!r} has no embedding: embed it first (VectorStoreIndex does)")
        return {"id": node.node_id, "content": node.get_content(metadata_mode=MetadataMode.NONE),
                "metadata": node_to_metadata_dict(node, remove_text=True, flat_metadata=self.flat_metadata),
                "embedding": node.get_embedding()}

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete the nodes of a source document."""
        coll = self._collection()
        if coll is not None:
            self._scoped(lambda: coll.delete(filter={"metadata.ref_doc_id": ref_doc_id}))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.delete, ref_doc_id)
        coll = await self._acollection(astore)
        if coll is not None:
            await astore.scoped(self.tenant, lambda: coll.delete(filter={"metadata.ref_doc_id": ref_doc_id}))

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        """Delete the nodes with these ids, matching the filters, or both (those matching both)."""
        ids, flt = _selection(node_ids, filters, "delete_nodes")
        coll = self._collection()
        if coll is not None and ids != []:
            self._scoped(lambda: coll.delete(ids, filter=flt or None))

    async def adelete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                            **delete_kwargs: Any) -> None:
        ids, flt = _selection(node_ids, filters, "delete_nodes")
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.delete_nodes, node_ids, filters)
        coll = await self._acollection(astore)
        if coll is not None and ids != []:
            await astore.scoped(self.tenant, lambda: coll.delete(ids, filter=flt or None))

    def clear(self) -> None:
        """Delete every node (of the tenant, with one); the collection stays."""
        coll = self._collection()
        if coll is not None:
            self._scoped(lambda: coll.delete(filter=_EVERYTHING))

    async def aclear(self) -> None:
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.clear)
        coll = await self._acollection(astore)
        if coll is not None:
            await astore.scoped(self.tenant, lambda: coll.delete(filter=_EVERYTHING))

    # -- reads ------------------------------------------------------------------------------
    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        """The nodes with these ids, matching the filters, or both; ids in the order asked."""
        ids, flt = _selection(node_ids, filters, "get_nodes")
        coll = self._collection()
        if coll is None or ids == []:
            return []
        found = self.client.scoped(self.tenant, lambda: coll.find(flt, ids=ids))
        return [_node(str(d.id), d.content, d.metadata, d.embedding) for d in found]

    async def aget_nodes(self, node_ids: list[str] | None = None,
                         filters: MetadataFilters | None = None) -> list[BaseNode]:
        ids, flt = _selection(node_ids, filters, "get_nodes")
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.get_nodes, node_ids, filters)
        coll = await self._acollection(astore)
        if coll is None or ids == []:
            return []
        found = await astore.scoped(self.tenant, lambda: coll.find(flt, ids=ids))
        return [_node(str(d.id), d.content, d.metadata, d.embedding) for d in found]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Dense, hybrid, text-search (BM25) or MMR search, as ``query.mode`` says."""
        plan = _plan(query)
        coll = self._collection()
        if coll is None:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        store = self.client
        hits = store.scoped(self.tenant, lambda: plan(coll, store.run))
        return _result(hits)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        plan = _plan(query)
        astore = await self.aclient()
        if astore is None:
            return await asyncio.to_thread(self.query, query)
        coll = await self._acollection(astore)
        if coll is None:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])

        async def run() -> list[SearchResult]:
            return await plan(coll, astore.run)  # type: ignore[no-any-return]

        return _result(await astore.scoped(self.tenant, run))


def _selection(node_ids: list[str] | None, filters: MetadataFilters | None,
               method: str) -> tuple[list[str] | None, dict[str, Any]]:
    flt = to_vecpg_filter(filters)
    if node_ids is None and not flt and method == "delete_nodes":
        raise InvalidArgument("delete_nodes needs node_ids or filters (clear() deletes every node)")
    return (None if node_ids is None else list(node_ids)), flt


def _plan(query: VectorStoreQuery) -> Callable[[Any, Callable[[Any], Any]], Any]:
    """What a query runs, checked before any round trip: a function of the collection and a
    runner (the sync store's or the async one's) returning the hits, or an awaitable of them."""
    parts = [to_vecpg_filter(query.filters)]
    # Empty lists restrict nothing: VectorIndexRetriever passes [] for a store that holds the text.
    if query.node_ids:
        parts.append({"id": {"$in": list(query.node_ids)}})
    if query.doc_ids:
        parts.append({"metadata.ref_doc_id": {"$in": list(query.doc_ids)}})
    parts = [p for p in parts if p]
    flt = parse_filter(parts[0] if len(parts) == 1 else {"$and": parts}) if parts else {}
    try:
        mode = VectorStoreQueryMode(query.mode)
    except ValueError:
        raise InvalidArgument(f"unknown query mode {query.mode!r}") from None
    k = query.similarity_top_k
    if mode in _KEYWORD_MODES:
        text = _text(query)
        k = query.sparse_top_k or k
        return lambda coll, run: coll.search(text, k, mode="keyword", filter=flt)
    vector = _vector(query)
    if mode == VectorStoreQueryMode.DEFAULT:
        return lambda coll, run: coll.search(vector, k, mode="vector", filter=flt)
    if mode == VectorStoreQueryMode.HYBRID:
        text = _text(query)
        k = query.hybrid_top_k or k
        # Each list gives at least what LlamaIndex asked of it (dense: similarity_top_k, sparse:
        # sparse_top_k), and never fewer than vecpg's default of 4 * k.
        candidates = min(max(4 * k, query.similarity_top_k, query.sparse_top_k or 0), 1000)
        settings: dict[str, Any] = {"candidates": candidates}
        if query.alpha is not None:
            if not 0 <= query.alpha <= 1:
                raise InvalidArgument(f"alpha must be between 0 (keyword only) and 1 (vector only), got {query.alpha}")
            settings |= {"method": "convex", "vector_weight": query.alpha, "keyword_weight": 1 - query.alpha}
        options = options_for("hybrid", settings)
        return lambda coll, run: run(hybrid_query(coll, text, _checked(vector, coll), k, flt, options))
    if mode == VectorStoreQueryMode.MMR:
        lam = 0.5 if query.mmr_threshold is None else query.mmr_threshold
        return lambda coll, run: run(mmr_search_query(coll, vector, k, lam, None, flt))
    raise InvalidArgument(f"query mode {mode.value!r} is not supported by vecpg "
                          "(use default, hybrid, text_search, sparse or mmr)")


def _text(query: VectorStoreQuery) -> str:
    if not query.query_str:
        raise InvalidArgument(f"query mode {VectorStoreQueryMode(query.mode).value!r} needs query_str")
    return query.query_str


def _vector(query: VectorStoreQuery) -> np.ndarray:
    if query.query_embedding is None:
        raise InvalidArgument(f"query mode {VectorStoreQueryMode(query.mode).value!r} needs query_embedding")
    return np.asarray(query.query_embedding, dtype=np.float32)


def _checked(vector: np.ndarray, coll: Any) -> np.ndarray:
    return check_vector(vector, coll.dimension, largest=STORAGES[coll.storage].largest)


def _result(hits: list[SearchResult]) -> VectorStoreQueryResult:
    nodes = [_node(h.id, h.content, h.metadata, None) for h in hits]
    scores = [float(h.score) if h.score is not None else -float(h.distance or 0.0) for h in hits]
    return VectorStoreQueryResult(nodes=nodes, similarities=scores, ids=[h.id for h in hits])


def _node(id: str, content: str, metadata: dict[str, Any], embedding: Any) -> BaseNode:
    """The node as LlamaIndex stored it, else (a document written otherwise) a TextNode of it."""
    if "_node_content" in metadata:
        node = metadata_dict_to_node(metadata, text=content)
    else:
        node = TextNode(id_=id, text=content, metadata=metadata)
    if embedding is not None:
        node.embedding = [float(x) for x in np.asarray(embedding, dtype=np.float32)]
    return node
