"""vecpg's framework adapters against the PostgreSQL stores each framework ships, through each
framework's own interface, on the same vectors and the same server (issue 24).

Run by hand (not a test), from the repository root, in vecpg's environment:

    python bench/bench_frameworks.py [--frameworks langchain,llamaindex,haystack] [--n 100000]
        [--queries 200] [--rounds 3] [--warmup 50] [--ef 40] [--url URL]
        [--venv langchain=/work/venv-lcpg,...]

| framework | peer (own virtualenv) | vecpg adapter (this process) |
|---|---|---|
| langchain | langchain-postgres ``PGVectorStore`` (v2: ``PGEngine``): ``add_texts``, ``apply_vector_index(HNSWIndex)``, ``similarity_search_by_vector`` with ``HNSWQueryOptions(ef_search)`` | ``vecpg.langchain.VecpgVectorStore``: ``add_texts``, ``similarity_search_by_vector`` |
| llamaindex | llama-index-vector-stores-postgres ``PGVectorStore``: ``add(TextNode...)``, ``hnsw_kwargs``, ``query(VectorStoreQuery)`` | ``vecpg.llamaindex.VecpgVectorStore``: ``add``, ``query`` |
| haystack | pgvector-haystack ``PgvectorDocumentStore``: ``write_documents``, ``search_strategy="hnsw"``, ``PgvectorEmbeddingRetriever.run`` | ``vecpg.haystack.VecpgDocumentStore``: ``write_documents``, ``VecpgEmbeddingRetriever.run`` |

Both sides of a framework write the same rows: ``--n`` clustered 384-d vectors (bench_suite's
``clustered`` dataset), each with a made-up text of 24 words (frameworks_base.texts) and the
suite's metadata, ``BATCH`` (1,000) documents per write call, with the framework's embeddings
given (a LangChain ``Embeddings`` that looks each text's vector up; nodes and Documents carry
theirs). Then each builds an HNSW index (m 16, ef_construction 64; vecpg by
``Collection.create_index``, which no framework interface offers, the peers as their framework
does) and answers ``--queries`` searches by vector at k = 10 with ``hnsw.ef_search`` ``--ef``
(vecpg: ``set_search_defaults(ef_search=)``), one client: ``--warmup`` searches untimed, then
``--rounds`` blocks of every query, peer and vecpg blocks taking turns (the first alternating),
so the machine's load hits both alike. Load rows/s is rows over the wall time of the write
calls (no index yet); QPS is searches over the summed latencies (each from the call to the ids
in hand). Recall@10 against exact cosine neighbours (numpy) says whether both sides did the same
work.

The peers pin what vecpg cannot share (langchain-postgres pgvector < 0.4) or bring their own
framework versions, so each runs in a virtualenv of its own (``--venv NAME=DIR``; defaults
/work/venv-lcpg, /work/venv-hay, /work/venv-lipg; make one with ``python -m venv DIR &&
DIR/bin/pip install <peer package> numpy 'psycopg[binary]'``) through bench/framework_peers.py, a
child process on peer_runner.py's protocol that times its own loads and searches with
suite_base's loops (bench_suite.PeerProcess drives it). Writes bench/results/frameworks.{json,md}.
Without --url it uses vecpg's embedded server; set VECPG_HOME to keep it apart from your own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from tqdm import tqdm

import vecpg
from vecpg.db.connection import resolve_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_suite import Dataset, PeerProcess, load_clustered, machine
from common import ground_truth
from frameworks_base import BATCH, EF_SEARCH, TABLE, given_embeddings, texts
from suite_base import EF_CONSTRUCTION, Adapter, K, M, Timed, batches, metadata_of, pg_settle, pg_sizes

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FRAMEWORKS = ("langchain", "llamaindex", "haystack")
DEFAULT_VENVS = {"langchain": "/work/venv-lcpg", "llamaindex": "/work/venv-lipg", "haystack": "/work/venv-hay"}
PEER_PACKAGES = {"langchain": "langchain-postgres", "llamaindex": "llama-index-vector-stores-postgres",
                 "haystack": "pgvector-haystack"}


@dataclass
class Context:
    url: str
    store: Any
    tmp: Path
    peers_python: str = ""


# ================================================================================================
# vecpg's adapters, in this process
# ================================================================================================
class VecpgAdapter(Adapter):
    """What the three vecpg sides share: the collection (made by the adapter's first write),
    the index and the ef_search default, through vecpg's own API."""

    name = ""

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        self.store = ctx.store
        self.store.drop_collection(self.name, missing_ok=True)
        self.ef: int | None = None

    def coll(self) -> Any:
        return self.store.collection(self.name)

    def build(self) -> None:
        self.coll().create_index(vecpg.HNSW(m=M, ef_construction=EF_CONSTRUCTION))

    def settle(self) -> None:
        info = self.coll().info
        pg_settle(self.ctx.url, f'"{info.schema}"."{info.table}"')

    def _ef(self, param: int) -> None:
        if param != self.ef:  # the adapters take no ef_search: the collection's default is set
            self.coll().set_search_defaults(ef_search=param)
            self.ef = param

    def sizes(self) -> dict[str, int | None]:
        info = self.coll().info
        return pg_sizes(self.ctx.url, f'"{info.schema}"."{info.table}"')

    def close(self) -> None:
        self.store.drop_collection(self.name, missing_ok=True)


class VecpgLangchain(VecpgAdapter):
    label = "vecpg VecpgVectorStore (LangChain)"
    name = f"{TABLE}_vecpg_langchain"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        from vecpg.langchain import VecpgVectorStore

        self.vectors: dict[str, list[float]] = {}
        self.lc = VecpgVectorStore(given_embeddings(self.vectors), self.name, store=self.store)

    def load(self, data: np.ndarray, bar: Any) -> None:
        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            chunk = all_texts[lo:hi]
            self.vectors.clear()
            self.vectors.update((t, data[i].tolist()) for t, i in zip(chunk, range(lo, hi)))
            self.lc.add_texts(chunk, metadatas=[metadata_of(i) for i in range(lo, hi)],
                              ids=[str(i) for i in range(lo, hi)])
            bar.update(hi - lo)
        self.vectors.clear()

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        self._ef(param)
        return [int(d.id) for d in self.lc.similarity_search_by_vector(q.tolist(), k=k)]


class VecpgLlamaIndex(VecpgAdapter):
    label = "vecpg VecpgVectorStore (LlamaIndex)"
    name = f"{TABLE}_vecpg_llamaindex"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        from vecpg.llamaindex import VecpgVectorStore

        self.li = VecpgVectorStore(self.name, store=self.store, embed_dim=self.dim)

    def load(self, data: np.ndarray, bar: Any) -> None:
        from llama_index.core.schema import TextNode

        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            self.li.add([TextNode(id_=str(i), text=all_texts[i], metadata=metadata_of(i),
                                  embedding=data[i].tolist()) for i in range(lo, hi)])
            bar.update(hi - lo)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        self._ef(param)
        result = self.li.query(VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=k))
        return [int(i) for i in result.ids]


class VecpgHaystack(VecpgAdapter):
    label = "vecpg VecpgDocumentStore (Haystack)"
    name = f"{TABLE}_vecpg_haystack"

    def __init__(self, ctx: Context, ds: Dataset) -> None:
        super().__init__(ctx, ds)
        from haystack.utils import Secret

        from vecpg.haystack import VecpgDocumentStore, VecpgEmbeddingRetriever

        self.docs = VecpgDocumentStore(url=Secret.from_token(ctx.url), collection=self.name,
                                       embedding_dimension=self.dim)
        self.retriever = VecpgEmbeddingRetriever(document_store=self.docs, top_k=K)

    def load(self, data: np.ndarray, bar: Any) -> None:
        from haystack import Document

        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            self.docs.write_documents([Document(id=str(i), content=all_texts[i], meta=metadata_of(i),
                                                embedding=data[i].tolist()) for i in range(lo, hi)])
            bar.update(hi - lo)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        self._ef(param)
        return [int(d.id) for d in self.retriever.run(query_embedding=q.tolist(), top_k=k)["documents"]]

    def close(self) -> None:
        super().close()
        self.docs.close()


VECPG = {"langchain": VecpgLangchain, "llamaindex": VecpgLlamaIndex, "haystack": VecpgHaystack}


class Peer(PeerProcess):
    script = "framework_peers.py"

    def __init__(self, ctx: Context, ds: Dataset, system: str) -> None:
        self.system = system
        super().__init__(ctx, ds)  # type: ignore[arg-type]


# ================================================================================================
# The measurement
# ================================================================================================
def summary(label: str, load_s: float, build_s: float, timed: list[Timed], truth: list[set[int]], n: int,
            sizes: dict[str, Any]) -> dict[str, Any]:
    rows = [r for t in timed for r in t[0]]
    lat = np.array([x for t in timed for x in t[1]])
    found = [f for t in timed for f in t[2]]
    recall = float(np.mean([len(set(f) & truth[r]) / K for r, f in zip(rows, found)]))
    return {"label": label, "load_s": load_s, "load_rows_s": n / load_s, "build_s": build_s,
            "searches": len(lat), "qps": 1000 * len(lat) / float(lat.sum()), "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)), "recall": recall,
            "block_qps": [1000 * len(t[1]) / sum(t[1]) for t in timed], "sizes": sizes}


def measure(name: str, ctx: Context, ds: Dataset, truth: list[set[int]], args: argparse.Namespace,
            peer_first: bool) -> dict[str, Any]:
    peer = Peer(ctx, ds, name)
    ours: Adapter = VECPG[name](ctx, ds)
    pair = [peer, ours] if peer_first else [ours, peer]
    out: dict[str, Any] = {"loadavg": [os.getloadavg()[0]]}
    try:
        load, build = {}, {}
        for system in pair:
            with tqdm(total=ds.n, desc=f"{name}: {system.label} load", mininterval=5) as bar:
                load[system] = system.timed_load(ds.data, bar)
        for system in pair:
            print(f"{name}: {system.label} build", file=sys.stderr)
            build[system] = system.timed_build()
            system.settle()
        out["loadavg"].append(os.getloadavg()[0])
        timed: dict[Adapter, list[Timed]] = {peer: [], ours: []}
        for system in pair:
            system.warm(ds.queries, args.warmup, args.ef)
        for r in range(args.rounds):
            for system in pair if r % 2 == 0 else pair[::-1]:
                timed[system].append(system.timed_block(ds.queries, args.ef))
        out["loadavg"].append(os.getloadavg()[0])
        for key, system in (("peer", peer), ("vecpg", ours)):
            out[key] = summary(system.label, load[system], build[system], timed[system], truth, ds.n, system.sizes())
        out["ratio"] = {"load": out["vecpg"]["load_rows_s"] / out["peer"]["load_rows_s"],
                        "qps": out["vecpg"]["qps"] / out["peer"]["qps"]}
    finally:
        for system in pair:
            system.close()
    return out


def table(name: str, r: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", "",
             "| system | load rows/s | build s | QPS (k=10) | p50 ms | p95 ms | recall@10 | QPS per block |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for key in ("peer", "vecpg"):
        s = r[key]
        blocks = ", ".join(f"{q:.0f}" for q in s["block_qps"])
        lines.append(f"| {s['label']} | {s['load_rows_s']:,.0f} | {s['build_s']:.1f} | {s['qps']:,.0f} | "
                     f"{s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['recall']:.3f} | {blocks} |")
    lines.append(f"| **vecpg / peer** | **{r['ratio']['load']:.2f}x** | | **{r['ratio']['qps']:.2f}x** | | | | |")
    loads = " / ".join(f"{x:.2f}" for x in r["loadavg"])
    lines += ["", f"1-min load average: {loads} (start / after loads and builds / after searches)", ""]
    return lines


def peer_versions(python: str) -> dict[str, str]:
    out = subprocess.run([python, str(HERE / "framework_peers.py"), "--versions"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def ours_versions() -> dict[str, str]:
    found = {}
    for pkg in ("vecpg", "langchain-core", "llama-index-core", "haystack-ai", "psycopg", "pgvector", "numpy"):
        try:
            found[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--ef", type=int, default=EF_SEARCH)
    ap.add_argument("--url")
    ap.add_argument("--venv", action="append", default=[], help="NAME=DIR, the virtualenv of a framework's peer")
    args = ap.parse_args()
    names = [f for f in args.frameworks.split(",") if f]
    if set(names) - set(FRAMEWORKS):
        raise SystemExit(f"unknown frameworks: {', '.join(sorted(set(names) - set(FRAMEWORKS)))}")
    venvs = DEFAULT_VENVS | dict(v.split("=", 1) for v in args.venv)

    url = resolve_url(args.url)
    store = vecpg.connect(url, migrate_schema=True)
    ds = load_clustered(args.n, args.queries, "clustered")
    truth = ground_truth(ds.data, ds.queries, K)
    with psycopg.connect(url, autocommit=True) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
    header = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
              "postgres": pg, "pgvector": ".".join(map(str, store.pgvector_version)), "dataset": ds.description,
              "n": ds.n, "queries": args.queries, "rounds": args.rounds, "warmup": args.warmup, "ef_search": args.ef,
              "batch": BATCH, "command": " ".join(["python bench/bench_frameworks.py", *sys.argv[1:]]),
              "uptime_start": subprocess.run(["uptime"], check=True, capture_output=True, text=True).stdout.strip(),
              "versions": {"vecpg venv": ours_versions()}}
    results: dict[str, Any] = {"header": header, "frameworks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            python = str(Path(venvs[name]) / "bin" / "python")
            header["versions"][f"{name} peer venv"] = peer_versions(python)
            ctx = Context(url=url, store=store, tmp=Path(tmp), peers_python=python)
            results["frameworks"][name] = measure(name, ctx, ds, truth, args, peer_first=i % 2 == 0)
            print("\n".join(table(name, results["frameworks"][name])))
    header["uptime_end"] = subprocess.run(["uptime"], check=True, capture_output=True, text=True).stdout.strip()
    store.close()

    setup = (f"{header['machine']}; {header['postgres']}, pgvector {header['pgvector']}; {header['dataset']}; "
             f"{args.queries} queries x {args.rounds} rounds after {args.warmup} warm-up, k = {K}, "
             f"ef_search {args.ef}, HNSW m {M} ef_construction {EF_CONSTRUCTION}; {BATCH} documents per write call.")
    lines = [f"# Framework adapters: vecpg against each framework's PostgreSQL store ({header['date']})", "",
             setup, "", f"uptime before: `{header['uptime_start']}`", f"uptime after: `{header['uptime_end']}`", ""]
    for name, r in results["frameworks"].items():
        lines += table(name, r)
    lines += ["Versions: " + json.dumps(header["versions"]), "", f"Command: `{header['command']}`", ""]
    report = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "frameworks.json").write_text(json.dumps(results, indent=1))
    (RESULTS / "frameworks.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
