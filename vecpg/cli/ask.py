"""``vecpg ask``: a question answered from a collection, with cited sources."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

import click

from ..filters import parse_filter
from ..rag import RAG, Answer
from ..search import MODES, SearchService
from .app import connection_options, store_of


@click.command()
@click.argument("question")
@click.option("--collection", "-c", "name", required=True)
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--k", "-k", type=click.IntRange(1, 100), default=5, show_default=True, help="Passages retrieved.")
@click.option("--filter", "filter_json", help='Filter as JSON, e.g. \'{"category": "billing"}\'.')
@click.option("--reranker", metavar="NAME|PATH", help="Rerank the retrieved candidates first (docs/reranking.md).")
@click.option("--llm", "llm_spec", metavar="offline|URL|PATH",
              help="The language model: offline (default, or VECPG_LLM), an OpenAI-compatible endpoint URL, "
                   "or a local model directory or GGUF file.")
@click.option("--token-budget", type=click.IntRange(min=1), default=1500, show_default=True,
              help="Tokens of the model's tokenizer the passages may take.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True,
              help="Tokens the answer may take.")
@click.option("--per-document", type=click.IntRange(1, 100), default=3, show_default=True,
              help="In a chunked collection, a document's chunks nearest to the question that make its passages.")
@click.option("--show-prompt", is_flag=True, help="Print the prompt and its sources, and exit without calling a model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (no streaming).")
@connection_options
@click.pass_context
def ask(ctx: click.Context, question: str, name: str, mode: str, k: int, filter_json: str | None,
        reranker: str | None, llm_spec: str | None, token_budget: int, max_tokens: int, per_document: int,
        show_prompt: bool, as_json: bool) -> None:
    """Answer a question from a collection's documents, citing them as [n]."""
    coll = store_of(ctx).collection(name)
    service = SearchService(coll, mode=mode, k=k, filter=parse_filter(filter_json), reranker=reranker)
    settings: dict[str, Any] = {"token_budget": token_budget, "max_tokens": max_tokens, "per_document": per_document}
    if show_prompt:
        # No model is loaded: passages are budgeted in words, a stand-in for the model's tokens.
        rag = RAG(service, lambda prompt: "", **settings)
        prepared = rag.prepare(question)
        if as_json:
            click.echo(json.dumps({**prepared.to_dict(), "prompt": [asdict(m) for m in prepared.prompt]}))
            return
        for message in prepared.prompt:
            click.echo(f"--- {message.role} ---\n{message.content}\n")
        if not prepared.found:
            click.echo(prepared.text)
        _print_sources(prepared, cited_only=False)
        return
    from ..rag.llm.resolve import llm_for

    rag = RAG(service, llm_for(llm_spec), **settings)
    if as_json:
        click.echo(json.dumps(rag.ask(question).to_dict()))
        return
    answer: Answer | None = None
    for piece in rag.stream(question):
        if isinstance(piece, Answer):
            answer = piece
        else:
            sys.stdout.write(piece)
            sys.stdout.flush()
    click.echo("")
    if answer is not None:
        _print_sources(answer, cited_only=True)


def _print_sources(answer: Answer, cited_only: bool) -> None:
    shown = answer.cited if cited_only and answer.cited else answer.sources
    if shown:
        click.echo("\nSources:")
    for s in shown:
        cut = " (cut to fit)" if s.truncated else ""
        click.echo(f"  [{s.number}] {s.id}  {s.title or ''}{cut}".rstrip())
    if answer.unknown_citations:
        click.echo(f"  (cited but not given: {', '.join(f'[{n}]' for n in answer.unknown_citations)})")
    if answer.dropped:
        click.echo(f"  (left out for the token budget: {', '.join(answer.dropped)})")
