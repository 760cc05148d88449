"""Per-row costs on disk of everything a collection can have, measured on the embedded server.

Run by hand (not a test):
    VECPG_HOME=$(mktemp -d) OMP_NUM_THREADS=1 python bench/bench_sizing.py [--n 20000] [--dims 384,1536]

For each dimension, N rows of SciFact text cut into chunks of about 600 characters (a title, the
chunk, a small metadata object) with random unit vectors, loaded into a collection of each storage
("vector", "halfvec"). Measured, in bytes, by pg_relation_size after VACUUM:
- the table: heap, TOAST (with its index), the primary key, the full-text GIN and the metadata GIN;
- each vector index vecpg builds, one at a time: HNSW m 16 and m 32 on the vectors, on halfvec
  copies and on binary codes, and IVFFlat (rows/1,000 lists) on each (an HNSW index's size
  depends on m, not on ef_construction: pgvector reserves 2·m neighbour slots a row, so the m 32
  builds use ef_construction 64 to save time);
- the keyword index (vecpg_postings.<collection>: heap and index);
- the Qdrant mirror: the in-process Qdrant Edge shard directory after a sync and an optimize
  (default settings: float32 vectors, HNSW m 16, the text in the payload), and with int8.
Prints the bytes a row and writes bench/results/sizing.json; the constants in
vecpg/index/sizing.py are these figures (rounded), which docs/sizing.md is generated from.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

import vecpg

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact" / "corpus.jsonl.gz"
CHUNK = 600


def chunks(path: Path = SCIFACT, size: int = CHUNK) -> list[tuple[str, str]]:
    """(title, text) pairs: each abstract cut at sentence ends into pieces of about ``size`` characters."""
    out: list[tuple[str, str]] = []
    with gzip.open(path, "rt") as f:
        for line in f:
            doc = json.loads(line)
            piece = ""
            for sentence in re.split(r"(?<=[.!?])\s+", doc["text"]):
                piece = f"{piece} {sentence}".strip()
                if len(piece) >= size:
                    out.append((doc["title"], piece[:size + 200]))
                    piece = ""
            if len(piece) > size // 2:
                out.append((doc["title"], piece))
    return out


def documents(n: int, dim: int, texts: list[tuple[str, str]], seed: int = 0) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    for start in range(0, n, 1000):
        block = rng.standard_normal((min(1000, n - start), dim)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        for i, vector in enumerate(block, start):
            title, text = texts[i % len(texts)]
            yield {"id": str(i), "title": title, "content": text, "embedding": vector,
                   "metadata": {"source": "scifact", "chunk": i, "lang": "en"}}


def table_sizes(store: vecpg.Store, name: str) -> dict[str, int]:
    """Heap, TOAST and each index of the collection's table, by role."""
    with store.connection() as conn:
        conn.execute(f"VACUUM ANALYZE vecpg_data.{name}")  # type: ignore[arg-type]
        heap, toast = conn.execute(
            "SELECT pg_relation_size(oid), coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) "
            "FROM pg_class WHERE oid = %s::regclass", (f"vecpg_data.{name}",)).fetchone()  # type: ignore[misc]
        indexes = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_relation_size(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass", (f"vecpg_data.{name}",)).fetchall()
    sizes = {"heap": heap, "toast": toast}
    for index, size in indexes:
        role = ("primary_key" if index.endswith("_pkey") else "fts_gin" if index.endswith("_fts_idx")
                else "metadata_gin" if index.endswith("_metadata_idx") else None)
        if role:
            sizes[role] = size
    return sizes


def dir_bytes(path: Path) -> int:
    """Bytes the directory takes on disk (allocated blocks: Qdrant preallocates sparse files)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def measure_indexes(coll: vecpg.Collection, rows: int, storage: str) -> dict[str, int]:
    specs: dict[str, vecpg.HNSW | vecpg.IVFFlat] = {}
    kinds = ["none", "halfvec", "binary"] if storage == "vector" else ["none", "binary"]
    for q in kinds:
        for m in (16, 32):
            specs[f"hnsw m{m} {q}"] = vecpg.HNSW(m=m, ef_construction=64, quantization=None if q == "none" else q)
        specs[f"ivfflat {q}"] = vecpg.IVFFlat(lists=max(1, rows // 1000), quantization=None if q == "none" else q)
    sizes = {}
    for label, spec in specs.items():
        start = time.perf_counter()
        coll.create_index(spec, parallel_workers=0)
        (index,) = coll.indexes()
        sizes[label] = index.size_bytes
        print(f"  {coll.name} {label}: {index.size_bytes / rows:,.0f} bytes a row ({time.perf_counter() - start:.0f} s)",
              flush=True)
    coll.drop_index()
    return sizes


def measure_mirror(store: vecpg.Store, coll: vecpg.Collection, root: Path, texts: list[tuple[str, str]]
                   ) -> dict[str, dict[str, int]]:
    """The Edge shard's bytes after a full copy and an optimize of N points and of 2·N (the rows
    loaded again under new ids), float32 and int8: the difference is the cost of N more points,
    without the shard's fixed files (its WAL segments are preallocated)."""
    rows = coll.count()
    sizes: dict[str, dict[str, int]] = {"float32": {}, "int8": {}}
    backend = store.mirror_backend()
    for count in (rows, 2 * rows):
        if count > coll.count():
            coll.load(({**d, "id": str(int(d["id"]) + rows)} for d in documents(rows, coll.dimension, texts, seed=1)),
                      batch_size=1000)
        for label, settings in (("float32", {}), ("int8", {"quantization": "int8"})):
            coll.enable_mirror(**settings)
            coll.sync_mirror()
            backend.optimize(coll.name)  # type: ignore[attr-defined]
            backend.flush(coll.name)
            sizes[label][str(count)] = dir_bytes(root / coll.name)
            coll.disable_mirror()
            backend.drop_collection(coll.name)
    for label, by in sizes.items():
        print(f"  mirror {label}: {(by[str(2 * rows)] - by[str(rows)]) / rows:,.0f} bytes a point", flush=True)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dims", default="384,1536")
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    qdrant = Path(tempfile.mkdtemp(prefix="vecpg-sizing-qdrant-"))
    os.environ["VECPG_QDRANT_PATH"] = str(qdrant)

    texts = chunks()
    store = vecpg.connect(args.url)
    with store.connection() as conn:
        versions = conn.execute("SELECT current_setting('server_version'), "
                                "(SELECT extversion FROM pg_extension WHERE extname = 'vector')").fetchone()
    sample = [len(t) for _, t in texts]
    result: dict[str, Any] = {
        "date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "postgres": versions[0] if versions else None, "pgvector": versions[1] if versions else None,
        "rows": args.n, "content_chars_mean": round(float(np.mean(sample))),
        "title_chars_mean": round(float(np.mean([len(t) for t, _ in texts]))), "dimensions": {}}
    for dim in (int(d) for d in args.dims.split(",")):
        per_dim: dict[str, Any] = {}
        for storage in ("vector", "halfvec"):
            name = f"sizing_{storage}_{dim}"
            store.drop_collection(name, missing_ok=True)
            coll = store.create_collection(name, dimension=dim, storage=storage)
            coll.load(documents(args.n, dim, texts), batch_size=1000)
            part: dict[str, Any] = {"table": table_sizes(store, name)}
            print(f"{name}: " + ", ".join(f"{k} {v / args.n:,.0f}" for k, v in part["table"].items()), flush=True)
            part["indexes"] = measure_indexes(coll, args.n, storage)
            if storage == "vector":
                coll.enable_keyword_index()
                with store.connection() as conn:
                    conn.execute(f"VACUUM ANALYZE vecpg_postings.{name}")  # type: ignore[arg-type]
                    heap, total = conn.execute("SELECT pg_relation_size(%s::regclass), pg_total_relation_size("
                                               "%s::regclass)", (f"vecpg_postings.{name}",) * 2).fetchone()  # type: ignore[misc]
                part["keyword_index"] = {"heap": heap, "index": total - heap}
                print(f"  keyword index: {total / args.n:,.0f} bytes a row", flush=True)
                part["mirror"] = measure_mirror(store, coll, qdrant, texts)
            per_dim[storage] = part
            store.drop_collection(name)
        result["dimensions"][str(dim)] = per_dim
    store.close()
    shutil.rmtree(qdrant, ignore_errors=True)

    out = Path(__file__).resolve().parent / "results" / "sizing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}\n\nfor vecpg/index/sizing.py:")
    for dim, per in result["dimensions"].items():
        for storage, part in per.items():
            fields = ", ".join(f"{k}={round(v / args.n)}" for k, v in part["table"].items())
            print(f'TABLE_ROW[("{storage}", {dim})] = TableRow({fields})')
            if "keyword_index" in part:
                print(f"KEYWORD_INDEX_ROW[{dim}] = {round(sum(part['keyword_index'].values()) / args.n)}")
                for label, by in part["mirror"].items():
                    grown = (by[str(2 * args.n)] - by[str(args.n)]) / args.n
                    print(f'MIRROR_POINT[("{label}", {dim})] = {round(grown)}')


if __name__ == "__main__":
    main()
