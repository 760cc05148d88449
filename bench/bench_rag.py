"""Retrieval-augmented generation on SciFact's test claims.

Run by hand (not a test):
    python bench/bench_rag.py [--data ../shared/data/scifact] [--llm offline] [--answers 20]

1. Context recall: the share of claims whose judged-relevant abstract is among the context's
   passages, for each retrieval mode and token budget (counted with the model's tokenizer).
2. With the model (`--llm`, default the offline SmolLM2): for `--answers` claims, the share of
   answers whose [n] markers all map to a source (and that cite at least one), time to first
   token, tokens per second and the time of each stage.
Prints markdown tables and writes bench/results/rag.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import vecpg
from vecpg.evaluation import ensure_loaded, load_dataset
from vecpg.rag import RAG
from vecpg.rag.llm.resolve import llm_for

MODES = ("vector", "keyword", "hybrid")
BUDGETS = (250, 500, 1000, 2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"))
    parser.add_argument("--url", default=None)
    parser.add_argument("--llm", default="offline")
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--collection", default="bench_rag_scifact")
    args = parser.parse_args()

    data = load_dataset(args.data)
    claims = data.judged_queries()
    started = time.perf_counter()
    model = llm_for(args.llm)
    load_seconds = time.perf_counter() - started
    results: dict[str, object] = {"load_s": round(load_seconds, 1)}
    with vecpg.connect(args.url) as store:
        coll = store.get_or_create_collection(args.collection)
        ensure_loaded(coll, data, progress=True)

        recall: dict[str, dict[int, float]] = {}
        for mode in MODES:
            recall[mode] = {}
            for budget in BUDGETS:
                rag = RAG(vecpg.SearchService(coll, mode=mode, k=args.k), model, token_budget=budget)
                hits = 0
                for qid, text in claims.items():
                    context = {s.id for s in rag.prepare(text).sources}
                    hits += any(data.qrels[qid].get(d, 0) > 0 for d in context)
                recall[mode][budget] = round(hits / len(claims), 4)
        results["context_recall"] = recall
        print(f"\nContext recall, k = {args.k}, {len(claims)} claims (tokens of {model.name}'s tokenizer)\n")
        print("| mode | " + " | ".join(f"budget {b}" for b in BUDGETS) + " |")
        print("|---|" + "---|" * len(BUDGETS))
        for mode in MODES:
            print(f"| {mode} | " + " | ".join(f"{recall[mode][b]:.3f}" for b in BUDGETS) + " |")

        rag = RAG(vecpg.SearchService(coll, k=args.k), model, token_budget=1000, max_tokens=96)
        timings: dict[str, list[float]] = {}
        mapped = 0
        tokens_per_s = []
        for text in list(claims.values())[:args.answers]:
            answer = None
            for piece in rag.stream(f"Is this claim supported? {text}"):
                answer = piece if not isinstance(piece, str) else answer
            assert answer is not None
            for stage, seconds in answer.timings.items():
                timings.setdefault(stage, []).append(seconds)
            mapped += bool(answer.cited) and not answer.unknown_citations
            if answer.timings.get("generate"):
                tokens_per_s.append(model.count_tokens(answer.text) / answer.timings["generate"])
        n = max(args.answers, 1)
        results["answers"] = {"n": args.answers, "all_citations_map": round(mapped / n, 3),
                              "tokens_per_s": round(statistics.median(tokens_per_s), 1) if tokens_per_s else None,
                              "p50_s": {s: round(statistics.median(v), 3) for s, v in timings.items()}}
    print(f"\nAnswers ({args.answers} claims, {model.name}, model load {load_seconds:.1f} s):",
          json.dumps(results["answers"], indent=1))
    out = Path(__file__).resolve().parent / "results" / "rag.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
