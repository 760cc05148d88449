"""``vecpg mirror``: the Qdrant copy of collections (enable, sync, status, verify, rebuild)."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import click
import psycopg
from tqdm import tqdm

from .app import connection_options, fail, store_of


def _backend() -> Any:
    from ..mirror.factory import backend_from_env

    return backend_from_env()


@click.group()
def mirror() -> None:
    """Mirror collections to Qdrant: embedded Qdrant Edge under VECPG_HOME, or VECPG_QDRANT_URL."""


@mirror.command("enable")
@click.argument("name")
@click.option("--m", type=int, help="Qdrant HNSW links per node.")
@click.option("--ef-construct", type=int, help="Qdrant HNSW build candidate list.")
@click.option("--int8", is_flag=True, help="Scalar int8 quantization.")
@click.option("--index", "indexes", multiple=True, metavar="KEY", help="Metadata key to index (repeatable).")
@click.option("--no-content", is_flag=True, help="Leave the documents' text out of the payload.")
@connection_options
@click.pass_context
def mirror_enable(ctx: click.Context, name: str, m: int | None, ef_construct: int | None, int8: bool,
                  indexes: tuple[str, ...], no_content: bool) -> None:
    """Mirror a collection from now on; the next sync copies what it holds."""
    settings: dict[str, Any] = {"m": m, "ef_construct": ef_construct, "quantization": "int8" if int8 else None}
    settings = {k: v for k, v in settings.items() if v is not None}
    if indexes:
        settings["payload_indexes"] = list(indexes)
    if no_content:
        settings["content"] = False
    store_of(ctx).collection(name).enable_mirror(**settings)
    click.echo(f"mirroring {name}: run `vecpg mirror sync` to copy it")


@mirror.command("disable")
@click.argument("name")
@connection_options
@click.pass_context
def mirror_disable(ctx: click.Context, name: str) -> None:
    """Stop mirroring a collection (its Qdrant copy stays)."""
    click.echo("stopped mirroring" if store_of(ctx).collection(name).disable_mirror() else "it was not mirrored")


@mirror.command("sync")
@click.option("--collection", "-c", "names", multiple=True, help="Only these collections (default: all mirrored).")
@click.option("--follow", is_flag=True, help="Keep running: sync on every change (LISTEN/NOTIFY, polling as fallback).")
@click.option("--batch", type=click.IntRange(1, 100_000), default=500, show_default=True)
@connection_options
@click.pass_context
def mirror_sync(ctx: click.Context, names: tuple[str, ...], follow: bool, batch: int) -> None:
    """Copy the changes waiting in the outbox to Qdrant."""
    from ..mirror.sync import follow as follow_changes
    from ..mirror.sync import sync

    store = store_of(ctx)
    backend = _backend()
    bar = tqdm(unit="event", desc="mirror sync", disable=None)

    def progress(collection: str, result: Any) -> None:
        bar.set_postfix_str(collection)
        bar.update(result.events)

    try:
        if follow:
            stopping: list[bool] = []
            signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
            follow_changes(store.admin_url, backend, list(names) or None, batch=batch,
                           should_stop=lambda: bool(stopping), on_batch=progress)
        else:
            with psycopg.connect(store.admin_url, autocommit=True) as conn:
                total = sync(conn, backend, list(names) or None, batch=batch, on_batch=progress)
            bar.close()
            click.echo(f"synced {total:,} events")
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        backend.close()


@mirror.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@connection_options
@click.pass_context
def mirror_status(ctx: click.Context, as_json: bool) -> None:
    """Backlog, oldest unsynced event and lag of each mirrored collection."""
    with psycopg.connect(store_of(ctx).admin_url) as conn:
        rows = conn.execute("SELECT collection, backlog, oldest, extract(epoch FROM lag), full_copy_pending "
                            "FROM vecpg.mirror_status()").fetchall()
    if as_json:
        click.echo(json.dumps([{"collection": c, "backlog": b, "oldest": o.isoformat() if o else None,
                                "lag_seconds": float(lag) if lag is not None else 0.0, "full_copy_pending": f}
                               for c, b, o, lag, f in rows]))
        return
    if not rows:
        click.echo("no collection is mirrored")
    for c, b, _, lag, f in rows:
        click.echo(f"{c}: {b:,} events waiting, lag {float(lag or 0):.1f} s{', full copy pending' if f else ''}")


@mirror.command("verify")
@click.option("--collection", "-c", "names", multiple=True, help="Only these collections (default: all mirrored).")
@connection_options
@click.pass_context
def mirror_verify(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Compare ids, counts, vectors and payloads with Qdrant; exit code 1 when they differ."""
    from ..mirror.sync import mirrored_collections
    from ..mirror.verify import verify

    backend = _backend()
    differs = False
    try:
        with psycopg.connect(store_of(ctx).admin_url) as conn:
            for name in names or mirrored_collections(conn):
                v = verify(conn, backend, name)
                differs |= not v.ok
                click.echo(f"{name}: postgres {v.postgres_count:,} points (checksum {v.postgres_checksum[:12]}), "
                           f"qdrant {v.qdrant_count:,} (checksum {v.qdrant_checksum[:12]}): "
                           f"{'same' if v.ok else 'DIFFERENT'}")
                for label, ids in (("missing in qdrant", v.missing), ("only in qdrant", v.extra),
                                   ("different", v.changed)):
                    if ids:
                        click.echo(f"  {label} ({len(ids)}): {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
    finally:
        backend.close()
    if differs:
        sys.exit(1)


@mirror.command("rebuild")
@click.argument("name")
@connection_options
@click.pass_context
def mirror_rebuild(ctx: click.Context, name: str) -> None:
    """Recreate a collection's Qdrant copy from PostgreSQL now."""
    from ..mirror.sync import sync

    store = store_of(ctx)
    store.collection(name).rebuild_mirror()
    backend = _backend()
    try:
        with psycopg.connect(store.admin_url, autocommit=True) as conn:
            total = sync(conn, backend, [name])
    finally:
        backend.close()
    if total == 0:
        fail(f"another sync is copying {name}: run `vecpg mirror status` to follow it")
    click.echo(f"rebuilt the Qdrant copy of {name}")
