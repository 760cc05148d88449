"""Embedding backends compared on real abstracts: throughput, agreement, retrieval quality.

Run by hand (not a test):  python bench/bench_embedders.py [--data ../shared/data/scifact] [--docs 2000]

1. Load time of each backend (the ONNX export and its int8 quantization made fresh, into
   --models-dir or a temporary directory) and docs/s embedding the first --docs SciFact abstracts
   (title and content, as a collection embeds them) in batches of --batch-size. The backends take
   the same chunks of the corpus in turn, so a load on the machine that comes and goes is shared
   between them rather than landing on one.
2. Cosine of each backend's vectors with sentence-transformers' for the same texts (min, mean).
3. With --ndcg: nDCG@10 of exact vector search on the SciFact test queries (vecpg.evaluation), the
   whole corpus embedded by sentence-transformers, then by onnx-int8, and the torch-embedded
   collection searched with int8 queries (what set_embedder does to an existing collection).
   Uses vecpg's embedded server unless --url; set VECPG_HOME to keep it apart from your own.
Prints markdown tables and writes bench/results/embedders.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CHUNK = 256  # documents each backend embeds before the next one takes the same chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"))
    parser.add_argument("--docs", type=int, default=2000, help="abstracts to time (0: skip the timing)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models-dir", default=None, help="where the ONNX export goes (default: a new temporary one)")
    parser.add_argument("--ndcg", action="store_true", help="also nDCG@10 of torch against int8 (embeds the corpus twice)")
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    # Before vecpg reads it: the export below is then made fresh, and timed.
    os.environ["VECPG_MODELS_DIR"] = args.models_dir or tempfile.mkdtemp(prefix="vecpg-bench-models-")

    import vecpg
    from vecpg.evaluation import load_dataset

    dataset = load_dataset(args.data)
    results: dict[str, object] = {}
    if args.docs > 0:
        results.update(throughput(dataset, args.docs, args.batch_size))
    if args.ndcg:
        results["ndcg"] = ndcg(vecpg, dataset, args.url)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "embedders.json").write_text(json.dumps(results, indent=2))


def throughput(dataset, docs: int, batch_size: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from vecpg.embedding import BACKENDS, OnnxEmbedder, SentenceTransformerEmbedder, TransformersEmbedder
    from vecpg.evaluation import corpus_documents

    texts = [f"{d['title']} {d['content']}".strip() if d["title"] else d["content"]
             for _, d in zip(range(docs), corpus_documents(dataset))]

    builders = {
        "sentence-transformers": lambda: SentenceTransformerEmbedder(batch_size=batch_size),
        "transformers": lambda: TransformersEmbedder(batch_size=batch_size),
        "onnx": lambda: OnnxEmbedder(batch_size=batch_size),
        "onnx-int8": lambda: OnnxEmbedder(quantized=True, batch_size=batch_size),
    }
    assert tuple(builders) == BACKENDS
    embedders, load_s = {}, {}
    for name, build in builders.items():
        start = time.perf_counter()
        embedders[name] = build()
        load_s[name] = time.perf_counter() - start
        embedders[name].embed(texts[:batch_size])  # warm-up: first-call allocations, thread pools

    seconds = dict.fromkeys(BACKENDS, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in BACKENDS}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start:start + CHUNK]
        for name, embedder in embedders.items():
            began = time.perf_counter()
            vectors[name].append(embedder.embed(chunk))
            seconds[name] += time.perf_counter() - began
        print(f"  {start + len(chunk)}/{len(texts)} documents", flush=True)
    reference = np.concatenate(vectors["sentence-transformers"])
    rows = []
    for name in BACKENDS:
        cosines = np.sum(np.concatenate(vectors[name]) * reference, axis=1)
        rows.append({"backend": name, "load_s": round(load_s[name], 2), "docs_per_s": round(len(texts) / seconds[name], 1),
                     "cosine_min": round(float(cosines.min()), 6), "cosine_mean": round(float(cosines.mean()), 6)})

    print(f"\n{len(texts)} SciFact abstracts, batch {batch_size}, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})\n")
    print("| backend | load s (ONNX: export included) | docs/s | cosine vs sentence-transformers, min | mean |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['load_s']} | {r['docs_per_s']} | {r['cosine_min']} | {r['cosine_mean']} |")
    return {"docs": len(texts), "batch_size": batch_size, "backends": rows}


def ndcg(vecpg, dataset, url: str | None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from vecpg.db.server import EmbeddedServer
    from vecpg.evaluation import ensure_loaded, evaluate

    figures = {}
    # On the embedded server, as its superuser: the application role's first bulk load into an
    # empty collection is a COPY, which PostgreSQL refuses under row-level security.
    with vecpg.connect(url or EmbeddedServer().start(), migrate_schema=url is None) as store:
        for backend in ("sentence-transformers", "onnx-int8"):
            name = f"bench_embed_{backend.replace('-', '_')}"
            coll = store.get_or_create_collection(name, embedder=backend)
            coll.set_embedder(backend)
            began = time.perf_counter()
            ensure_loaded(coll, dataset, progress=True)
            print(f"  {backend}: corpus loaded in {time.perf_counter() - began:.0f} s", flush=True)
            figures[f"documents {backend}, queries {backend}"] = evaluate(coll, dataset, modes=("vector",))["vector"]["ndcg@10"]
        torch_docs = store.collection("bench_embed_sentence_transformers")
        torch_docs.set_embedder("onnx-int8")
        try:
            figures["documents sentence-transformers, queries onnx-int8"] = (
                evaluate(torch_docs, dataset, modes=("vector",))["vector"]["ndcg@10"])
        finally:
            torch_docs.set_embedder("sentence-transformers")
    print("\n| SciFact test, exact vector search | nDCG@10 |\n|---|---|")
    for label, value in figures.items():
        print(f"| {label} | {value:.4f} |")
    return figures


if __name__ == "__main__":
    main()
