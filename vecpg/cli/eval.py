"""``vecpg eval``: search quality and latency on a BEIR-format dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..evaluation import checked_options, ensure_loaded, evaluate, load_dataset
from ..search import MODES
from .app import connection_options, fail, store_of


@click.command("eval")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True, help="Collection to load the corpus into (created if missing).")
@click.option("--modes", default="vector,keyword,hybrid", show_default=True, help="Comma-separated search modes.")
@click.option("--split", default="test", show_default=True, help="Which qrels/<split>.tsv to score.")
@click.option("--keyword-index", is_flag=True, help="Build the collection's keyword index first, if it has none.")
@click.option("--options", "options_json", metavar="JSON",
              help='Search options per mode, e.g. \'{"hybrid": {"method": "rrf"}, "vector": {"ef_search": 100}}\'.')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@connection_options
@click.pass_context
def eval_cmd(ctx: click.Context, dataset: Path, name: str, modes: str, split: str, keyword_index: bool,
             options_json: str | None, as_json: bool) -> None:
    """Measure nDCG@10, recall@100, MRR@10 and p50 latency on a BEIR-format dataset.

    Figures depend on the collection's indexes (built by `vecpg index`), which it prints.
    """
    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        fail(f"--modes takes {', '.join(MODES)}, got {modes!r}")
    try:
        options = checked_options(json.loads(options_json), chosen) if options_json else None
    except json.JSONDecodeError as exc:
        fail(f"--options is not valid JSON: {exc.msg} at position {exc.pos}")
    data = load_dataset(dataset, split)
    coll = store_of(ctx).get_or_create_collection(name)
    ensure_loaded(coll, data, progress=not as_json)
    if keyword_index and not coll.has_keyword_index():
        coll.enable_keyword_index()
    results = evaluate(coll, data, chosen, progress=not as_json, options=options)
    vector_index = ", ".join(i.method + ("" if i.valid else " (invalid)") for i in coll.indexes()) or "none (exact search)"
    if as_json:
        click.echo(json.dumps(results))
        return
    click.echo(f"vector index: {vector_index}; keyword index: {'yes' if coll.has_keyword_index() else 'no'}")
    click.echo(f"{'mode':10}{'nDCG@10':>10}{'recall@100':>12}{'MRR@10':>10}{'p50 ms':>10}"
               f"   ({len(data.judged_queries())} queries; latency of a k=10 search, embedding excluded)")
    for mode, scores in results.items():
        click.echo(f"{mode:10}{scores['ndcg@10']:>10.4f}{scores['recall@100']:>12.4f}{scores['mrr@10']:>10.4f}"
                   f"{scores['p50_ms']:>10.2f}")
