"""The ``vecpg`` command line: the same core as the library, errors as one line and exit code 2."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click
import psycopg

from . import config, migrate
from .collection import Collection
from .db import resolve_url
from .errors import VecpgError
from .evaluate import checked_options, ensure_loaded, evaluate, load_dataset
from .filters import parse_filter
from .indexes import HNSW, IndexSpec, IVFFlat
from .ingest import count_records, read_documents
from .progress import create_index_with_progress
from .search import MODES, SearchResult
from .server import TUNABLE, EmbeddedServer
from .store import Store, connect

DEMO_QUERIES = (
    "how do stars form",
    "what temperature should bread bake at",
    "index types for nearest neighbour search",
    "causes of sea level rise",
)


def _fail(message: str) -> NoReturn:
    # One line whatever the source: driver messages often carry a second "HINT"-like line.
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(2)


class _Group(click.Group):
    """Turns usage, vecpg and database errors into one readable line and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            hint = f" (see: vecpg {exc.ctx.command_path.partition(' ')[2]} --help)".replace("  ", " ") if exc.ctx else ""
            _fail(exc.format_message() + hint)
        except click.exceptions.Abort:
            _fail("aborted")
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VecpgError as exc:
            _fail(str(exc))
        except psycopg.Error as exc:
            _fail((exc.diag.message_primary if getattr(exc, "diag", None) else None) or str(exc).strip())


def _store(ctx: click.Context) -> Store:
    obj = ctx.ensure_object(dict)
    if "store" not in obj:
        obj["store"] = connect(obj.get("url"))
        ctx.call_on_close(obj["store"].close)
        if obj.get("tenant"):
            ctx.with_resource(obj["store"].tenant(obj["tenant"]))
    return obj["store"]


@click.group(cls=_Group)
@click.option("--url", envvar=config.DATABASE_URL_ENV, help="Database URL (default: the embedded server).")
@click.option("--tenant", envvar="VECPG_TENANT", help="Act for this tenant (row-level security).")
@click.pass_context
def main(ctx: click.Context, url: str | None, tenant: str | None) -> None:
    """vecpg: vector search on PostgreSQL."""
    ctx.ensure_object(dict).update(url=url or None, tenant=tenant or None)


# -- database ---------------------------------------------------------------------------------
@main.command("migrate")
@click.option("--downgrade", "down_to", metavar="REV", help="Migrate down to REV instead (base removes vecpg).")
@click.pass_context
def migrate_cmd(ctx: click.Context, down_to: str | None) -> None:
    """Apply vecpg's schema migrations (to the newest revision)."""
    url = resolve_url(ctx.obj["url"])
    if down_to:
        migrate.downgrade(url, down_to)
    else:
        migrate.upgrade(url)
    click.echo(f"vecpg schema at revision {migrate.current(url) or 'base'}")


@main.group()
def db() -> None:
    """Manage the embedded PostgreSQL server."""


@db.command("start")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help=f"Server setting to keep for every start ({', '.join(TUNABLE)}).")
def db_start(settings: tuple[str, ...]) -> None:
    """Start the embedded server (creating it on first use)."""
    server = EmbeddedServer()
    overrides = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not value:
            _fail(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name.strip()] = value.strip()
    if overrides:
        server.save_overrides(overrides)
    url = server.start()
    status = server.status()
    if status.pending_restart:
        click.echo(f"note: {', '.join(status.pending_restart)} change at the next restart (vecpg db stop; vecpg db start)")
    click.echo(url)


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    click.echo("stopped" if EmbeddedServer().stop() else "not running")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def db_status(as_json: bool) -> None:
    """Whether the embedded server runs, its URL and its vector-search settings."""
    status = EmbeddedServer().status()
    if as_json:
        click.echo(json.dumps({**asdict(status), "pgdata": str(status.pgdata)}))
        return
    click.echo(f"running:  {'yes' if status.running else 'no'}")
    click.echo(f"data:     {status.pgdata}")
    if status.url:
        click.echo(f"url:      {status.url}")
    for name, value in status.settings.items():
        pending = "  (changes at next restart)" if name in status.pending_restart else ""
        click.echo(f"{name + ':':34}{value}{pending}")


@db.command("url")
@click.option("--app", is_flag=True,
              help="The application role's URL instead (vecpg_app, bound by row-level security).")
def db_url(app: bool) -> None:
    """Print the embedded server's URL (starting it if needed).

    By default the administrator's (superuser postgres), for psql, migrations and role
    management: row-level security does not bind it, so tenants isolate nothing there.
    """
    server = EmbeddedServer()
    click.echo(server.app_url() if app else server.start())


# -- collections ------------------------------------------------------------------------------
@main.group()
def collection() -> None:
    """Create, drop, list and describe collections."""


@collection.command("create")
@click.argument("name")
@click.option("--dimension", type=int, help="Vector length (default: the model's).")
@click.option("--distance", type=click.Choice(["cosine", "l2", "ip"]), default="cosine", show_default=True)
@click.option("--model", help="Embedding model (default: sentence-transformers/all-MiniLM-L6-v2).")
@click.option("--language", default="english", show_default=True, help="Text-search configuration.")
@click.pass_context
def collection_create(ctx: click.Context, name: str, dimension: int | None, distance: str,
                      model: str | None, language: str) -> None:
    """Create a collection."""
    coll = _store(ctx).create_collection(name, dimension, distance, model, language)
    click.echo(f"created {coll.name}: {coll.dimension} dimensions, {coll.distance}, model {coll.model or 'none'}")


@collection.command("drop")
@click.argument("name")
@click.option("--missing-ok", is_flag=True, help="Succeed when it does not exist.")
@click.pass_context
def collection_drop(ctx: click.Context, name: str, missing_ok: bool) -> None:
    """Drop a collection and its documents."""
    dropped = _store(ctx).drop_collection(name, missing_ok=missing_ok)
    click.echo(f"dropped {name}" if dropped else f"{name} does not exist")


@collection.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
def collection_list(ctx: click.Context, as_json: bool) -> None:
    """List collections."""
    infos = _store(ctx).list_collections()
    if as_json:
        click.echo(json.dumps([{**asdict(i), "created_at": i.created_at.isoformat()} for i in infos]))
        return
    for i in infos:
        click.echo(f"{i.name}\t{i.dimension}\t{i.distance}\t{i.model or '-'}")


@collection.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def collection_info(ctx: click.Context, name: str, as_json: bool) -> None:
    """Describe a collection: settings, document count, indexes."""
    coll = _store(ctx).collection(name)
    info = {**asdict(coll.info), "created_at": coll.info.created_at.isoformat(), "documents": coll.count(),
            "keyword index": coll.has_keyword_index(), "indexes": [asdict(i) for i in coll.indexes()]}
    if as_json:
        click.echo(json.dumps(info))
        return
    for key, value in info.items():
        if key != "indexes":
            click.echo(f"{key + ':':15}{value}")
    for index in info["indexes"]:
        click.echo(f"index:         {index['name']} ({index['method']}, {index['size_bytes'] / 2**20:.1f} MiB)")


# -- documents --------------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True)
@click.option("--batch-size", type=int, default=256, show_default=True, help="Rows checked and embedded at a time.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def ingest(ctx: click.Context, file: Path, name: str, batch_size: int, quiet: bool) -> None:
    """Load a CSV or JSONL file (id, title, content, metadata) into a collection."""
    coll = _store(ctx).collection(name)
    written = coll.load(read_documents(file), batch_size=batch_size, progress=not quiet,
                        total=count_records(file))
    click.echo(f"wrote {written} documents to {name}")


def _print_results(results: list[SearchResult], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results]))
        return
    for rank, r in enumerate(results, start=1):
        score = f"{r.score:.4f}" if r.score is not None else f"d={r.distance:.4f}"
        snippet = r.content if len(r.content) <= 100 else r.content[:97] + "..."
        why = ""
        if r.vector_rank is not None or r.keyword_rank is not None:
            ranks = [f"{leg} #{rank}" if rank else f"no {leg}" for leg, rank in
                     (("vector", r.vector_rank), ("keyword", r.keyword_rank))]
            why = f" ({', '.join(ranks)})"
        click.echo(f"{rank:2}. {score}{why}  [{r.id}] {r.title or ''}".rstrip())
        click.echo(f"    {snippet}")


@main.command()
@click.argument("text")
@click.option("--collection", "-c", "name", required=True)
@click.option("--k", "-k", type=int, default=5, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="vector", show_default=True)
@click.option("--filter", "filter_json", help='Filter as JSON, e.g. \'{"topic": "astronomy", "year": {"$gte": 2020}}\'.')
@click.option("--method", type=click.Choice(["adaptive", "rrf", "convex"]),
              help="Hybrid: how the two lists are fused (default adaptive).")
@click.option("--candidates", type=int, help="Hybrid: rows each list contributes (default 4*k).")
@click.option("--vector-weight", type=float, help="Hybrid: weight of the vector list.")
@click.option("--keyword-weight", type=float, help="Hybrid: weight of the keyword list.")
@click.option("--ranking", type=click.Choice(["bm25", "ts_rank_cd"]), help="Keyword ranking (default bm25).")
@click.option("--ef-search", type=int, help="HNSW candidate list size for this query.")
@click.option("--probes", type=int, help="IVFFlat lists to visit for this query.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of results.")
@click.pass_context
def search(ctx: click.Context, text: str, name: str, k: int, mode: str, filter_json: str | None,
           method: str | None, candidates: int | None, vector_weight: float | None, keyword_weight: float | None,
           ranking: str | None, ef_search: int | None, probes: int | None, as_json: bool) -> None:
    """Search a collection with a text query."""
    flt = parse_filter(filter_json)
    coll = _store(ctx).collection(name)
    results = coll.search(text, k=k, mode=mode, filter=flt, method=method, candidates=candidates,
                          vector_weight=vector_weight, keyword_weight=keyword_weight, ranking=ranking,
                          ef_search=ef_search, probes=probes)
    _print_results(results, as_json)


@main.command()
@click.option("--collection", "-c", "name", required=True)
@click.option("--id", "ids", multiple=True, help="Document id (repeatable).")
@click.option("--filter", "filter_json", help="Delete the documents matching this JSON filter.")
@click.pass_context
def delete(ctx: click.Context, name: str, ids: tuple[str, ...], filter_json: str | None) -> None:
    """Delete documents by id or by filter."""
    if not ids and not filter_json:
        _fail("give --id or --filter")
    flt = parse_filter(filter_json)
    deleted = _store(ctx).collection(name).delete(list(ids) if ids else None, filter=flt)
    click.echo(f"deleted {deleted} documents from {name}")


# -- indexes ----------------------------------------------------------------------------------
@main.group()
def index() -> None:
    """Create, drop and rebuild a collection's vector index; build its keyword index."""


@index.command("create")
@click.option("--collection", "-c", "name", required=True)
@click.option("--method", type=click.Choice(["hnsw", "ivfflat"]), default="hnsw", show_default=True)
@click.option("--m", type=int, default=16, show_default=True, help="HNSW: links per node.")
@click.option("--ef-construction", type=int, default=64, show_default=True, help="HNSW: build candidate list.")
@click.option("--lists", type=int, help="IVFFlat: number of lists (default rows/1000).")
@click.pass_context
def index_create(ctx: click.Context, name: str, method: str, m: int, ef_construction: int,
                 lists: int | None) -> None:
    """Build the vector index (replacing any other)."""
    spec: IndexSpec = HNSW(m, ef_construction) if method == "hnsw" else IVFFlat(lists)
    coll = _store(ctx).collection(name)
    click.echo(f"built {_build_index(coll, spec)}")


def _build_index(coll: Collection, spec: IndexSpec) -> str:
    return create_index_with_progress(coll, spec)


@index.command("drop")
@click.option("--collection", "-c", "name", required=True)
@click.pass_context
def index_drop(ctx: click.Context, name: str) -> None:
    """Drop the vector index."""
    click.echo(f"dropped {_store(ctx).collection(name).drop_index()} index(es)")


@index.command("rebuild")
@click.option("--collection", "-c", "name", required=True)
@click.pass_context
def index_rebuild(ctx: click.Context, name: str) -> None:
    """Rebuild the vector index in place."""
    click.echo(f"rebuilt {_store(ctx).collection(name).rebuild_index()} index(es)")


@index.command("keyword")
@click.option("--collection", "-c", "name", required=True)
@click.option("--drop", is_flag=True, help="Drop the keyword index instead.")
@click.pass_context
def index_keyword(ctx: click.Context, name: str, drop: bool) -> None:
    """Build (or rebuild) the keyword index that makes hybrid search fast."""
    coll = _store(ctx).collection(name)
    if drop:
        click.echo("dropped the keyword index" if coll.disable_keyword_index() else "there was no keyword index")
        return
    click.echo(f"keyword index of {name}: {coll.enable_keyword_index():,} postings")


# -- evaluation -------------------------------------------------------------------------------
@main.command("eval")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--collection", "-c", "name", required=True, help="Collection to load the corpus into (created if missing).")
@click.option("--modes", default="vector,keyword,hybrid", show_default=True, help="Comma-separated search modes.")
@click.option("--split", default="test", show_default=True, help="Which qrels/<split>.tsv to score.")
@click.option("--keyword-index", is_flag=True, help="Build the collection's keyword index first, if it has none.")
@click.option("--options", "options_json", metavar="JSON",
              help='Search options per mode, e.g. \'{"hybrid": {"method": "rrf"}, "vector": {"ef_search": 100}}\'.')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_cmd(ctx: click.Context, dataset: Path, name: str, modes: str, split: str, keyword_index: bool,
             options_json: str | None, as_json: bool) -> None:
    """Measure nDCG@10, recall@100, MRR@10 and p50 latency on a BEIR-format dataset.

    Figures depend on the collection's indexes (built by `vecpg index`), which it prints.
    """
    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        _fail(f"--modes takes {', '.join(MODES)}, got {modes!r}")
    try:
        options = checked_options(json.loads(options_json), chosen) if options_json else None
    except json.JSONDecodeError as exc:
        _fail(f"--options is not valid JSON: {exc.msg} at position {exc.pos}")
    data = load_dataset(dataset, split)
    coll = _store(ctx).get_or_create_collection(name)
    ensure_loaded(coll, data, progress=not as_json)
    if keyword_index and not coll.has_keyword_index():
        coll.enable_keyword_index()
    results = evaluate(coll, data, chosen, progress=not as_json, options=options)
    vector_index = ", ".join(i.method for i in coll.indexes()) or "none (exact search)"
    if as_json:
        click.echo(json.dumps(results))
        return
    click.echo(f"vector index: {vector_index}; keyword index: {'yes' if coll.has_keyword_index() else 'no'}")
    click.echo(f"{'mode':10}{'nDCG@10':>10}{'recall@100':>12}{'MRR@10':>10}{'p50 ms':>10}"
               f"   ({len(data.judged_queries())} queries; latency of a k=10 search, embedding excluded)")
    for mode, scores in results.items():
        click.echo(f"{mode:10}{scores['ndcg@10']:>10.4f}{scores['recall@100']:>12.4f}{scores['mrr@10']:>10.4f}"
                   f"{scores['p50_ms']:>10.2f}")


# -- demo -------------------------------------------------------------------------------------
@main.command()
@click.option("--collection", "name", default="demo", show_default=True)
@click.pass_context
def demo(ctx: click.Context, name: str) -> None:
    """Start the database, load a sample corpus, build an index and run a few searches."""
    url = ctx.obj["url"]
    click.echo(f"database: {url or 'embedded PostgreSQL (' + str(config.home()) + ')'}")
    store = connect(url, migrate_schema=True)
    ctx.call_on_close(store.close)
    coll = store.get_or_create_collection(name)
    corpus = resources.files("vecpg") / "data" / "sample_corpus.jsonl"
    with resources.as_file(corpus) as path:
        written = coll.load(read_documents(path), progress=True, total=count_records(path))
    click.echo(f"loaded {written} documents into collection {name!r}")
    click.echo(f"built index {_build_index(coll, HNSW())}")
    for text in DEMO_QUERIES:
        click.echo(f"\nsearch: {text}")
        _print_results(coll.search(text, k=3), as_json=False)
    hybrid = "bread crust oven steam"
    click.echo(f"\nhybrid search (vectors + BM25 in PostgreSQL): {hybrid}")
    _print_results(coll.search(hybrid, k=3, mode="hybrid"), as_json=False)
    click.echo(f"\nTry: vecpg search 'your question' --collection {name} [--mode keyword|hybrid]")


if __name__ == "__main__":
    main()
