"""``vecpg worker``: embed queued documents; ``status``, ``retry`` and ``backfill`` beside it."""

from __future__ import annotations

import json
import os
import signal
import sys

import click
import psycopg
from tqdm import tqdm

from .. import config
from ..resources import query
from ..worker import Worker, WorkerOptions, embedding_status, failures
from ..worker.options import BATCH, MAX_ATTEMPTS
from .app import connection_options, store_of

_DEFAULTS = WorkerOptions()


@click.group(invoke_without_command=True)
@click.option("--collection", "-c", "names", multiple=True, help="Only these collections (default: all with a model).")
@click.option("--batch", type=click.IntRange(*BATCH), default=_DEFAULTS.batch, show_default=True,
              help="Documents claimed and embedded at a time.")
@click.option("--max-attempts", type=click.IntRange(*MAX_ATTEMPTS), default=_DEFAULTS.max_attempts, show_default=True,
              help="Failed tries before a document moves to the failed list.")
@click.option("--once", is_flag=True, help="Embed what is queued, then exit (default: keep running).")
@click.option("--threads", type=click.IntRange(1, 256),
              help="CPU threads for the model (default all; N workers on C cores: C/N each).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--metrics-port", type=click.IntRange(0, 65535),
              help="Serve this worker's metrics (embedding batches, queue) for Prometheus on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="The address of --metrics-port (0.0.0.0 in a container Prometheus scrapes).")
@connection_options
@click.pass_context
def worker(ctx: click.Context, names: tuple[str, ...], batch: int, max_attempts: int, once: bool,
           threads: int | None, quiet: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Embed documents queued by writes without a vector (any client, any language).

    Runs until SIGTERM (it finishes the batch in hand) unless --once. Start several to share the
    work: none embeds a row another has claimed, and a killed worker's rows go back to the queue.
    """
    if ctx.invoked_subcommand is not None:
        return
    if threads is not None:  # read when the model loads, which has not happened yet
        os.environ[config.EMBED_THREADS_ENV] = str(threads)
    store = store_of(ctx)
    if metrics_port is not None:
        import prometheus_client

        from ..metrics import enable

        metrics = enable()
        metrics.watch(store)
        prometheus_client.start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    options = WorkerOptions(batch=batch, max_attempts=max_attempts, collections=names)
    with psycopg.connect(store.admin_url, autocommit=True) as conn:
        row = conn.execute(query("embedding_queued"), {"names": list(names)}).fetchone()
        waiting = int(row[0]) if row else 0
    bar = tqdm(total=waiting if once else None, unit="doc", desc="embedding", disable=True if quiet else None)

    def progress(collection: str, written: int, failed: int) -> None:
        bar.set_postfix_str(collection + (f", {failed} failed" if failed else ""))
        bar.update(written + failed)

    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        with Worker(store.admin_url, options, embedder_for=store.embedder_for_collection,
                    on_batch=progress) as running:
            stats = running.run_once(lambda: bool(stopping)) if once else running.run(lambda: bool(stopping))
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        bar.close()
    click.echo(f"embedded {stats.embedded:,} documents" + (f", {stats.failed:,} failed" if stats.failed else ""))


@worker.command("status")
@click.option("--collection", "-c", "name", help="Only this collection.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@connection_options
@click.pass_context
def worker_status(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Backlog, oldest queued document, coverage, failures and throughput per collection."""
    store = store_of(ctx)
    with psycopg.connect(store.admin_url, autocommit=True) as conn:
        rows = embedding_status(conn, name)
        failed = failures(conn, name, limit=10)
    if as_json:
        click.echo(json.dumps({"collections": [r.as_dict() for r in rows],
                               "failures": [{"collection": f.collection, "id": f.doc_id, "attempts": f.attempts,
                                             "error": f.last_error, "failed_at": f.failed_at.isoformat()}
                                            for f in failed]}, indent=2))
        return
    if not rows:
        click.echo("no collection with a model")
    for r in rows:
        age = "-" if r.oldest_queued_seconds is None else f"{r.oldest_queued_seconds:.1f} s"
        rate = "-" if r.docs_per_second is None else f"{r.docs_per_second:,.0f} docs/s"
        click.echo(f"{r.collection}: {r.embedded:,}/{r.documents:,} embedded ({r.coverage:.1%}), "
                   f"{r.queued:,} queued (oldest {age}), {r.failed:,} failed, "
                   f"{r.embedded_5min:,} embedded in 5 min at {rate}")
    for f in failed:
        click.echo(f"  failed {f.collection}/{f.doc_id} after {f.attempts} attempts: {f.last_error}")


@worker.command("retry")
@click.option("--collection", "-c", "name", help="Only this collection (default: all).")
@connection_options
@click.pass_context
def worker_retry(ctx: click.Context, name: str | None) -> None:
    """Put the failed list back in the queue."""
    store = store_of(ctx)
    if name:
        store.collection(name)  # an unknown name is an error, not "0 requeued"
    with psycopg.connect(store.admin_url, autocommit=True) as conn:
        count = conn.execute("SELECT vecpg.retry_embeddings(%s)", (name,)).fetchone()[0]  # type: ignore[index]
    click.echo(f"requeued {count:,} documents")


@worker.command("backfill")
@click.option("--collection", "-c", "name", required=True)
@connection_options
@click.pass_context
def worker_backfill(ctx: click.Context, name: str) -> None:
    """Queue every document that has text and no vector (written before the queue existed)."""
    store = store_of(ctx)
    with psycopg.connect(store.admin_url, autocommit=True) as conn:
        count = conn.execute("SELECT vecpg.queue_missing_embeddings(%s)", (name,)).fetchone()[0]  # type: ignore[index]
    click.echo(f"queued {count:,} documents")
