"""Runs one of bench_suite.py's PostgreSQL peers (vecs, langchain-postgres) in the peers'
virtualenv, for the suite, which starts it as a child process (bench_suite.PeerProcess).

Those peers pin pgvector (the Python package) below 0.4, and vecpg needs 0.4: they cannot share an
environment. This script imports no vecpg; the suite builds the virtualenv from
bench/peers-requirements.txt and talks to this process by JSON lines: one request on stdin, any
number of {"progress": n} lines and then one reply on stdout. The data and queries come as .npy
files. Loads, builds and searches are timed here, by suite_base's code, so the figures have the
suite's timing boundaries and no inter-process traffic in them.

``peer_runner.py --versions`` prints the versions of the packages that matter, as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from importlib import metadata
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
from suite_base import EF_CONSTRUCTION, NAME, Adapter, M, batches, metadata_of, pg_settle, pg_sizes

PACKAGES = ("vecs", "langchain-postgres", "pgvector", "psycopg", "psycopg2-binary", "sqlalchemy", "numpy")


class Vecs(Adapter):
    label = "supabase vecs"
    filter_note = "metadata containment; no iterative scan (rows may be missing)"

    def __init__(self, ctx: Any, ds: Any) -> None:
        super().__init__(ctx, ds)
        import vecs

        self.vecs = vecs
        self.name = f"{NAME}_vecs"
        self.client = vecs.create_client(ctx.sqlalchemy_url.replace("+psycopg", "+psycopg2"))
        self.client.delete_collection(self.name)
        self.docs = self.client.get_or_create_collection(name=self.name, dimension=self.dim)

    def load(self, data: np.ndarray, bar: Any) -> None:
        for lo, hi in batches(len(data), 2000):
            self.docs.upsert(records=[(str(i), data[i].tolist(), metadata_of(i)) for i in range(lo, hi)])
            bar.update(hi - lo)

    def build(self) -> None:
        v = self.vecs
        self.docs.create_index(method=v.IndexMethod.hnsw, measure=v.IndexMeasure.cosine_distance,
                               index_arguments=v.IndexArgsHNSW(m=M, ef_construction=EF_CONSTRUCTION))

    def settle(self) -> None:
        pg_settle(self.ctx.url, f'vecs."{self.name}"')

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return [int(i) for i in self.docs.query(data=q.tolist(), limit=k, ef_search=param)]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        return [int(i) for i in self.docs.query(data=q.tolist(), limit=k, ef_search=param,
                                                filters={fname: {"$eq": value}})]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, f'vecs."{self.name}"')

    def close(self) -> None:
        self.client.delete_collection(self.name)
        self.client.disconnect()


class Langchain(Adapter):
    label = "langchain-postgres"
    filter_note = "jsonb filter; no iterative scan (rows may be missing)"
    INDEX = f"{NAME}_lc_hnsw"

    def __init__(self, ctx: Any, ds: Any) -> None:
        super().__init__(ctx, ds)
        from langchain_core.embeddings import Embeddings

        class Given(Embeddings):  # the vectors are given: nothing to embed
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                raise NotImplementedError

            def embed_query(self, text: str) -> list[float]:
                raise NotImplementedError

        self.embeddings = Given()
        # langchain-postgres declares its ORM classes once per process with the first store's
        # dimension; the suite starts a runner per dataset, so every store here has the same one.
        self.name = f"{NAME}_langchain"
        self.logger = logging.getLogger("bench_suite.langchain")
        self.logger.setLevel(logging.ERROR)  # not "Collection not found" before the first create
        with psycopg.connect(ctx.url, autocommit=True) as conn:
            existed = conn.execute("SELECT to_regclass('langchain_pg_embedding')").fetchone()[0]
            if existed:  # the embedding column's dimension is fixed: only reuse a table of ours
                conn.execute(f"DROP INDEX IF EXISTS {self.INDEX}")
        self.created_tables = not existed
        self.engines: dict[int | None, Any] = {}
        self.stores: dict[int | None, Any] = {}
        self.main = self._store(None, pre_delete=True)

    def _store(self, ef: int | None, pre_delete: bool = False) -> Any:
        if ef not in self.stores:
            from langchain_postgres import PGVector
            from sqlalchemy import create_engine

            # langchain-postgres has no search-time parameter: set hnsw.ef_search per engine.
            args = {"options": f"-c hnsw.ef_search={ef}"} if ef else {}
            self.engines[ef] = create_engine(self.ctx.sqlalchemy_url, connect_args=args)
            self.stores[ef] = PGVector(embeddings=self.embeddings, collection_name=self.name,
                                       connection=self.engines[ef], embedding_length=self.dim, use_jsonb=True,
                                       pre_delete_collection=pre_delete, logger=self.logger)
        return self.stores[ef]

    def load(self, data: np.ndarray, bar: Any) -> None:
        for lo, hi in batches(len(data), 1000):
            self.main.add_embeddings(texts=[""] * (hi - lo), embeddings=[data[i].tolist() for i in range(lo, hi)],
                                     metadatas=[metadata_of(i) for i in range(lo, hi)],
                                     ids=[str(i) for i in range(lo, hi)])
            bar.update(hi - lo)

    def build(self) -> None:
        with psycopg.connect(self.ctx.url, autocommit=True) as conn:
            conn.execute(f"CREATE INDEX {self.INDEX} ON langchain_pg_embedding USING hnsw "
                         f"(embedding vector_cosine_ops) WITH (m = {M}, ef_construction = {EF_CONSTRUCTION})")

    def settle(self) -> None:
        pg_settle(self.ctx.url, "langchain_pg_embedding")

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return [int(d.id) for d, _ in self._store(param).similarity_search_with_score_by_vector(q.tolist(), k=k)]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        hits = self._store(param).similarity_search_with_score_by_vector(q.tolist(), k=k,
                                                                         filter={fname: {"$eq": value}})
        return [int(d.id) for d, _ in hits]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, "langchain_pg_embedding")

    def close(self) -> None:
        self.main.delete_collection()
        with psycopg.connect(self.ctx.url, autocommit=True) as conn:
            conn.execute(f"DROP INDEX IF EXISTS {self.INDEX}")
        if self.created_tables:
            self.main.drop_tables()
        for engine in self.engines.values():
            engine.dispose()


PEERS: dict[str, type[Adapter]] = {"vecs": Vecs, "langchain": Langchain}


class Channel:
    """The reply stream: the real stdout, kept for JSON lines only. File descriptor 1 itself is
    pointed at stderr, so whatever a library prints cannot corrupt a reply."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self.lock = threading.Lock()  # the two clients' threads report progress at once

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.out.write(json.dumps(message) + "\n")
            self.out.flush()

    def update(self, n: int) -> None:  # what a tqdm bar offers: loads and the two clients report by it
        self.send({"progress": n})


def handle(req: dict[str, Any], state: dict[str, Any], chan: Channel) -> dict[str, Any]:
    op = req["op"]
    if op == "open":
        ctx = SimpleNamespace(url=req["url"], sqlalchemy_url=req["sqlalchemy_url"])
        # The whole array in memory, as in the suite's process (not memory-mapped: no page faults
        # inside the timed load).
        data = np.load(req["data"])
        queries = np.load(req["queries"])
        system = PEERS[req["system"]](ctx, SimpleNamespace(dim=int(data.shape[1])))
        state.update(system=system, data=data, queries=queries)
        return {name: getattr(system, name) for name in
                ("label", "param", "build_params", "load_includes_build", "filter_note")}
    system: Adapter = state["system"]
    queries = state["queries"]
    filt = tuple(req["filter"]) if req.get("filter") else None
    if op == "load":
        return {"seconds": system.timed_load(state["data"], chan)}
    if op == "build":
        return {"seconds": system.timed_build()}
    if op == "settle":
        system.settle()
        return {}
    if op == "sizes":
        return {"sizes": system.sizes()}
    if op == "warm":
        system.warm(queries, req["count"], req["param"], filt)  # type: ignore[arg-type]
        return {}
    if op == "block":
        return {"timed": system.timed_block(queries, req["param"], filt)}  # type: ignore[arg-type]
    if op == "two_clients":
        timed, wall = system.two_clients(queries, req["param"], req["warmup"], req["rounds"], chan.update)
        return {"timed": timed, "wall": wall}
    if op == "close":
        system.close()
        return {}
    raise ValueError(f"unknown request {op!r}")


def main() -> None:
    if sys.argv[1:] == ["--versions"]:
        found = {}
        for pkg in PACKAGES:
            try:
                found[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                pass
        print(json.dumps(found))
        return
    chan = Channel()
    state: dict[str, Any] = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            reply = handle(req, state, chan)
        except Exception as exc:  # noqa: BLE001 - the suite raises it again, with this traceback
            chan.send({"error": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()})
            continue
        chan.send({"reply": reply})
        if req["op"] == "close":
            break


if __name__ == "__main__":
    main()
