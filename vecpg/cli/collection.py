"""``vecpg collection``: create, drop, list, describe, export and import collections, their TTL and purge."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from ..embedding import BACKENDS
from ..embedding.chunking import model_window
from ..ops.expiry import DEFAULT_PURGE_BATCH, format_duration, parse_duration
from ..storage import DEFAULT_STORAGE, STORAGES
from .app import connection_options, store_of
from .index import describe


@click.group()
def collection() -> None:
    """Create, drop, list and describe collections."""


@collection.command("create")
@click.argument("name")
@click.option("--dimension", type=int, help="Vector length (default: the model's).")
@click.option("--distance", type=click.Choice(["cosine", "l2", "ip"]), default="cosine", show_default=True)
@click.option("--model", help="Embedding model (default: sentence-transformers/all-MiniLM-L6-v2).")
@click.option("--language", default="english", show_default=True, help="Text-search configuration.")
@click.option("--embedder", type=click.Choice(BACKENDS),
              help="Backend that runs the model (default: the store's, VECPG_EMBEDDER or sentence-transformers).")
@click.option("--storage", type=click.Choice(list(STORAGES)), default=DEFAULT_STORAGE, show_default=True,
              help="How the table stores vectors: halfvec halves its memory (half precision, values up to 65504).")
@click.option("--partition-by-tenant", type=click.Choice(["hash", "list"]),
              help="Native partitions by tenant, each with its own indexes; a tenant's search opens its own (PostgreSQL 15+).")
@click.option("--partitions", type=int, help="Hash partitions (with --partition-by-tenant hash; default 8).")
@connection_options
@click.pass_context
def collection_create(ctx: click.Context, name: str, dimension: int | None, distance: str, model: str | None,
                      language: str, embedder: str | None, storage: str, partition_by_tenant: str | None,
                      partitions: int | None) -> None:
    """Create a collection."""
    coll = store_of(ctx).create_collection(name, dimension, distance, model, language, embedder=embedder,
                                           storage=storage, partition_by_tenant=partition_by_tenant,
                                           partitions=partitions)
    runs = f", embedder {coll.embedder_backend}" if coll.model else ""
    click.echo(f"created {coll.name}: {coll.dimension} dimensions, {coll.distance}, model {coll.model or 'none'}{runs}, "
               f"{coll.storage} storage")


@collection.command("partition")
@click.argument("name")
@click.option("--tenant", required=True, help="The tenant whose rows move to a partition of their own.")
@connection_options
@click.pass_context
def collection_partition(ctx: click.Context, name: str, tenant: str) -> None:
    """Move a tenant of a partitioned collection out of the shared default partition."""
    moved = store_of(ctx).collection(name).give_tenant_partition(tenant)
    click.echo(f"moved {moved} rows of tenant {tenant} to a partition of their own" if moved
               else f"tenant {tenant} has a partition of its own already, or no rows")


@collection.command("drop")
@click.argument("name")
@click.option("--missing-ok", is_flag=True, help="Succeed when it does not exist.")
@connection_options
@click.pass_context
def collection_drop(ctx: click.Context, name: str, missing_ok: bool) -> None:
    """Drop a collection and its documents."""
    dropped = store_of(ctx).drop_collection(name, missing_ok=missing_ok)
    click.echo(f"dropped {name}" if dropped else f"{name} does not exist")


@collection.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@connection_options
@click.pass_context
def collection_list(ctx: click.Context, as_json: bool) -> None:
    """List collections."""
    infos = store_of(ctx).list_collections()
    if as_json:
        click.echo(json.dumps([{**asdict(i), "created_at": i.created_at.isoformat()} for i in infos]))
        return
    for i in infos:
        click.echo(f"{i.name}\t{i.dimension}\t{i.distance}\t{i.model or '-'}\t{i.storage}")


@collection.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@connection_options
@click.pass_context
def collection_info(ctx: click.Context, name: str, as_json: bool) -> None:
    """Describe a collection: settings, document count, indexes."""
    coll = store_of(ctx).collection(name)
    indexes = coll.indexes()
    tuning = coll.tuning()
    # The embedder that runs (collection's, else the store's default), and which of the two it is.
    embedder = None if coll.model is None else coll.embedder_backend
    source = None if coll.model is None else ("collection" if coll.info.embedder else "store default")
    info = {**asdict(coll.info), "created_at": coll.info.created_at.isoformat(), "ttl": format_duration(coll.ttl),
            "embedder": embedder,
            "embedder source": source, "documents": coll.count(),
            "keyword index": coll.has_keyword_index(), "indexes": [asdict(i) for i in indexes],
            "tuning": tuning.to_json() if tuning else None}
    if as_json:
        click.echo(json.dumps(info))
        return
    for key, value in info.items():
        if key == "embedder":
            click.echo(f"{'embedder:':15}{value or '-'}" + (f" ({source})" if source else ""))
        elif key not in ("indexes", "tuning", "embedder source"):
            click.echo(f"{key + ':':15}{value}")
    for index in indexes:
        click.echo(f"index:         {describe(index, name)}")
    if tuning:  # what search_defaults holds, and the recall it was measured at
        click.echo(f"tuned:         {tuning.summary()}")
    if coll.model is not None:
        chunked = coll.chunking()
        if chunked:
            click.echo(f"chunks:        {chunked[0]} tokens, overlapping by {chunked[1]}")
        else:
            over, seen = coll.over_window()
            if over:  # the model reads only its window: the rest of these texts is not searchable
                click.echo(f"long texts:    {over} of {seen} sampled documents exceed {coll.model}'s window of "
                           f"{model_window(coll.model)} tokens and are embedded truncated; "
                           f"vecpg collection chunk {name} splits them")


@collection.command("chunk")
@click.argument("name")
@click.option("--tokens", type=int, help="Model tokens per chunk (default 240: all-MiniLM-L6-v2 reads 256).")
@click.option("--overlap", type=int, help="Tokens each chunk shares with the next (default 40).")
@click.option("--off", is_flag=True, help="Drop the chunks: one vector per document again.")
@connection_options
@click.pass_context
def collection_chunk(ctx: click.Context, name: str, tokens: int | None, overlap: int | None, off: bool) -> None:
    """Split long documents into overlapping chunks with their own vectors (written by vecpg worker)."""
    coll = store_of(ctx).collection(name)
    if off:
        click.echo("dropped the chunks" if coll.disable_chunking() else f"{name} was not chunked")
        return
    queued = coll.enable_chunking(tokens, overlap)
    click.echo(f"chunking {name}: {queued:,} documents queued for vecpg worker")


@collection.command("ttl")
@click.argument("name")
@click.argument("ttl")
@click.option("--apply-to-existing", is_flag=True,
              help="Give documents without an expiry one too, TTL after their last update.")
@connection_options
@click.pass_context
def collection_ttl(ctx: click.Context, name: str, ttl: str, apply_to_existing: bool) -> None:
    """Documents of NAME expire TTL (30d, 12h, 90m...) after each write unless they bring expires_at; none clears it."""
    duration = parse_duration(ttl)
    given = store_of(ctx).collection(name).set_ttl(duration, apply_to_existing=apply_to_existing)
    said = f"documents of {name} expire {format_duration(duration)} after each write" if duration else f"{name} has no TTL"
    click.echo(said + (f"; {given:,} existing documents given an expiry" if given else ""))


@collection.command("purge")
@click.argument("name")
@click.option("--batch-size", type=int, default=DEFAULT_PURGE_BATCH, show_default=True,
              help="Documents deleted per transaction.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@connection_options
@click.pass_context
def collection_purge(ctx: click.Context, name: str, batch_size: int, quiet: bool) -> None:
    """Delete NAME's expired documents (of every tenant) in small batches; the mirror and keyword statistics follow."""
    purged = store_of(ctx).collection(name).purge_expired(batch_size, progress=not quiet)
    click.echo(f"purged {purged:,} expired documents of {name}")


@collection.command("export")
@click.argument("name")
@click.argument("file", required=False, default="-")
@click.option("--format", "format_", type=click.Choice(["jsonl", "parquet"]),
              help="Default: by FILE's extension (.parquet; else JSONL, gzipped for .gz); JSONL on stdout.")
@click.option("--quiet", is_flag=True, help="No progress bar (there is none when writing to stdout).")
@connection_options
@click.pass_context
def collection_export(ctx: click.Context, name: str, file: str, format_: str | None, quiet: bool) -> None:
    """Write every row of every tenant (vectors, metadata, timestamps) and the collection's settings to FILE or stdout."""
    coll = store_of(ctx).collection(name)
    to_file = file != "-"
    written = coll.export(Path(file) if to_file else None, format_, progress=to_file and not quiet)
    if to_file:
        click.echo(f"exported {written:,} rows of {name} to {file}", err=True)


@collection.command("import")
@click.argument("name")
@click.argument("file")
@click.option("--format", "format_", type=click.Choice(["jsonl", "parquet"]),
              help="Default: by FILE's extension (.parquet; else JSONL, gzipped or not). FILE - reads JSONL on stdin.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@connection_options
@click.pass_context
def collection_import(ctx: click.Context, name: str, file: str, format_: str | None, quiet: bool) -> None:
    """Load an export into NAME (created with the export's settings if missing), in one transaction."""
    result = store_of(ctx).import_collection(name, file, format_, progress=not quiet)
    made = "created" if result.created else "into existing"
    click.echo(f"imported {result.rows:,} rows ({made} collection {name})")
