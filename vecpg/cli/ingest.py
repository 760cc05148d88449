"""``vecpg ingest`` and ``vecpg delete``: writing documents."""

from __future__ import annotations

from pathlib import Path

import click

from ..filters import parse_filter
from ..ingest import IngestOptions, plan_ingest, run_ingest
from .app import connection_options, fail, store_of


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Rows checked and embedded at a time.")
@click.option("--commit-every", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Records per transaction; an interrupted ingest resumes after the last one committed.")
@click.option("--via-queue", is_flag=True,
              help="Write text and metadata only; `vecpg worker` computes the vectors (collections with a model).")
@click.option("--restart", is_flag=True, help="Ingest the file from its start even if an earlier run ingested it.")
@click.option("--metadata-columns", metavar="COL,COL", default="",
              help="Columns to keep as metadata keys (e.g. category,author); other unknown columns are ignored.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@connection_options
@click.pass_context
def ingest(ctx: click.Context, file: Path, name: str, batch_size: int, commit_every: int, via_queue: bool,
           restart: bool, metadata_columns: str, quiet: bool) -> None:
    """Load a CSV or JSONL file (optionally .gz) or a Parquet file (id, title, content, metadata) into a collection.

    The file is read as a stream and committed every --commit-every records with a checkpoint:
    run again, the ingest resumes after the last committed record, or does nothing if the file
    was ingested whole (unless --restart); a file whose contents changed starts over.
    """
    coll = store_of(ctx).collection(name)
    options = IngestOptions(batch_size=batch_size, commit_every=commit_every, via_queue=via_queue,
                            restart=restart, progress=not quiet,
                            metadata_columns=tuple(c.strip() for c in metadata_columns.split(",") if c.strip()))
    plan = plan_ingest(coll, file, restart=restart)
    if plan.status == "done":
        click.echo(f"{file} is already ingested into {name} ({plan.start} records): nothing to do "
                   "(--restart ingests it again)")
        return
    message = plan.describe()
    if message:
        click.echo(message)
    result = run_ingest(coll, plan, options)
    queued = " (queued for embedding)" if via_queue else ""
    click.echo(f"wrote {result.documents} documents to {name}{queued} in {result.seconds:.1f} s "
               f"({result.docs_per_second:,.0f} docs/s)")


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
