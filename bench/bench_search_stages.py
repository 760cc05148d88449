"""Search quality and latency of every stage, in one run: nDCG@10 and p50 latency of vector,
keyword and hybrid search, hybrid + each built-in reranker (and a cross-encoder given by path),
and hybrid + MMR, on SciFact (test) and the msmarco-5k subset.

Run by hand (not a test):
    python bench/bench_search_stages.py [--data ../shared/data] [--cross-encoder PATH] [--mmr 0.7]

Each dataset is loaded once into a collection of its own (exact vector search: no index, so the
figures are the models' and the fusion's, not an index's recall). Latency is a k = 10 search
from the query's text with its embedding cached (the database's time and the second stage's),
timed in blocks that take turns (vecpg.evaluation). Prints one markdown table and writes
bench/results/search_stages.json.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import date
from pathlib import Path

import vecpg
from vecpg.evaluation import ensure_loaded, evaluate, load_dataset

DATASETS = {"SciFact (test)": "scifact", "msmarco-5k": "msmarco-5k"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--url", default=None)
    parser.add_argument("--cross-encoder", default=None, help="a local cross-encoder directory to measure too")
    parser.add_argument("--mmr", type=float, default=0.7)
    parser.add_argument("--collections", default="bench_stages_scifact,bench_stages_msmarco",
                        help="the two collections to load SciFact and msmarco-5k into (reused when loaded)")
    args = parser.parse_args()

    from vecpg.rerank import BUILTINS

    rerankers = list(BUILTINS) + ([args.cross_encoder] if args.cross_encoder else [])
    table: dict[str, dict[str, dict]] = {}
    with vecpg.connect(args.url) as store:
        for (label, folder), name in zip(DATASETS.items(), args.collections.split(",")):
            data = load_dataset(Path(args.data) / folder)
            coll = store.get_or_create_collection(name)
            ensure_loaded(coll, data, progress=True)
            rows = evaluate(coll, data, ("vector", "keyword", "hybrid"), progress=True, mmr=args.mmr)
            for name in rerankers:
                rows[f"hybrid+{Path(name).name}"] = evaluate(coll, data, ("hybrid",), progress=True,
                                                             reranker=name)["hybrid+reranker"]
            table[label] = rows

    names = list(next(iter(table.values())))
    print(f"\n{date.today()}, {platform.machine()}, {platform.python_version()}; k = 10, exact vector search\n")
    print("| search | " + " | ".join(f"{d} nDCG@10 | p50 ms" for d in table) + " |")
    print("|---|" + "---|---|" * len(table))
    for name in names:
        cells = " | ".join(f"{table[d][name]['ndcg@10']:.4f} | {table[d][name]['p50_ms']:.2f}" for d in table)
        print(f"| {name} | {cells} |")
    out = Path(__file__).resolve().parent / "results" / "search_stages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": str(date.today()), "mmr": args.mmr, "table": table}, indent=1))


if __name__ == "__main__":
    main()
