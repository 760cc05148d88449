"""``vecpg ingest`` and ``vecpg delete``: writing documents."""

from __future__ import annotations

from pathlib import Path

import click

from ..filters import parse_filter
from ..ingest import count_records, read_documents
from .app import connection_options, fail, store_of


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True)
@click.option("--batch-size", type=int, default=256, show_default=True, help="Rows checked and embedded at a time.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@connection_options
@click.pass_context
def ingest(ctx: click.Context, file: Path, name: str, batch_size: int, quiet: bool) -> None:
    """Load a CSV or JSONL file (id, title, content, metadata) into a collection."""
    coll = store_of(ctx).collection(name)
    written = coll.load(read_documents(file), batch_size=batch_size, progress=not quiet,
                        total=count_records(file))
    click.echo(f"wrote {written} documents to {name}")


@click.command()
@click.option("--collection", "-c", "name", required=True)
@click.option("--id", "ids", multiple=True, help="Document id (repeatable).")
@click.option("--filter", "filter_json", help="Delete the documents matching this JSON filter.")
@connection_options
@click.pass_context
def delete(ctx: click.Context, name: str, ids: tuple[str, ...], filter_json: str | None) -> None:
    """Delete documents by id or by filter."""
    if not ids and not filter_json:
        fail("give --id or --filter")
    flt = parse_filter(filter_json)
    deleted = store_of(ctx).collection(name).delete(list(ids) if ids else None, filter=flt)
    click.echo(f"deleted {deleted} documents from {name}")
