"""``vecpg search``: one query, its tuning options made from the search option dataclasses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..filters import parse_filter
from ..search import MODES, HybridOptions, KeywordOptions, SearchResult, SearchService, VectorOptions, options_for
from ..search.options import Options, spec_of
from .app import connection_options, fail, store_of

F = TypeVar("F", bound=Callable[..., Any])
# The tuning options the command line offers, in --help order; their types, choices and help
# come from the option dataclasses.
TUNING = ("method", "candidates", "vector_weight", "keyword_weight", "ranking", "ef_search", "probes", "rerank")


def _modes(name: str) -> str:
    owners: tuple[type[Options], ...] = (VectorOptions, KeywordOptions, HybridOptions)
    return " and ".join(cls.mode for cls in owners if name in cls.names())


def tuning_options(names: tuple[str, ...]) -> Callable[[F], F]:
    """Click options for search options, one per name, None when not given."""

    def decorate(command: F) -> F:
        for name in reversed(names):
            spec = spec_of(HybridOptions, name)  # hybrid search takes every option
            kind: Any = click.Choice(spec.choices) if spec.choices else spec.kind
            default = "" if spec.default is None else f" (default {spec.default})"
            flag = "--" + name.replace("_", "-")
            declarations = [f"{flag}/--no-{flag[2:]}"] if spec.kind is bool else [flag]
            command = click.option(*declarations, name, type=None if spec.kind is bool else kind, default=None,
                                   help=f"{_modes(name).capitalize()}: {spec.help}{default}.")(command)
        return command

    return decorate


def print_results(results: list[SearchResult], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results]))
        return
    for rank, r in enumerate(results, start=1):
        score = f"{r.score:.4f}" if r.score is not None else f"d={r.distance:.4f}"
        # A chunk that ranked the document says why it did: show it whole, up to 400 characters.
        shown, room = (r.highlight, 400) if r.highlight else (r.content, 100)
        snippet = shown if len(shown) <= room else shown[:room - 3] + "..."
        why = f" (chunk {r.chunk_no})" if r.chunk_no is not None else ""
        if r.vector_rank is not None or r.keyword_rank is not None:
            ranks = [f"{leg} #{rank}" if rank else f"no {leg}" for leg, rank in
                     (("vector", r.vector_rank), ("keyword", r.keyword_rank))]
            why = f" ({', '.join(ranks)})"
        if r.first_rank is not None:
            why += f" (first stage #{r.first_rank})"
        click.echo(f"{rank:2}. {score}{why}  [{r.id}] {r.title or ''}".rstrip())
        click.echo(f"    {snippet}")


@click.command()
@click.argument("text")
@click.option("--collection", "-c", "name", required=True)
@click.option("--k", "-k", type=int, default=5, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="vector", show_default=True)
@click.option("--filter", "filter_json", help='Filter as JSON, e.g. \'{"topic": "astronomy", "year": {"$gte": 2020}}\'.')
@tuning_options(TUNING)
@click.option("--backend", type=click.Choice(["postgres", "qdrant"]), default="postgres", show_default=True,
              help="Search the Qdrant mirror instead (vector mode; falls back to PostgreSQL when it lags).")
@click.option("--chunks", is_flag=True, help="Vector mode: rank documents by their best chunk (a chunked collection).")
@click.option("--reranker", metavar="NAME|PATH",
              help="Rerank the first stage's candidates with this reranker (docs/reranking.md).")
@click.option("--mmr", type=click.FloatRange(0, 1), metavar="LAMBDA",
              help="Diversify the results with maximal marginal relevance (1 = relevance only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of results.")
@connection_options
@click.pass_context
def search(ctx: click.Context, text: str, name: str, k: int, mode: str, filter_json: str | None, backend: str,
           chunks: bool, reranker: str | None, mmr: float | None, as_json: bool, **tuning: Any) -> None:
    """Search a collection with a text query."""
    flt = parse_filter(filter_json)
    coll = store_of(ctx).collection(name)
    if reranker is None and mmr is None:
        print_results(coll.search(text, k=k, mode=mode, filter=flt, backend=backend, chunks=chunks, **tuning), as_json)
        return
    if chunks:
        fail("--chunks takes no second stage: drop --reranker and --mmr")
    options = {name: value for name, value in tuning.items() if value is not None}
    service = SearchService(coll, mode=mode, k=k, filter=flt, reranker=reranker, mmr=mmr,
                            options=options_for(mode, options), backend=backend)
    print_results(service.search(text), as_json)
