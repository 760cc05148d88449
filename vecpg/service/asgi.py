"""The ASGI application of ``vecpg serve`` (FastAPI): routes in the manner of Qdrant's REST API.

Each request authenticates its key (keys.py), is checked against the limits (limits.py), and
runs its database work as the key's tenant and scope's role under the statement timeout, in a
worker thread, cancelled when the client leaves (running.py). Errors are JSON (problems.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..collection import Collection
from ..db import migrate
from ..db.acting import Acting
from ..errors import Forbidden, InvalidArgument, Unauthorized, VecpgError
from ..ops.catalog import CollectionInfo
from ..rag import RAG, Answer
from ..search import SearchService
from . import keys as api_keys
from .limits import Limits
from .models import (
    AskRequest,
    BatchSearchRequest,
    CollectionSpec,
    DeleteRequest,
    SearchRequest,
    SearchSettings,
    UpsertRequest,
)
from .problems import ApiError, answer, on_exception, on_http_exception
from .running import run

log = logging.getLogger("vecpg.service")
STATIC = Path(__file__).parent / "static"
ROLES = {"read": "vecpg_reader", "write": "vecpg_writer", "admin": None}  # admin: the service's own role
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large", f"the request body is larger than {limit:,} bytes")


class BodyLimit:
    """ASGI middleware: refuses a body past ``limit`` bytes, by its Content-Length or as it arrives."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await answer(BodyTooLarge(self.limit))(scope, receive, send)
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


class AccessLog:
    """ASGI middleware: one log line per request (method, path, status, key id, milliseconds) and
    its metrics. Plain ASGI: Starlette's ``@app.middleware("http")`` costs a quarter of a
    millisecond a request (docs/notes/2026-12-07-service-bench.md)."""

    def __init__(self, app: Any, metrics: Any = None) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            key = scope.get("state", {}).get("key", "-")  # request.state, set by the key's check
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s %s key=%s %.1fms", scope["method"], scope["path"], status, key, 1000 * seconds)
            if self.metrics is not None:
                labels = (scope["method"], getattr(scope.get("route"), "path", "unmatched"), str(status))
                self.metrics.http.labels(*labels).observe(seconds)
                if status >= 400:
                    self.metrics.http_failures.labels(*labels).inc()


class Principal:
    """Who a request acts for: its key (None when the service runs without keys)."""

    def __init__(self, key: api_keys.ApiKey | None) -> None:
        self.key = key

    def require(self, scope: str, collection: str | None = None) -> None:
        if self.key is not None and not self.key.allows(scope, collection):
            what = f" on collection {collection!r}" if collection and self.key.collection else ""
            raise Forbidden(f"API key {self.key.id} ({self.key.scope}) may not do this{what}: it needs {scope}")

    def acting(self, limits: Limits, store: Any) -> Acting | None:
        """What the request's transactions run as. None without a key when the store's
        connections carry a statement timeout already (``vecpg serve`` connects with the
        limit's): such a request needs no transaction of its own, a round trip less."""
        timeout = ("statement_timeout", str(int(limits.statement_timeout * 1000)))
        if self.key is None:
            return None if store.timeouts.statement is not None else Acting(settings=(timeout,))
        return Acting(self.key.tenant, ROLES[self.key.scope], (timeout, ("vecpg.api_key", self.key.id)))


def presented_key(request: Request) -> str | None:
    """The key in ``Authorization: Bearer KEY`` or Qdrant's ``api-key: KEY``."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must read: Bearer <API key>")
        return value.strip()
    return request.headers.get("api-key")


def body_schema(model: type[BaseModel], extra: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route that parses its body itself (to bound it first)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    extra.update(schema.pop("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def app(store: Any, *, keys: bool = True, limits: Limits | None = None, llm: Any = None,
        rerankers: Mapping[str, Any] | None = None, console: bool = True, metrics: Any = None) -> FastAPI:
    """The service over ``store``. ``keys=False`` serves every request without a key, as no
    tenant (for loopback only: ``vecpg serve`` refuses it elsewhere). ``llm``: the model of
    ``/ask`` (a ``vecpg.rag.llm.LLM``, a callable, or what ``vecpg ask --llm`` takes; None:
    ``VECPG_LLM`` or the offline model, loaded on the first question). ``rerankers``: the names
    a search may ask for, each a reranker or what ``vecpg.rerank.get_reranker`` takes.
    ``metrics``: a ``vecpg.metrics.Metrics`` to serve at ``/metrics`` (admin keys) and to count
    requests into; None: ``/metrics`` answers 404."""
    limits = limits or Limits()
    schemas: dict[str, Any] = {}
    models: dict[str, Any] = {}
    collections: dict[str, tuple[float, Collection]] = {}
    api = FastAPI(title="vecpg", version=__version__, docs_url="/docs", redoc_url=None,
                  description="Vector, keyword and hybrid search and cited answers over PostgreSQL collections.")
    api.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    api.add_middleware(AccessLog, metrics=metrics)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="vecpg-serve")

    def call(request: Request, acting: Acting | None, work: Callable[[], T]) -> Awaitable[T]:
        return run(request, store, acting, work, executor)
    api.add_exception_handler(HTTPException, on_http_exception)
    # Expected errors through the exception middleware (the connection stays open); the rest
    # through the server-error one, which answers and then lets the server log the traceback.
    for kind in (VecpgError, ApiError, Exception):
        api.add_exception_handler(kind, on_exception)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "api-key": {"type": "apiKey", "in": "header", "name": "api-key"}}
            schema["security"] = [{"bearer": []}, {"api-key": []}]
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]

    async def parsed(request: Request, model: type[M]) -> M:
        raw = await request.body()
        try:
            return model.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "body"
            raise ApiError(400, "invalid_request", f"{where}: {first.get('msg', 'invalid')}") from None

    async def principal(request: Request, scope: str, collection: str | None = None) -> Principal:
        presented = presented_key(request)
        if not keys:
            return Principal(None)
        if presented is None:
            raise Unauthorized("an API key is required: Authorization: Bearer <key> or api-key: <key>")
        if len(presented) > 200:
            raise Unauthorized("the API key is not valid")
        key = await call(request, None, lambda: store.run(api_keys.verify(presented)))
        who = Principal(key)
        who.require(scope, collection)
        request.state.key = key.id
        return who

    def collection(name: str) -> Collection:
        # Looked up once a second at most: a request should not pay a catalog query.
        cached = collections.get(name)
        if cached is None or time.monotonic() - cached[0] > 1.0:
            cached = (time.monotonic(), store.collection(name))
            collections[name] = cached
        return cached[1]

    def reranker(name: str | None) -> Any:
        if name is None:
            return None
        if rerankers is None or name not in rerankers:
            offered = ", ".join(sorted(rerankers or {})) or "none"
            raise InvalidArgument(f"no reranker {name!r} on this service (offered: {offered})")
        return rerankers[name]

    def service(name: str, settings: SearchSettings) -> SearchService:
        limits.check_k(settings.k)
        limits.check_filter(settings.filter)
        limits.check_filter(settings.options)
        return SearchService(collection(name), mode=settings.mode, k=settings.k, filter=settings.filter,
                             reranker=reranker(settings.reranker), mmr=settings.mmr, options=settings.options)

    def language_model() -> Any:
        if "llm" not in models:
            from ..rag.llm import as_llm
            from ..rag.llm.resolve import llm_for

            models["llm"] = llm_for(llm) if llm is None or isinstance(llm, str) else as_llm(llm)
        return models["llm"]

    # -- health ---------------------------------------------------------------------------------
    @api.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["health"], summary="Readiness: the database answers and is migrated to head (or beyond)")
    async def readyz(request: Request) -> JSONResponse:
        try:
            revision = await call(request, None, lambda: store.run(migrate.revision()))
        except Exception as exc:  # noqa: BLE001 - not ready, whatever the reason
            return JSONResponse({"status": "unavailable", "error": {"type": "database_unreachable",
                                                                    "message": " ".join(str(exc).split())}},
                                status_code=503)
        head = migrate.head()
        # A database ahead of this process (migrated for the code that replaces it, revisions are
        # additive) keeps it ready until it is replaced: else every old replica would leave the
        # load balancer at once, before a new one is up. Behind: not ready.
        ready = revision is not None and revision >= head
        body = {"status": "ready" if ready else "not_migrated", "revision": revision, "head": head}
        if ready and revision != head:
            body["schema"] = "ahead"
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/metrics", tags=["health"], summary="Prometheus metrics (admin keys)")
    async def metrics_text(request: Request) -> Response:
        await principal(request, "admin")
        if metrics is None:
            raise ApiError(404, "not_found", "metrics are off: vecpg serve turns them on (vecpg.metrics.enable)")
        text = await call(request, None, metrics.text)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- collections ----------------------------------------------------------------------------
    def info(coll: Collection | CollectionInfo, count: int | None = None) -> dict[str, Any]:
        described = {"name": coll.name, "dimension": coll.dimension, "distance": coll.distance,
                     "model": coll.model, "storage": coll.storage}
        return described if count is None else {**described, "count": count}

    @api.get("/collections", tags=["collections"], summary="The collections this key may use")
    async def list_collections(request: Request) -> JSONResponse:
        who = await principal(request, "read")
        found = await call(request, who.acting(limits, store), store.list_collections)
        allowed = [i for i in found if who.key is None or who.key.allows("read", i.name)]
        return JSONResponse({"collections": [info(i) for i in allowed]})

    @api.get("/collections/{name}", tags=["collections"], summary="A collection, with the documents this key sees")
    async def get_collection(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "read", name)

        def work() -> dict[str, Any]:
            coll = collection(name)
            return info(coll, coll.count())

        return JSONResponse(await call(request, who.acting(limits, store), work))

    @api.put("/collections/{name}", tags=["collections"], status_code=201, summary="Create a collection (admin)",
             openapi_extra=body_schema(CollectionSpec, schemas))
    async def create_collection(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "admin", name)
        spec = await parsed(request, CollectionSpec)

        def work() -> dict[str, Any]:
            coll = store.create_collection(name, dimension=spec.dimension, distance=spec.distance,
                                           model=spec.model, storage=spec.storage)
            collections.pop(name, None)
            return info(coll, 0)

        return JSONResponse(await call(request, who.acting(limits, store), work), status_code=201)

    @api.delete("/collections/{name}", tags=["collections"], summary="Drop a collection and its documents (admin)")
    async def drop_collection(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "admin", name)

        def work() -> bool:
            collections.pop(name, None)
            return store.drop_collection(name)

        return JSONResponse({"dropped": await call(request, who.acting(limits, store), work)})

    # -- documents ------------------------------------------------------------------------------
    @api.put("/collections/{name}/documents", tags=["documents"], summary="Insert or replace documents",
             openapi_extra=body_schema(UpsertRequest, schemas))
    async def upsert(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "write", name)
        given = await parsed(request, UpsertRequest)
        limits.check_count(len(given.documents), "documents", limits.max_documents)
        documents = [{**d.model_dump(exclude_none=True), **({"id": str(d.id)} if d.id is not None else {})}
                     for d in given.documents]
        for document in documents:
            limits.check_filter(document.get("metadata"))
        ids = await call(request, who.acting(limits, store), lambda: collection(name).upsert(documents))
        return JSONResponse({"upserted": len(ids), "ids": ids})

    @api.get("/collections/{name}/documents/{doc_id}", tags=["documents"], summary="A document by id")
    async def get_document(name: str, doc_id: str, request: Request) -> JSONResponse:
        who = await principal(request, "read", name)
        found = await call(request, who.acting(limits, store), lambda: collection(name).get([doc_id]))
        if not found:
            raise ApiError(404, "document_not_found", f"no document {doc_id!r} in collection {name!r}")
        document = found[0]
        return JSONResponse({"id": document.id, "title": document.title, "content": document.content,
                             "metadata": document.metadata,
                             "created_at": document.created_at.isoformat() if document.created_at else None,
                             "updated_at": document.updated_at.isoformat() if document.updated_at else None})

    @api.post("/collections/{name}/documents/delete", tags=["documents"], summary="Delete documents by ids or filter",
              openapi_extra=body_schema(DeleteRequest, schemas))
    async def delete(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "write", name)
        given = await parsed(request, DeleteRequest)
        if given.ids is None and given.filter is None:
            raise InvalidArgument("give ids, a filter, or both (those matching both are deleted)")
        limits.check_count(len(given.ids or []), "ids", limits.max_documents)
        limits.check_filter(given.filter)
        ids = [str(i) for i in given.ids] if given.ids is not None else None
        deleted = await call(request, who.acting(limits, store),
                            lambda: collection(name).delete(ids, filter=given.filter))
        return JSONResponse({"deleted": deleted})

    # -- search ---------------------------------------------------------------------------------
    @api.post("/collections/{name}/search", tags=["search"], summary="Search in any mode",
              openapi_extra=body_schema(SearchRequest, schemas))
    async def search(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "read", name)
        given = await parsed(request, SearchRequest)
        hits = await call(request, who.acting(limits, store), lambda: service(name, given).search(given.query))
        return JSONResponse({"results": [hit.to_dict() for hit in hits]})

    @api.post("/collections/{name}/search/batch", tags=["search"], summary="Many searches in one request",
              openapi_extra=body_schema(BatchSearchRequest, schemas))
    async def search_batch(name: str, request: Request) -> JSONResponse:
        who = await principal(request, "read", name)
        given = await parsed(request, BatchSearchRequest)
        limits.check_count(len(given.queries), "queries", limits.max_batch)
        batches = await call(request, who.acting(limits, store),
                            lambda: service(name, given).search_many(given.queries))
        return JSONResponse({"results": [[hit.to_dict() for hit in hits] for hits in batches]})

    # -- ask ------------------------------------------------------------------------------------
    @api.post("/collections/{name}/ask", tags=["ask"], summary="A cited answer from the collection's documents",
              openapi_extra=body_schema(AskRequest, schemas))
    async def ask(name: str, request: Request) -> Response:
        who = await principal(request, "read", name)
        given = await parsed(request, AskRequest)
        settings = SearchSettings(k=given.k, mode=given.mode, filter=given.filter, reranker=given.reranker,
                                  mmr=None, options=None)
        model = await call(request, None, language_model)
        rag = RAG(service(name, settings), model, token_budget=given.token_budget, max_tokens=given.max_tokens)
        # The transaction holds for retrieval only; the model writes outside it.
        prepared: Answer = await call(request, who.acting(limits, store), lambda: rag.prepare(given.question))
        if not given.stream:
            done = await call(request, None, lambda: rag.complete(prepared))
            return JSONResponse(done.to_dict())
        return StreamingResponse(events(rag.generate(prepared)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # -- console --------------------------------------------------------------------------------
    if console and STATIC.is_dir():
        @api.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(STATIC / "index.html")

        api.mount("/static", StaticFiles(directory=STATIC), name="static")

    return api


def events(pieces: Iterator[str | Answer]) -> Iterator[str]:
    """Server-sent events of an answer: ``token`` events, then one ``answer`` (or ``error``)."""
    try:
        for piece in pieces:
            if isinstance(piece, Answer):
                yield f"event: answer\ndata: {json.dumps(piece.to_dict())}\n\n"
            else:
                yield f"event: token\ndata: {json.dumps({'text': piece})}\n\n"
    except Exception as exc:  # noqa: BLE001 - the status is sent already: the error goes in the stream
        yield f"event: error\ndata: {bytes(answer(exc).body).decode()}\n\n"
