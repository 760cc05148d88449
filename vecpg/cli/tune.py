"""``vecpg index tune``: measure recall and store the search options reaching a target.

Registered on the ``index`` group by ``vecpg.cli`` (its own module, so that ``index.py`` stays as
it is).
"""

from __future__ import annotations

import json

import click

from ..index.tuning import MAX_SAMPLE, TuningResult
from .app import connection_options, store_of


@click.command("tune")
@click.option("--collection", "-c", "name", required=True)
@click.option("--target-recall", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True,
              help="Mean recall@k to reach.")
@click.option("--k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Results per query.")
@click.option("--sample", type=click.IntRange(1, MAX_SAMPLE), default=200, show_default=True,
              help="Stored vectors taken as queries.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which stored vectors: the same for the same seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@connection_options
@click.pass_context
def index_tune(ctx: click.Context, name: str, target_recall: float, k: int, sample: int, seed: int,
               as_json: bool) -> None:
    """Choose ef_search (HNSW) or probes (IVFFlat), and rerank for binary codes, by measured recall.

    Later searches use the choice unless they give their own options; `vecpg collection info`
    shows it. A target no value reaches stores the best one, with a warning (exit code 0).
    """
    coll = store_of(ctx).collection(name)
    result = coll.tune(target_recall, k, sample=sample, seed=seed, progress=not as_json)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(f"tuned {name}: {result.summary()}")
        click.echo(curve_text(result))
    if not result.reached:
        click.echo(f"warning: no {result.parameter} up to {result.curve[-1][0]} reaches recall@{k} "
                   f"{target_recall:g}; stored the best measured, {result.value} ({result.recall:.3f})", err=True)


def curve_text(result: TuningResult) -> str:
    """The recall measured at each value tried, one line per parameter."""
    lines = [f"  {name}: " + ", ".join(f"{value} -> {recall:.3f}" for value, recall in curve)
             for name, curve in (("rerank", result.rerank_curve), (result.parameter, result.curve)) if curve]
    return "\n".join(lines)
