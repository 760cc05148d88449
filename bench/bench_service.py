"""The HTTP service under concurrent clients: ``vecpg serve`` against Chroma's own server
(``chroma run``), with vecpg's in-process ``collection.search`` as the reference; and the
per-request cost of FastAPI against plain Starlette on uvicorn (issue 23).

Run by hand (not a test), from the repository root:

    VECPG_HOME=$(mktemp -d) python bench/bench_service.py [--n 100000] [--queries 300] [--seconds 10] \\
        [--clients 1,4,16] [--chroma-bin /work/venv-chroma/bin/chroma] [--vecpg-ef 100] [--parts service,frameworks]

Data: ``--n`` clustered 384-d vectors (bench/common.py: 200 centres, seed 7; data seed 1, queries
seed 2), ids ``0..n-1``, content ``point <i>``. vecpg: a collection (384-d, cosine) in the
embedded server, loaded with ``collection.load``, HNSW with vecpg's defaults (m 16,
ef_construction 64; ef_search 40 at search time). Chroma: a collection with cosine space and
its default HNSW settings (max_neighbors 16, ef_construction 100, ef_search 100), loaded
through its REST API in batches. Chroma lives in a virtualenv of its own (it pins many
packages): ``python3.11 -m venv /work/venv-chroma && /work/venv-chroma/bin/pip install chromadb``.

Each server runs as a subprocess on 127.0.0.1. Clients: N threads of this process, each with
its own ``httpx.Client`` (the same library for both servers), each sending one search after
another for ``--warmup`` seconds (not counted) then ``--seconds`` seconds (counted); the
request bodies are encoded before the clock starts and every response is parsed. vecpg:
``POST /collections/{name}/search`` with ``{"query": [floats], "k": 10, "mode": "vector"}``
(hits with id, title, content, metadata, distance and the other fields of
``SearchResult.to_dict()``); Chroma: ``POST .../collections/{id}/query`` with
``query_embeddings`` and ``n_results`` 10, including documents, metadatas and distances. The
in-process reference is the same loop calling ``collection.search(vector, k=10,
mode="vector")`` from N threads (the store's pool: 4 connections). Recall@10 of each system
is measured on the responses of one untimed pass over the query set against exact neighbours.
``--vecpg-ef 100`` also runs vecpg's server with ef_search 100 set as the collection's search
default (Chroma's ef_search), a recall-matched row.

``frameworks``: two apps with the same endpoints, one in FastAPI, one in plain Starlette, each on
uvicorn in its own process: ``GET /healthz`` returning ``{"status": "ok"}`` and a search-shaped
``POST /collections/{name}/search`` that parses the 384-float body (FastAPI: a pydantic model)
and returns 10 fixed hits, each endpoint as ``async def`` and as ``def`` (run in the thread
pool, as a synchronous store call would be); and the FastAPI app again with one pass-through
``@app.middleware("http")`` (Starlette's BaseHTTPMiddleware). QPS, p50 and p99 at 1 and 4
clients. uvicorn picks uvloop and httptools when they are installed (``uvicorn[standard]``),
else asyncio and h11: the table's title says which; run the part with another environment's
python to compare.

Prints markdown tables; writes bench/results/service.json. With ``--standin-too``, the least a
FastAPI endpoint can do for the same search (this file's ``--standin`` app: the route calling
``collection.search``, nothing else) runs beside ``vecpg serve``, and the same endpoint with the
pieces vecpg serve adds (``store.acting``, then ``vecpg.service.running.run``), and vecpg's own
app with its ``@app.middleware("http")`` layers taken out: where the service's cost per request
goes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered, ground_truth

NAME = "bench_service"
K = 10
CHROMA_BATCH = 5000
CHROMA_BASE = "/api/v2/tenants/default_tenant/databases/default_database"
HERE = Path(__file__).resolve()

# One search as a client makes it: query number in, ids of the hits out.
Caller = Callable[[int], list[str]]
# Called once per client thread: its caller and what closes it.
Factory = Callable[[], tuple[Caller, Callable[[], None]]]


@dataclass
class Measured:
    system: str
    clients: int
    requests: int
    qps: float
    p50_ms: float
    p99_ms: float


def bench_env() -> dict[str, str]:
    """This process's environment with bench/ importable (uvicorn --factory bench_service:...)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(command: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None,
           timeout: float = 120) -> Iterator[subprocess.Popen[bytes]]:
    """A server process that answers ``ready_url`` with a 2xx; stopped (SIGTERM, then SIGKILL) at exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode}; see {log}")
            try:
                if httpx.get(ready_url, timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} not ready after {timeout:.0f} s; see {log}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def drive(factory: Factory, n_queries: int, clients: int, seconds: float, warmup: float) -> list[float]:
    """``clients`` threads, each with its own caller, searching back to back; the latencies of
    the requests that start and end inside the ``seconds`` after the warm-up."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    begin = threading.Barrier(clients + 1)
    timing: dict[str, float] = {}

    def work(slot: int) -> None:
        try:
            call, close = factory()
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)
            begin.abort()
            return
        try:
            begin.wait()
            mine, i = latencies[slot], slot * n_queries // clients
            while True:
                start = time.perf_counter()
                if start >= timing["end"]:
                    break
                call(i % n_queries)
                done = time.perf_counter()
                if start >= timing["start"] and done <= timing["end"]:
                    mine.append(done - start)
                i += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close()

    threads = [threading.Thread(target=work, args=(slot,), daemon=True) for slot in range(clients)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    timing.update(start=now + warmup, end=now + warmup + seconds)
    try:
        begin.wait()
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(repr(errors[0])) from errors[0]
    return [x for part in latencies for x in part]


def rotate(systems: dict[str, Factory], n_queries: int, clients: int, seconds: float, warmup: float,
           rounds: int) -> list[Measured]:
    """Each system runs ``rounds`` blocks of ``seconds / rounds``, the order rotating from round
    to round: on a shared machine, load that comes and goes then falls on every system alike."""
    names = list(systems)
    spent: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            try:
                spent[name] += drive(systems[name], n_queries, clients, seconds / rounds, warmup)
            except RuntimeError as exc:
                raise RuntimeError(f"{name}, {clients} clients: {exc}") from exc
    out = []
    for name, every in spent.items():
        every.sort()
        out.append(Measured(name, clients, len(every), round(len(every) / seconds, 1),
                            round(1e3 * statistics.median(every), 3),
                            round(1e3 * every[min(len(every) - 1, int(0.99 * len(every)))], 3)))
    return out


def recall(found: list[list[str]], truth: list[set[int]]) -> float:
    return round(float(np.mean([len({int(x) for x in f} & t) / K for f, t in zip(found, truth)])), 4)


# -- vecpg ------------------------------------------------------------------------------------
def vecpg_collection(data: np.ndarray, reuse: bool) -> Any:
    import vecpg

    store = vecpg.connect()
    if reuse and NAME in {c.name for c in store.list_collections()}:
        coll = store.collection(NAME)
        if coll.count() == len(data) and coll.indexes():
            return store, coll
    store.drop_collection(NAME, missing_ok=True)
    coll = store.create_collection(NAME, dimension=DIM, distance="cosine")
    coll.load(({"id": str(i), "content": f"point {i}", "embedding": v} for i, v in enumerate(data)),
              progress=True, total=len(data))
    coll.create_index(vecpg.HNSW(), progress=True)
    return store, coll


def vecpg_command(port: int, workers: int) -> list[str]:
    """``vecpg serve`` without keys (loopback), this source tree's vecpg."""
    return [sys.executable, "-c", "from vecpg.cli import main; main()", "serve", "--no-keys", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]


def standin_command(port: int) -> list[str]:
    return [sys.executable, str(HERE), "--standin", "--port", str(port)]


def vecpg_caller(base: str, bodies: list[bytes], prefix: str = "") -> Factory:
    def factory() -> tuple[Caller, Callable[[], None]]:
        client = httpx.Client(base_url=base, timeout=60, headers={"content-type": "application/json"})

        def call(i: int) -> list[str]:
            r = client.post(f"{prefix}/collections/{NAME}/search", content=bodies[i])
            r.raise_for_status()
            return [hit["id"] for hit in r.json()["results"]]
        return call, client.close
    return factory


def in_process_caller(coll: Any, queries: np.ndarray) -> Factory:
    def factory() -> tuple[Caller, Callable[[], None]]:
        return (lambda i: [h.id for h in coll.search(queries[i], k=K, mode="vector")]), (lambda: None)
    return factory


# The stand-in's routes: the minimal endpoint, then with what vecpg serve adds, one piece at a time.
STANDIN_ROUTES = {"": "minimal FastAPI endpoint (stand-in)",
                  "/acting": "stand-in + store.acting (statement_timeout per transaction)",
                  "/run": "stand-in + vecpg.service.running.run (acting, anyio thread, disconnect watch)"}


def standin_app() -> Any:
    """The least a FastAPI endpoint can do for a search (what the harness measured before
    ``vecpg serve`` landed): the route of the contract calling ``collection.search`` in FastAPI's
    thread pool, no keys, tenants, limits or disconnect watch; and the same under ``/acting``
    (inside ``store.acting`` with the service's statement timeout) and ``/run`` (through the
    service's ``running.run``): where vecpg serve's cost over the minimal endpoint goes."""
    from fastapi import FastAPI

    import vecpg
    from vecpg.db.acting import Acting
    from vecpg.service.running import run

    store = vecpg.connect()
    acting = Acting(settings=(("statement_timeout", "10000"),))
    collections: dict[str, Any] = {}
    app = FastAPI()

    def search_in(name: str, body: dict[str, Any]) -> list[Any]:
        coll = collections.get(name) or collections.setdefault(name, store.collection(name))
        return list(coll.search(body["query"], k=body.get("k", 10), mode=body.get("mode", "vector")))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/collections/{name}/search")
    def search(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"results": [h.to_dict() for h in search_in(name, body)]}

    @app.post("/acting/collections/{name}/search")
    def search_acting(name: str, body: dict[str, Any]) -> dict[str, Any]:
        with store.acting(acting):
            return {"results": [h.to_dict() for h in search_in(name, body)]}

    @app.post("/run/collections/{name}/search")
    async def search_run(name: str, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        hits = await run(request, store, acting, lambda: search_in(name, body))
        return JSONResponse({"results": [h.to_dict() for h in hits]})

    return app


def service_without_http_middleware() -> Any:
    """vecpg's service app (``vecpg.service.app``, no keys, the default limits, a pool of 8 as
    vecpg serve has) with its ``@app.middleware("http")`` layers (BaseHTTPMiddleware) taken
    out: what they cost per request, by difference with ``vecpg serve``."""
    from starlette.middleware.base import BaseHTTPMiddleware

    import vecpg
    from vecpg.service import app

    served = app(vecpg.connect(pool_size=8), keys=False)
    served.user_middleware = [m for m in served.user_middleware if m.cls is not BaseHTTPMiddleware]
    return served


# -- Chroma -----------------------------------------------------------------------------------
def chroma_collection(base: str, data: np.ndarray) -> str:
    """The id of Chroma's collection holding ``data`` (loaded now unless it already does)."""
    with httpx.Client(base_url=base + CHROMA_BASE, timeout=600) as client:
        r = client.post("/collections", json={"name": NAME, "get_or_create": True,
                                              "configuration": {"hnsw": {"space": "cosine"}}})
        r.raise_for_status()
        cid = str(r.json()["id"])
        have = int(client.get(f"/collections/{cid}/count").json())
        if have != len(data):
            for lo in tqdm(range(have, len(data), CHROMA_BATCH), desc="Chroma add"):
                hi = min(lo + CHROMA_BATCH, len(data))
                r = client.post(f"/collections/{cid}/add", json={
                    "ids": [str(i) for i in range(lo, hi)], "embeddings": data[lo:hi].tolist(),
                    "documents": [f"point {i}" for i in range(lo, hi)]})
                r.raise_for_status()
        return cid


def chroma_caller(base: str, cid: str, bodies: list[bytes]) -> Factory:
    def factory() -> tuple[Caller, Callable[[], None]]:
        client = httpx.Client(base_url=base + CHROMA_BASE, timeout=60, headers={"content-type": "application/json"})

        def call(i: int) -> list[str]:
            r = client.post(f"/collections/{cid}/query", content=bodies[i])
            r.raise_for_status()
            return list(r.json()["ids"][0])
        return call, client.close
    return factory


# -- FastAPI against Starlette ----------------------------------------------------------------
HIT: dict[str, Any] = {"id": "12345", "title": None, "content": "point 12345", "metadata": {}, "distance": 0.1234,
       "score": 0.8766, "vector_rank": None, "vector_score": None, "keyword_rank": None, "keyword_score": None,
       "chunk_no": None, "highlight": None, "first_rank": None, "first_score": None, "rerank_score": None}


class Search(BaseModel):
    """The search body as a FastAPI endpoint would declare it (at module level: FastAPI resolves
    the annotation by name)."""

    query: list[float] | str
    k: int = 10
    mode: str = "hybrid"


def fastapi_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/async/healthz")
    async def healthz_async() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/sync/healthz")
    def healthz_sync() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/async/collections/{name}/search")
    async def search_async(name: str, body: Search) -> dict[str, Any]:
        return {"results": [HIT] * body.k}

    @app.post("/sync/collections/{name}/search")
    def search_sync(name: str, body: Search) -> dict[str, Any]:
        return {"results": [HIT] * body.k}

    return app


def fastapi_middleware_app() -> Any:
    """The FastAPI app with one ``@app.middleware("http")`` that only passes the request on
    (Starlette's BaseHTTPMiddleware, what an access log written that way costs)."""
    app = fastapi_app()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: Callable[[Request], Any]) -> Any:
        return await call_next(request)

    return app


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return {"results": [HIT] * int(body.get("k", 10))}

    async def healthz_async(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def healthz_sync(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(lambda: {"status": "ok"}))

    async def search_async(request: Request) -> JSONResponse:
        return JSONResponse(answer(await request.json()))

    async def search_sync(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(answer, await request.json()))

    return Starlette(routes=[
        Route("/async/healthz", healthz_async), Route("/sync/healthz", healthz_sync),
        Route("/async/collections/{name}/search", search_async, methods=["POST"]),
        Route("/sync/collections/{name}/search", search_sync, methods=["POST"])])


def frameworks(body: bytes, seconds: float, warmup: float, rounds: int, logs: Path) -> list[Measured]:
    """Both apps up at once, each endpoint measured in blocks taking turns between the two."""
    env = bench_env()
    factories = {"FastAPI": "fastapi_app", "FastAPI + http middleware": "fastapi_middleware_app",
                 "Starlette": "starlette_app"}
    bases = {name: f"http://127.0.0.1:{free_port()}" for name in factories}
    out: list[Measured] = []
    with ExitStack() as stack:
        for name, base in bases.items():
            command = [sys.executable, "-m", "uvicorn", "--factory", f"bench_service:{factories[name]}", "--host",
                       "127.0.0.1", "--port", base.rpartition(":")[2], "--log-level", "warning", "--no-access-log"]
            stack.enter_context(server(command, base + "/async/healthz", logs / f"{factories[name]}.log", env=env))
        for kind in ("async", "sync"):
            for endpoint in ("healthz", "search"):
                def factory(base: str, kind: str = kind, endpoint: str = endpoint) -> Factory:
                    def make() -> tuple[Caller, Callable[[], None]]:
                        client = httpx.Client(base_url=base, timeout=60, headers={"content-type": "application/json"})

                        def call(i: int) -> list[str]:
                            if endpoint == "healthz":
                                r = client.get(f"/{kind}/healthz")
                            else:
                                r = client.post(f"/{kind}/collections/x/search", content=body)
                            r.raise_for_status()
                            r.json()
                            return []
                        return call, client.close
                    return make
                systems = {f"{name}, {kind} def, {endpoint}": factory(base) for name, base in bases.items()}
                for clients in (1, 4):
                    out += rotate(systems, 1, clients, seconds, warmup, rounds)
    return out


# -- main -------------------------------------------------------------------------------------
def table(rows: list[Measured]) -> str:
    lines = ["| system | clients | requests | QPS | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {m.system} | {m.clients} | {m.requests:,} | {m.qps:,.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} |"
              for m in rows]
    return "\n".join(lines)


def service(args: argparse.Namespace, logs: Path, results: dict[str, Any]) -> list[Measured]:
    """vecpg's server, Chroma's and the in-process call, all up at once, taking turns."""
    c = centres()
    data, queries = clustered(args.n, 1, c), clustered(args.queries, 2, c)
    truth = ground_truth(data, queries, K)
    vecpg_bodies = [json.dumps({"query": q.tolist(), "k": K, "mode": "vector"}).encode() for q in queries]
    chroma_bodies = [json.dumps({"query_embeddings": [q.tolist()], "n_results": K,
                                 "include": ["documents", "metadatas", "distances"]}).encode() for q in queries]
    clients = [int(x) for x in args.clients.split(",")]
    rows: list[Measured] = []
    recalls: dict[str, float] = {}

    def measure(systems: dict[str, Factory]) -> None:
        for name, factory in systems.items():
            if name not in recalls:
                call, close = factory()
                try:
                    recalls[name] = recall([call(i) for i in range(len(queries))], truth)
                finally:
                    close()
        for n in tqdm(clients, desc=", ".join(systems)):
            rows.extend(rotate(systems, len(queries), n, args.seconds, args.warmup, args.rounds))

    start = time.perf_counter()
    store, coll = vecpg_collection(data, args.reuse)
    results["vecpg_load_and_build_s"] = round(time.perf_counter() - start, 1)
    coll.reset_search_defaults()
    results["vecpg_server"] = " ".join(vecpg_command(0, args.workers)[3:])
    chroma_dir = Path(args.chroma_path) if args.chroma_path else Path(tempfile.mkdtemp(prefix="bench-chroma-"))
    chroma_base = f"http://127.0.0.1:{free_port()}"
    try:
        with server([args.chroma_bin, "run", "--path", str(chroma_dir), "--host", "127.0.0.1", "--port",
                     chroma_base.rpartition(":")[2]], chroma_base + "/api/v2/heartbeat", logs / "chroma.log"):
            start = time.perf_counter()
            cid = chroma_collection(chroma_base, data)
            results["chroma_load_s"] = round(time.perf_counter() - start, 1)
            results["chroma_version"] = httpx.get(chroma_base + "/api/v2/version").json()
            listed = httpx.get(f"{chroma_base}{CHROMA_BASE}/collections").json()
            results["chroma_configuration"] = next(c for c in listed if c["id"] == cid)["configuration_json"]
            results["chromadb"] = subprocess.run(
                [str(Path(args.chroma_bin).parent / "python"), "-c", "import chromadb; print(chromadb.__version__)"],
                check=True, capture_output=True, text=True).stdout.strip()
            chroma = chroma_caller(chroma_base, cid, chroma_bodies)
            for ef in [None, *args.vecpg_ef]:
                if ef is not None:  # the server reads the collection's search defaults when it opens it
                    coll.set_search_defaults(ef_search=ef)
                base = f"http://127.0.0.1:{free_port()}"
                with ExitStack() as stack:
                    stack.enter_context(server(vecpg_command(int(base.rpartition(":")[2]), args.workers),
                                               base + "/healthz", logs / f"vecpg-{ef or 'default'}.log"))
                    systems = {"vecpg serve" + (f", ef_search {ef}" if ef else ""): vecpg_caller(base, vecpg_bodies),
                               "Chroma (chroma run)" + (f", beside ef_search {ef}" if ef else ""): chroma}
                    if ef is None:
                        systems["vecpg, in-process collection.search"] = in_process_caller(coll, queries)
                    if ef is None and args.standin_too:
                        other = f"http://127.0.0.1:{free_port()}"
                        stack.enter_context(server(standin_command(int(other.rpartition(":")[2])), other + "/healthz",
                                                   logs / "standin.log"))
                        systems.update({label: vecpg_caller(other, vecpg_bodies, prefix)
                                        for prefix, label in STANDIN_ROUTES.items()})
                        bare = f"http://127.0.0.1:{free_port()}"
                        stack.enter_context(server(
                            [sys.executable, "-m", "uvicorn", "--factory", "bench_service:service_without_http_middleware",
                             "--host", "127.0.0.1", "--port", bare.rpartition(":")[2], "--log-level", "warning",
                             "--no-access-log"], bare + "/healthz", logs / "bare.log", env=bench_env()))
                        systems["vecpg's app without its http middleware"] = vecpg_caller(bare, vecpg_bodies)
                    measure(systems)
    finally:
        coll.reset_search_defaults()
        if not args.keep:
            store.drop_collection(NAME, missing_ok=True)
        store.close()
        if not args.chroma_path:
            shutil.rmtree(chroma_dir, ignore_errors=True)
    results["recall@10"] = recalls
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1,
                        help="seconds not counted at the start of each block")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per system and concurrency, taking turns")
    parser.add_argument("--parts", default="service,frameworks")
    parser.add_argument("--vecpg-ef", type=lambda s: [int(x) for x in s.split(",") if x], default=[],
                        help="also run vecpg's server with these ef_search defaults (e.g. 100: Chroma's)")
    parser.add_argument("--workers", type=int, default=1, help="vecpg serve --workers")
    parser.add_argument("--standin-too", action="store_true",
                        help="also measure the minimal FastAPI endpoint of this file (--standin) beside vecpg serve")
    parser.add_argument("--chroma-bin", default="/work/venv-chroma/bin/chroma")
    parser.add_argument("--chroma-path", help="keep Chroma's data here (reused when it holds the collection)")
    parser.add_argument("--reuse", action="store_true", help="reuse vecpg's collection when it holds --n rows")
    parser.add_argument("--keep", action="store_true", help="keep vecpg's collection at the end")
    parser.add_argument("--out", default=str(HERE.parent / "results" / "service.json"), help="the JSON written")
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.standin:
        import uvicorn

        uvicorn.run(standin_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
        return

    logs = Path(tempfile.mkdtemp(prefix="bench-service-logs-"))
    results: dict[str, Any] = {"date": date.today().isoformat(), "n": args.n, "queries": args.queries,
                               "seconds": args.seconds, "warmup": args.warmup,
                               "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                               "load_before": os.getloadavg()}
    parts = set(args.parts.split(","))
    if "service" in parts:
        rows = service(args, logs, results)
        results["service"] = [asdict(m) for m in rows]
        print(f"\n{args.n:,} clustered {DIM}-d vectors, k {K}, {args.queries} queries, "
              f"{args.seconds:g} s per run after {args.warmup:g} s warm-up; vecpg server: {results['vecpg_server']}\n")
        print(table(rows))
        print("\n| system | recall@10 |\n|---|---:|")
        for name, r in results["recall@10"].items():
            print(f"| {name} | {r:.3f} |")
        by = {(m.system, m.clients): m for m in rows}
        print("\n| clients | vecpg serve / Chroma QPS | vecpg serve p50 - in-process p50, ms |\n|---:|---:|---:|")
        for n in sorted({m.clients for m in rows}):
            v, ch, ip = by.get(("vecpg serve", n)), by.get(("Chroma (chroma run)", n)), \
                by.get(("vecpg, in-process collection.search", n))
            if v and ch and ip:
                print(f"| {n} | {v.qps / ch.qps:.2f} | {v.p50_ms - ip.p50_ms:+.2f} |")
    if "frameworks" in parts:
        body = json.dumps({"query": clustered(1, 2, centres())[0].tolist(), "k": K, "mode": "vector"}).encode()
        rows = frameworks(body, min(args.seconds, 6), min(args.warmup, 0.5), args.rounds, logs)
        results["frameworks"] = [asdict(m) for m in rows]
        import uvicorn

        fast = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m) is not None]
        results["uvicorn"] = f"{uvicorn.__version__}, " + (" and ".join(fast) or "asyncio and h11")
        print(f"\nFastAPI against Starlette, uvicorn {results['uvicorn']}, one worker, loopback\n")
        print(table(rows))
    results["load_after"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True, parents=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nload average before {results['load_before']}, after {results['load_after']}; wrote {out}; logs in {logs}")


if __name__ == "__main__":
    main()
