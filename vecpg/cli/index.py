"""``vecpg index``: a collection's vector index and its keyword index."""

from __future__ import annotations

import json

import click

from ..collection import Collection
from ..index.advice import IndexAdvice, format_bytes
from ..index.specs import HNSW, QUANTIZATIONS, IndexInfo, IndexSpec, IVFFlat
from .app import connection_options, store_of

INVALID_HINT = ("INVALID: a concurrent build is running or failed; searches do not use it "
                "(vecpg index rebuild -c {collection} replaces it)")


@click.group()
def index() -> None:
    """Create, drop and rebuild a collection's vector index; build its keyword index."""


@index.command("create")
@click.option("--collection", "-c", "name", required=True)
@click.option("--method", type=click.Choice(["hnsw", "ivfflat"]), default="hnsw", show_default=True)
@click.option("--m", type=int, default=16, show_default=True, help="HNSW: links per node.")
@click.option("--ef-construction", type=int, default=64, show_default=True, help="HNSW: build candidate list.")
@click.option("--lists", type=int, help="IVFFlat: number of lists (default rows/1000).")
@click.option("--quantization", type=click.Choice(QUANTIZATIONS),
              help="Index the vectors (none), halfvec copies or binary codes (default: what the dimension allows).")
@click.option("--concurrently", is_flag=True, help="Build without blocking writes (CREATE INDEX CONCURRENTLY).")
@connection_options
@click.pass_context
def index_create(ctx: click.Context, name: str, method: str, m: int, ef_construction: int,
                 lists: int | None, quantization: str | None, concurrently: bool) -> None:
    """Build the vector index (replacing any other)."""
    spec: IndexSpec = (HNSW(m, ef_construction, quantization) if method == "hnsw"
                       else IVFFlat(lists, quantization))
    coll = store_of(ctx).collection(name)
    click.echo(f"built {build_index(coll, spec, concurrently=concurrently)}")


def build_index(coll: Collection, spec: IndexSpec, concurrently: bool = False) -> str:
    return coll.create_index(spec, concurrently=concurrently, progress=True)


@index.command("drop")
@click.option("--collection", "-c", "name", required=True)
@connection_options
@click.pass_context
def index_drop(ctx: click.Context, name: str) -> None:
    """Drop the vector index."""
    click.echo(f"dropped {store_of(ctx).collection(name).drop_index()} index(es)")


@index.command("rebuild")
@click.option("--collection", "-c", "name", required=True)
@click.option("--concurrently", is_flag=True, help="Rebuild without blocking writes (REINDEX INDEX CONCURRENTLY).")
@connection_options
@click.pass_context
def index_rebuild(ctx: click.Context, name: str, concurrently: bool) -> None:
    """Rebuild the vector index in place (an invalid one too)."""
    coll = store_of(ctx).collection(name)
    click.echo(f"rebuilt {coll.rebuild_index(concurrently=concurrently, progress=True)} index(es)")


def describe(index: IndexInfo, collection: str) -> str:
    """One index on one line, saying when it is invalid."""
    line = f"{index.name} ({index.method}, {index.size_bytes / 2**20:.1f} MiB)"
    return line if index.valid else f"{line} {INVALID_HINT.format(collection=collection)}"


@index.command("prewarm")
@click.option("--collection", "-c", "name", required=True)
@connection_options
@click.pass_context
def index_prewarm(ctx: click.Context, name: str) -> None:
    """Read the table and its vector index into shared buffers (after a restart)."""
    for part in store_of(ctx).collection(name).prewarm():
        click.echo(f"{part.part}: {part.pages:,} pages, {part.pages_read:,} of them read in")


@index.command("list")
@click.option("--collection", "-c", "name", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@connection_options
@click.pass_context
def index_list(ctx: click.Context, name: str, as_json: bool) -> None:
    """List the vector indexes, and whether each is valid."""
    indexes = store_of(ctx).collection(name).indexes()
    if as_json:
        click.echo(json.dumps([vars(i) for i in indexes]))
        return
    if not indexes:
        click.echo(f"{name} has no vector index: searches scan every row")
    for i in indexes:
        click.echo(describe(i, name))


@index.command("recommend")
@click.option("--collection", "-c", "name", required=True)
@click.option("--rows", type=click.IntRange(min=0), help="Plan for this many rows (default: the collection's).")
@click.option("--maintenance-work-mem", help="Plan for this memory for the build, e.g. 2GB (default: what it gets).")
@click.option("--shared-buffers", help="Plan for this shared_buffers, e.g. 8GB (default: the server's).")
@click.option("--quantization", type=click.Choice(["halfvec", "binary"]),
              help="Plan an index of halfvec copies or binary codes (default: what index create would build).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@connection_options
@click.pass_context
def index_recommend(ctx: click.Context, name: str, rows: int | None, maintenance_work_mem: str | None,
                    shared_buffers: str | None, quantization: str | None, as_json: bool) -> None:
    """Suggest an index and its parameters; estimate its size; warn when memory is short."""
    advice = store_of(ctx).collection(name).recommend_index(
        rows=rows, maintenance_work_mem=maintenance_work_mem, shared_buffers=shared_buffers, quantization=quantization)
    if as_json:
        click.echo(json.dumps(advice.as_dict()))
        return
    for line in advice_lines(advice):
        click.echo(line)


def advice_lines(advice: IndexAdvice) -> list[str]:
    lines = [f"{advice.collection}: {advice.rows:,} rows of {advice.dimension:,} dimensions"]
    spec = advice.spec
    if spec is None:
        lines.append(f"no index: {advice.reason}")
    else:
        settings = ", ".join(f"{k} {v}" for k, v in advice.params.items())
        options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in advice.params.items())
        if advice.quantization is not None:  # create_index would choose it too; said for clarity
            options += f" --quantization {advice.quantization}"
        lines += [
            f"recommended:    {spec.method} ({settings}): {advice.reason}",
            f"estimated size: {format_bytes(advice.index_bytes or 0)} (build memory {format_bytes(advice.build_bytes or 0)})",
            (f"memory:         maintenance_work_mem for the build {format_bytes(advice.maintenance_work_mem)}, "
             f"shared_buffers {format_bytes(advice.shared_buffers)}"),
            f"build it with:  vecpg index create -c {advice.collection} --method {spec.method} {options}",
        ]
    return lines + [f"warning: {w}" for w in advice.warnings]


@index.command("keyword")
@click.option("--collection", "-c", "name", required=True)
@click.option("--drop", is_flag=True, help="Drop the keyword index instead.")
@connection_options
@click.pass_context
def index_keyword(ctx: click.Context, name: str, drop: bool) -> None:
    """Build (or rebuild) the keyword index that makes hybrid search fast."""
    coll = store_of(ctx).collection(name)
    if drop:
        click.echo("dropped the keyword index" if coll.disable_keyword_index() else "there was no keyword index")
        return
    click.echo(f"keyword index of {name}: {coll.enable_keyword_index():,} postings")
