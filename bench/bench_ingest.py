"""Ingest benchmark (issue 13): docs/s end to end -- read, embed, write, searchable -- in one run.

Run by hand (not a test):
    python bench/bench_ingest.py [--n 20000] [--naive-n 2000] [--url URL] [--embedders sentence-transformers,onnx,onnx-int8]

Texts: SciFact abstracts split into sentences (``../shared/data/scifact``), the first N.

(a) the tutorial's naive loop: encode one text, INSERT it with its vector, COMMIT, per row
    (on the first --naive-n texts: it is slow, and per-row cost does not depend on N);
(b) ``vecpg ingest FILE`` in a subprocess (model load included), per embedder of --embedders
    (``VECPG_EMBEDDER``), each also scored by nDCG@10 on SciFact's test queries;
(c) plain SQL: the N texts COPYed without vectors (queued by the triggers), then two
    ``vecpg worker`` processes; timed from the start of the COPY to the last vector written.

Prints a markdown table (docs/s and ratio to (a)), writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from tqdm import tqdm

import vecpg
from vecpg.db import migrate
from vecpg.db.connection import resolve_url

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
MODEL = vecpg.DEFAULT_MODEL


def sentences(n: int) -> list[str]:
    out: list[str] = []
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]):
                if len(s) > 20:
                    out.append(s)
                    if len(out) == n:
                        return out
    return out


def fresh(conn: psycopg.Connection, name: str) -> None:
    conn.execute("SELECT vecpg.drop_collection(%s, true)", (name,))
    conn.execute("SELECT vecpg.create_collection(%s, 384, model => %s)", (name, MODEL))


def naive(url: str, texts: list[str]) -> float:
    """Encode one, INSERT, COMMIT: what the tutorial's first loop does."""
    from sentence_transformers import SentenceTransformer

    from vecpg.embedding.models import model_path

    model = SentenceTransformer(model_path(MODEL), device="cpu")
    with psycopg.connect(url) as conn:
        register_vector(conn)
        fresh(conn, "bench_naive")
        conn.commit()
        started = time.perf_counter()
        for i, text in enumerate(tqdm(texts, desc="(a) naive loop", unit="doc")):
            vector = model.encode(text, normalize_embeddings=True)
            conn.execute("INSERT INTO vecpg_data.bench_naive (id, content, embedding) VALUES (%s, %s, %s)",
                         (str(i), text, vector))
            conn.commit()
        return time.perf_counter() - started


def vecpg_cli(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "vecpg.cli", "--url", url, *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ingest(url: str, texts: list[str], embedder: str, work: Path) -> float:
    path = work / "texts.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": str(i), "content": text}) + "\n")
    with psycopg.connect(url, autocommit=True) as conn:
        fresh(conn, "bench_ingest")
    started = time.perf_counter()
    process = vecpg_cli(url, "ingest", str(path), "-c", "bench_ingest", "--quiet", env={"VECPG_EMBEDDER": embedder})
    _, err = process.communicate()
    if process.returncode:
        raise SystemExit(f"vecpg ingest failed: {err.decode()}")
    return time.perf_counter() - started


def workers(url: str, texts: list[str], count: int = 2) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        fresh(conn, "bench_queue")
        # Each worker a share of the cores: two torch processes with two threads each on two cores
        # fight over them.
        threads = str(max(1, (os.cpu_count() or 1) // count))
        running = [vecpg_cli(url, "worker", "-c", "bench_queue", "--quiet", "--threads", threads) for _ in range(count)]
        time.sleep(8)  # the workers load the model before any row exists: a service already running
        started = time.perf_counter()
        with conn.cursor().copy("COPY vecpg_data.bench_queue (id, content) FROM STDIN") as copy:
            for i, text in enumerate(texts):
                copy.write_row((str(i), text))
        with tqdm(total=len(texts), desc=f"(c) {count} workers", unit="doc") as bar:
            done = 0
            while done < len(texts):
                time.sleep(0.2)
                now = conn.execute("SELECT count(embedding) FROM vecpg_data.bench_queue").fetchone()[0]
                bar.update(now - done)
                done = now
        elapsed = time.perf_counter() - started
        for p in running:
            p.send_signal(signal.SIGTERM)
        for p in running:
            p.wait(timeout=60)
    return elapsed


def ndcg(url: str, embedder: str) -> float | None:
    """nDCG@10 of exact vector search on SciFact test with this embedder (its own collection)."""
    out = subprocess.run([sys.executable, "-m", "vecpg.cli", "--url", url, "eval", str(SCIFACT), "-c", "bench_eval",
                          "--modes", "vector", "--json"], check=False, env={**os.environ, "VECPG_EMBEDDER": embedder},
                         capture_output=True, text=True)
    if out.returncode:
        print(f"eval with {embedder} failed: {out.stderr.strip()}", file=sys.stderr)
        return None
    result = json.loads(out.stdout)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT vecpg.drop_collection('bench_eval', true)")
    return float(result["vector"]["ndcg@10"]) if "vector" in result else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--naive-n", type=int, default=2_000)
    parser.add_argument("--url")
    parser.add_argument("--embedders", default="sentence-transformers,onnx,onnx-int8")
    parser.add_argument("--no-ndcg", action="store_true")
    args = parser.parse_args()
    url = resolve_url(args.url)
    migrate.upgrade(url)
    texts = sentences(args.n)
    rows: list[dict[str, Any]] = []
    seconds = naive(url, texts[:args.naive_n])
    base = args.naive_n / seconds
    rows.append({"run": f"(a) naive loop ({args.naive_n:,} texts)", "docs_per_s": base})
    with tempfile.TemporaryDirectory() as tmp:
        for embedder in args.embedders.split(","):
            from vecpg.embedding import embedder_for

            embedder_for(MODEL, embedder)  # an ONNX export happens once, before the clock starts
            print(f"(b) vecpg ingest, {embedder} ...", file=sys.stderr)
            seconds = ingest(url, texts, embedder, Path(tmp))
            score = None if args.no_ndcg else ndcg(url, embedder)
            rows.append({"run": f"(b) vecpg ingest, {embedder}", "docs_per_s": len(texts) / seconds, "ndcg@10": score})
    seconds = workers(url, texts)
    rows.append({"run": "(c) COPY without vectors + 2 vecpg worker", "docs_per_s": len(texts) / seconds})
    print(f"\n{len(texts):,} SciFact sentences, {platform.machine()}, {os.cpu_count()} cores, {date.today()}\n")
    print("| run | docs/s | vs (a) | nDCG@10 SciFact |\n|---|---:|---:|---:|")
    for r in rows:
        score = r.get("ndcg@10")
        print(f"| {r['run']} | {r['docs_per_s']:,.0f} | {r['docs_per_s'] / base:.1f}x | "
              f"{'' if score is None else f'{score:.4f}'} |")
    out = Path(__file__).parent / "results" / "ingest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": str(date.today()), "n": len(texts), "rows": rows}, indent=2))
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("bench_naive", "bench_ingest", "bench_queue"):
            conn.execute("SELECT vecpg.drop_collection(%s, true)", (name,))


if __name__ == "__main__":
    main()
