"""``vecpg eval``: search quality and latency on a BEIR-format dataset, or on labelled queries of
your own against an existing collection."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..evaluation import checked_options, ensure_loaded, evaluate, load_dataset, load_judgements
from ..search import MODES
from .app import connection_options, fail, store_of


@click.command("eval")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True,
              help="Collection to search: for a BEIR directory, loaded with its corpus (created if missing); "
                   "for a .csv or .jsonl file of labelled queries, one that holds the documents already.")
@click.option("--modes", default="vector,keyword,hybrid", show_default=True, help="Comma-separated search modes.")
@click.option("--split", default="test", show_default=True, help="Which qrels/<split>.tsv of a BEIR directory to score.")
@click.option("--keyword-index", is_flag=True, help="Build the collection's keyword index first, if it has none.")
@click.option("--options", "options_json", metavar="JSON",
              help='Search options per mode, e.g. \'{"hybrid": {"method": "rrf"}, "vector": {"ef_search": 100}}\'.')
@click.option("--reranker", metavar="NAME|PATH",
              help="Also score each mode with this reranker over its candidates (see docs/reranking.md).")
@click.option("--mmr", type=click.FloatRange(0, 1), metavar="LAMBDA",
              help="Also score each mode with maximal marginal relevance (1 = relevance only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@connection_options
@click.pass_context
def eval_cmd(ctx: click.Context, dataset: Path, name: str, modes: str, split: str, keyword_index: bool,
             options_json: str | None, reranker: str | None, mmr: float | None, as_json: bool) -> None:
    """Measure nDCG@10, recall@100, MRR@10 and p50 latency of each search mode.

    DATASET is a BEIR-format directory (corpus.jsonl, queries.jsonl, qrels/), or a .csv or .jsonl
    file of labelled queries (columns query, relevant_ids, optional grades; see
    docs/evaluation.md). Figures depend on the collection's indexes (built by `vecpg index`),
    which it prints.
    """
    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        fail(f"--modes takes {', '.join(MODES)}, got {modes!r}")
    try:
        options = checked_options(json.loads(options_json), chosen) if options_json else None
    except json.JSONDecodeError as exc:
        fail(f"--options is not valid JSON: {exc.msg} at position {exc.pos}")
    store = store_of(ctx)
    if dataset.is_dir():
        data = load_dataset(dataset, split)
        coll = store.get_or_create_collection(name)
        ensure_loaded(coll, data, progress=not as_json)
    else:
        data = load_judgements(dataset)
        coll = store.get_collection(name)
    if keyword_index and not coll.has_keyword_index():
        coll.enable_keyword_index()
    results = evaluate(coll, data, chosen, progress=not as_json, options=options, reranker=reranker, mmr=mmr)
    vector_index = ", ".join(i.method + ("" if i.valid else " (invalid)") for i in coll.indexes()) or "none (exact search)"
    if as_json:
        click.echo(json.dumps(results))
        return
    click.echo(f"vector index: {vector_index}; keyword index: {'yes' if coll.has_keyword_index() else 'no'}")
    width = max(10, *(len(label) + 2 for label in results))
    click.echo(f"{'mode':{width}}{'nDCG@10':>10}{'recall@100':>12}{'MRR@10':>10}{'p50 ms':>10}"
               f"   ({len(data.judged_queries())} queries; latency of a k=10 search, embedding excluded)")
    for label, scores in results.items():
        recall = scores["recall@100"]
        click.echo(f"{label:{width}}{scores['ndcg@10']:>10.4f}{'—' if recall is None else f'{recall:.4f}':>12}"
                   f"{scores['mrr@10']:>10.4f}{scores['p50_ms']:>10.2f}")
