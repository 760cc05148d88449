"""The async collection: ``Collection``'s run-time methods, awaitable.

Each method is the sync one, called on a twin whose runner hands back the operation instead of
running it (after every argument check), then run by the async runner: one definition of every
check and operation, two runners. ``sync`` is the collection for everything else (indexes,
tuning, chunking, the mirror), blocking: call it in a thread from async code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from ..collection import Collection
from ..ops.catalog import CollectionInfo
from ..store import Store


class AsyncStoreLike(Protocol):
    """What the collection uses of ``AsyncStore`` (which imports this module)."""

    sync: Store

    async def run(self, operation: Any) -> Any: ...

    def tenant(self, tenant_id: str) -> AbstractContextManager[Any]: ...


def _awaitable(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    method = getattr(Collection, name)

    @functools.wraps(method)
    async def run(self: AsyncCollection, *args: Any, tenant: str | None = None, **kwargs: Any) -> Any:
        if tenant is None:
            return await self.store.run(getattr(self._builder, name)(*args, **kwargs))
        with self.store.tenant(tenant):
            return await self.store.run(getattr(self._builder, name)(*args, **kwargs))

    return run


class AsyncCollection:
    """Documents of one collection, for asyncio. Get one from ``await store.collection(name)``."""

    def __init__(self, store: AsyncStoreLike, info: CollectionInfo) -> None:
        self.store = store
        self.sync = Collection(store.sync, info)
        self._builder = Collection(store.sync, info)
        self._builder._run = lambda operation: operation  # type: ignore[method-assign,assignment,return-value]

    search = _awaitable("search")
    search_many = _awaitable("search_many")
    upsert = _awaitable("upsert")
    load = _awaitable("load")
    get = _awaitable("get")
    find = _awaitable("find")
    delete = _awaitable("delete")
    count = _awaitable("count")

    # What search reads of a collection (vecpg/search/target.py): the sync twin's.
    info = property(lambda self: self.sync.info)
    name = property(lambda self: self.sync.name)
    dimension = property(lambda self: self.sync.dimension)
    distance = property(lambda self: self.sync.distance)
    model = property(lambda self: self.sync.model)
    quantization = property(lambda self: self.sync.quantization)
    storage = property(lambda self: self.sync.storage)
    search_defaults = property(lambda self: self.sync.search_defaults)
    partitioned = property(lambda self: self.sync.partitioned)
    tenant_scope = property(lambda self: self.sync.tenant_scope)
    statements = property(lambda self: self.sync.statements)
    table = property(lambda self: self.sync.table)

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector of a text (blocking: the model runs here; the operations call it in a thread)."""
        return self.sync.embed_query(text)

    def embed_queries(self, texts: Any) -> list[np.ndarray]:
        return self.sync.embed_queries(texts)

    def __repr__(self) -> str:
        return "Async" + repr(self.sync)
