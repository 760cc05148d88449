"""A Haystack 3 DocumentStore on a vecpg collection, sync and async (docs/haystack.md).

``VecpgDocumentStore`` keeps Haystack documents in one collection without a model: the vectors
are the ones Haystack's embedders compute, and documents may come without one (they are then
found by keyword search and filters only). The collection is created at the first write, its
dimension the constructor's ``embedding_dimension`` or the first embedding written. Every call
acts for the store's ``tenant`` when it has one. The URL is a Haystack ``Secret`` (an environment
variable by default), so ``to_dict`` never writes it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from ..documents import Document as VecpgDocument
from ..documents import check_vector, prepare
from ..errors import CollectionNotFound, MissingDependency
from ..errors import FilterError as VecpgFilterError
from ..ops import documents as doc_ops
from ..ops import records
from ..ops.statement import Call, Operation, Steps
from ..search.hybrid import hybrid_query
from ..search.keyword import keyword_query
from ..search.options import options_for
from ..search.vector import vector_query
from ..storage import STORAGES

try:
    from haystack import default_from_dict, default_to_dict
    from haystack.dataclasses import Document
    from haystack.document_stores.errors import DuplicateDocumentError
    from haystack.document_stores.types import DuplicatePolicy
    from haystack.errors import FilterError
    from haystack.utils import Secret, deserialize_secrets_inplace
except ImportError as exc:  # pragma: no cover - the extra is installed in the test environment
    raise MissingDependency(f"vecpg.haystack needs Haystack 3: pip install 'vecpg[haystack]' ({exc})") from exc

from .haystack_filters import translate

if TYPE_CHECKING:
    from ..aio import AsyncStore
    from ..aio.collection import AsyncCollection
    from ..collection import Collection
    from ..search.results import SearchResult
    from ..store import Store

T = TypeVar("T")


def _to_haystack(doc: VecpgDocument) -> Document:
    embedding = None if doc.embedding is None else [float(x) for x in doc.embedding]
    return Document(id=doc.id or "", content=doc.content or None, meta=dict(doc.metadata), embedding=embedding)


def _from_result(hit: SearchResult) -> Document:
    return Document(id=hit.id, content=hit.content or None, meta=dict(hit.metadata or {}), score=hit.score)


def _rows_of(documents: Any) -> list[dict[str, Any]]:
    """vecpg's rows for Haystack documents; ValueError for anything else or what vecpg does not keep."""
    if not isinstance(documents, list):
        raise ValueError(f"write_documents takes a list of Documents, got {type(documents).__name__}")  # noqa: TRY004 - Haystack asks ValueError
    rows = []
    for doc in documents:
        if not isinstance(doc, Document):
            raise ValueError(f"write_documents takes Documents, got {type(doc).__name__}")  # noqa: TRY004 - as above
        if doc.blob is not None or doc.sparse_embedding is not None:
            raise ValueError(f"document {doc.id}: VecpgDocumentStore keeps content, meta and a dense embedding; "
                             "it does not store blob or sparse_embedding")
        rows.append({"id": doc.id, "content": doc.content or "", "metadata": doc.meta, "embedding": doc.embedding})
    return rows


def _path(field: str) -> list[str]:
    """A metadata field as Haystack names it ("meta.a.b" or "a.b") as a JSON path."""
    name = field.removeprefix("meta.")
    if not name or "" in name.split("."):
        raise ValueError(f"invalid metadata field {field!r}")
    return name.split(".")


def _field_type(types: list[str]) -> str:
    return types[0] if len(types) == 1 else "mixed"


class VecpgDocumentStore:
    """Haystack documents in a vecpg collection: filters, duplicate policies, and vector, keyword
    (BM25) and hybrid retrieval for ``VecpgEmbeddingRetriever``, ``VecpgKeywordRetriever`` and
    ``VecpgHybridRetriever``. Every method has an ``_async`` twin on vecpg's async API."""

    def __init__(self, *, url: Secret | None = None, collection: str = "haystack_documents",
                 embedding_dimension: int | None = None, distance: str = "cosine", tenant: str | None = None,
                 pool_size: int = 4) -> None:
        self.url = url if url is not None else Secret.from_env_var("VECPG_DATABASE_URL")
        self.collection_name = collection
        self.embedding_dimension = embedding_dimension
        self.distance = distance
        self.tenant = tenant
        self.pool_size = pool_size
        self._store: Store | None = None
        self._async_store: AsyncStore | None = None
        self._collection: Collection | None = None
        self._async_collection: AsyncCollection | None = None

    # -- serialization --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The store's settings; the URL as its Secret's reference (an environment variable), never its value."""
        return default_to_dict(self, url=self.url.to_dict(), collection=self.collection_name,
                               embedding_dimension=self.embedding_dimension, distance=self.distance,
                               tenant=self.tenant, pool_size=self.pool_size)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VecpgDocumentStore:
        deserialize_secrets_inplace(data["init_parameters"], keys=["url"])
        return default_from_dict(cls, data)

    # -- connections ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The vecpg store, connected at first use."""
        if self._store is None:
            from ..store import connect

            self._store = connect(self.url.resolve_value(), pool_size=self.pool_size)
        return self._store

    async def async_store(self) -> AsyncStore:
        """The async vecpg store, connected at first use."""
        if self._async_store is None:
            from ..aio import connect_async

            self._async_store = await connect_async(self.url.resolve_value(), pool_size=self.pool_size)
        return self._async_store

    def close(self) -> None:
        """Close the sync store's connections (``close_async`` closes the async ones)."""
        if self._store is not None:
            self._store.close()
            self._store, self._collection = None, None

    async def close_async(self) -> None:
        if self._async_store is not None:
            await self._async_store.close()
            self._async_store, self._async_collection = None, None

    def _dimension(self, rows: list[dict[str, Any]]) -> int:
        if self.embedding_dimension is not None:
            return self.embedding_dimension
        for row in rows:
            if row["embedding"] is not None:
                return len(row["embedding"])
        raise ValueError(f"collection {self.collection_name!r} does not exist yet and these documents have no "
                         "embedding to give it a dimension: pass embedding_dimension= to VecpgDocumentStore")

    def _sync(self, create_for: list[dict[str, Any]] | None = None) -> Collection | None:
        """The collection; created for ``create_for``'s documents when missing, else None."""
        if self._collection is None:
            try:
                self._collection = self.store.collection(self.collection_name)
            except CollectionNotFound:
                if create_for is None:
                    return None
                self._collection = self.store.get_or_create_collection(
                    self.collection_name, dimension=self._dimension(create_for), distance=self.distance, model=None)
        return self._collection

    async def _async(self, create_for: list[dict[str, Any]] | None = None) -> AsyncCollection | None:
        if self._async_collection is None:
            store = await self.async_store()
            try:
                self._async_collection = await store.collection(self.collection_name)
            except CollectionNotFound:
                if create_for is None:
                    return None
                self._async_collection = await store.get_or_create_collection(
                    self.collection_name, dimension=self._dimension(create_for), distance=self.distance, model=None)
        return self._async_collection

    def _run(self, build: Callable[[Any], Operation[T]], empty: Any,
             create_for: list[dict[str, Any]] | None = None) -> T:
        """Run the operation ``build`` makes for the collection, acting for the tenant; ``empty``
        when there is no collection yet. vecpg's filter errors become Haystack's."""
        collection = self._sync(create_for)
        if collection is None:
            return empty
        try:
            return self.store.scoped(self.tenant, lambda: self.store.run(build(collection)))
        except VecpgFilterError as exc:
            raise FilterError(str(exc)) from exc

    async def _run_async(self, build: Callable[[Any], Operation[T]], empty: Any,
                         create_for: list[dict[str, Any]] | None = None) -> T:
        collection = await self._async(create_for)
        if collection is None:
            return empty
        store: AsyncStore = collection.store  # type: ignore[assignment]
        try:
            return await store.scoped(self.tenant, lambda: store.run(build(collection)))
        except VecpgFilterError as exc:
            raise FilterError(str(exc)) from exc

    # -- the operations, for either runner ------------------------------------------------------
    @staticmethod
    def _count(filters: dict[str, Any] | None) -> Callable[[Any], Operation[int]]:
        flt = translate(filters)
        return lambda c: doc_ops.count(c.store.filters, c.table, flt)

    @staticmethod
    def _filter(filters: dict[str, Any] | None) -> Callable[[Any], Operation[list[VecpgDocument]]]:
        flt = translate(filters)
        return lambda c: records.select(c.store.filters, c.table, flt)

    def _write(self, rows: list[dict[str, Any]], policy: DuplicatePolicy) -> Callable[[Any], Operation[int]]:
        def write(c: Any) -> Steps[int]:
            # queue=True: a document without an embedding is stored without one (no model here).
            checked = yield Call(partial(prepare, tenant=self.tenant, queue=True, largest=STORAGES[c.storage].largest),
                                 (rows, c.dimension, None))
            # One statement for the whole batch: atomic even outside a tenant's transaction.
            if policy == DuplicatePolicy.OVERWRITE:
                yield doc_ops.upsert(c.table, c.store.vector_schema, checked, c.info.key)
                return len({r.id for r in checked})
            conflict = "skip" if policy == DuplicatePolicy.SKIP else "fail"
            return (yield records.insert(c.table, c.store.vector_schema, checked, conflict, c.info.key))

        return write

    @staticmethod
    def _delete(ids: Sequence[str] | None, filters: dict[str, Any] | None = None) -> Callable[[Any], Operation[int]]:
        flt = translate(filters)
        return lambda c: doc_ops.delete(c.store.filters, c.table, None if ids is None else list(ids), flt)

    @staticmethod
    def _update(filters: dict[str, Any], meta: dict[str, Any]) -> Callable[[Any], Operation[int]]:
        if not isinstance(meta, dict):
            raise TypeError(f"meta must be a dictionary, got {type(meta).__name__}")
        flt = translate(filters)
        return lambda c: records.update_metadata(c.store.filters, c.table, flt, meta)

    @staticmethod
    def _duplicate(exc: psycopg.errors.UniqueViolation) -> DuplicateDocumentError:
        detail = exc.diag.message_detail or str(exc)
        return DuplicateDocumentError(f"a document with this id exists already ({detail}); "
                                      "write with policy=DuplicatePolicy.SKIP or OVERWRITE")

    # -- the DocumentStore protocol -------------------------------------------------------------
    def count_documents(self) -> int:
        """How many documents the store holds (the tenant's, with a tenant)."""
        return self._run(self._count(None), 0)

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """The documents matching Haystack ``filters`` (all of them for none), in id order."""
        return [_to_haystack(d) for d in self._run(self._filter(filters), [])]

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        """Write documents; their number written. ``policy`` for an id that exists: FAIL (and NONE)
        raise DuplicateDocumentError and write nothing, SKIP leaves it, OVERWRITE replaces it."""
        rows = _rows_of(documents)
        if not rows:
            return 0
        try:
            return self._run(self._write(rows, policy), 0, create_for=rows)
        except psycopg.errors.UniqueViolation as exc:
            raise self._duplicate(exc) from None

    def delete_documents(self, document_ids: list[str]) -> None:
        """Delete the documents with these ids; ids that do not exist are no error."""
        self._run(self._delete(document_ids), 0)

    # -- beyond the protocol ----------------------------------------------------------------------
    def delete_all_documents(self, recreate_index: bool = False) -> None:
        """Delete every document (the tenant's only, with a tenant). ``recreate_index``: drop the
        collection instead, so that the next write creates it again (not with a tenant, which
        would delete the other tenants' documents too)."""
        if recreate_index:
            if self.tenant is not None:
                raise ValueError("recreate_index drops every tenant's documents: a store acting for a tenant refuses it")
            self.store.drop_collection(self.collection_name, missing_ok=True)
            self._collection = None
            return
        self._run(self._delete(None), 0)

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        """Delete the documents matching ``filters``; their number."""
        return self._run(self._delete(None, filters), 0)

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        """Merge ``meta`` into the metadata of the documents matching ``filters``; their number."""
        return self._run(self._update(filters, meta), 0)

    def count_documents_by_filter(self, filters: dict[str, Any]) -> int:
        return self._run(self._count(filters), 0)

    def count_unique_metadata_by_filter(self, filters: dict[str, Any], metadata_fields: list[str]) -> dict[str, int]:
        """For each field, how many distinct values it takes among the documents matching ``filters``."""
        build = self._unique_counts(filters, metadata_fields)
        return self._run(build, {f: 0 for f in metadata_fields})

    @staticmethod
    def _unique_counts(filters: dict[str, Any], fields: list[str]) -> Callable[[Any], Operation[dict[str, int]]]:
        flt = translate(filters)

        def counts(c: Any) -> Steps[dict[str, int]]:
            out = {}
            for field in fields:
                _, out[field] = yield from records.metadata_values(c.store.filters, c.table, _path(field), flt)
            return out

        return counts

    def get_metadata_fields_info(self) -> dict[str, dict[str, str]]:
        """The metadata keys documents have, each with its JSON type ("mixed" when they differ)."""
        keys = self._run(lambda c: records.metadata_keys(c.store.filters, c.table, None), {})
        return {key: {"type": _field_type(types)} for key, types in keys.items()}

    def get_metadata_field_min_max(self, metadata_field: str) -> dict[str, Any]:
        """The smallest and largest value of a field (numbers when it has any, else strings)."""
        low, high = self._run(lambda c: records.metadata_range(c.store.filters, c.table, _path(metadata_field)),
                              (None, None))
        return {"min": low, "max": high}

    def get_metadata_field_unique_values(self, metadata_field: str, search_term: str | None = None, from_: int = 0,
                                         size: int = 10, filters: dict[str, Any] | None = None) -> tuple[list[Any], int]:
        """A page of a field's distinct values in value order, and how many there are; ``search_term``:
        only values containing it, in any case."""
        flt, path = translate(filters), _path(metadata_field)
        return self._run(lambda c: records.metadata_values(c.store.filters, c.table, path, flt, term=search_term,
                                                           offset=from_, limit=size), ([], 0))

    # -- retrieval, for the retrievers ------------------------------------------------------------
    def _search(self, mode: str, text: str | None, vector: list[float] | None, filters: dict[str, Any] | None,
                top_k: int, alpha: float | None) -> Callable[[Any], Operation[list[SearchResult]]]:
        flt = translate(filters)

        def search(c: Any) -> Operation[list[SearchResult]]:
            if mode == "keyword":
                return keyword_query(c, text, top_k, flt, options_for("keyword", None))  # type: ignore[arg-type]
            checked = check_vector(vector, c.dimension, "query embedding", STORAGES[c.storage].largest)
            if mode == "vector":
                return vector_query(c, checked, top_k, flt, options_for("vector", None))
            options = None if alpha is None else {"method": "convex", "vector_weight": alpha,
                                                  "keyword_weight": 1 - alpha}
            return hybrid_query(c, text, checked, top_k, flt, options)  # type: ignore[arg-type]

        return search

    def _retrieve(self, mode: str, text: str | None = None, vector: list[float] | None = None,
                  filters: dict[str, Any] | None = None, top_k: int = 10, alpha: float | None = None) -> list[Document]:
        return [_from_result(h) for h in self._run(self._search(mode, text, vector, filters, top_k, alpha), [])]

    async def _retrieve_async(self, mode: str, text: str | None = None, vector: list[float] | None = None,
                              filters: dict[str, Any] | None = None, top_k: int = 10,
                              alpha: float | None = None) -> list[Document]:
        hits = await self._run_async(self._search(mode, text, vector, filters, top_k, alpha), [])
        return [_from_result(h) for h in hits]

    # -- async twins ------------------------------------------------------------------------------
    async def count_documents_async(self) -> int:
        return await self._run_async(self._count(None), 0)

    async def filter_documents_async(self, filters: dict[str, Any] | None = None) -> list[Document]:
        return [_to_haystack(d) for d in await self._run_async(self._filter(filters), [])]

    async def write_documents_async(self, documents: list[Document],
                                    policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        rows = _rows_of(documents)
        if not rows:
            return 0
        try:
            return await self._run_async(self._write(rows, policy), 0, create_for=rows)
        except psycopg.errors.UniqueViolation as exc:
            raise self._duplicate(exc) from None

    async def delete_documents_async(self, document_ids: list[str]) -> None:
        await self._run_async(self._delete(document_ids), 0)

    async def delete_all_documents_async(self, recreate_index: bool = False) -> None:
        if recreate_index:
            await asyncio.to_thread(self.delete_all_documents, True)
            self._async_collection = None
            return
        await self._run_async(self._delete(None), 0)

    async def delete_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await self._run_async(self._delete(None, filters), 0)

    async def update_by_filter_async(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        return await self._run_async(self._update(filters, meta), 0)

    async def count_documents_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await self._run_async(self._count(filters), 0)

    async def count_unique_metadata_by_filter_async(self, filters: dict[str, Any],
                                                    metadata_fields: list[str]) -> dict[str, int]:
        return await self._run_async(self._unique_counts(filters, metadata_fields), {f: 0 for f in metadata_fields})

    async def get_metadata_fields_info_async(self) -> dict[str, dict[str, str]]:
        keys = await self._run_async(lambda c: records.metadata_keys(c.store.filters, c.table, None), {})
        return {key: {"type": _field_type(types)} for key, types in keys.items()}

    async def get_metadata_field_min_max_async(self, metadata_field: str) -> dict[str, Any]:
        path = _path(metadata_field)
        low, high = await self._run_async(lambda c: records.metadata_range(c.store.filters, c.table, path),
                                          (None, None))
        return {"min": low, "max": high}

    async def get_metadata_field_unique_values_async(self, metadata_field: str, search_term: str | None = None,
                                                     from_: int = 0, size: int = 10,
                                                     filters: dict[str, Any] | None = None) -> tuple[list[Any], int]:
        flt, path = translate(filters), _path(metadata_field)
        return await self._run_async(lambda c: records.metadata_values(c.store.filters, c.table, path, flt,
                                                                       term=search_term, offset=from_, limit=size),
                                     ([], 0))
