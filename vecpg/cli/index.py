"""``vecpg index``: a collection's vector index and its keyword index."""

from __future__ import annotations

import click

from ..collection import Collection
from ..indexes import HNSW, IndexSpec, IVFFlat
from ..progress import create_index_with_progress
from .app import connection_options, store_of


@click.group()
def index() -> None:
    """Create, drop and rebuild a collection's vector index; build its keyword index."""


@index.command("create")
@click.option("--collection", "-c", "name", required=True)
@click.option("--method", type=click.Choice(["hnsw", "ivfflat"]), default="hnsw", show_default=True)
@click.option("--m", type=int, default=16, show_default=True, help="HNSW: links per node.")
@click.option("--ef-construction", type=int, default=64, show_default=True, help="HNSW: build candidate list.")
@click.option("--lists", type=int, help="IVFFlat: number of lists (default rows/1000).")
@connection_options
@click.pass_context
def index_create(ctx: click.Context, name: str, method: str, m: int, ef_construction: int,
                 lists: int | None) -> None:
    """Build the vector index (replacing any other)."""
    spec: IndexSpec = HNSW(m, ef_construction) if method == "hnsw" else IVFFlat(lists)
    coll = store_of(ctx).collection(name)
    click.echo(f"built {build_index(coll, spec)}")


def build_index(coll: Collection, spec: IndexSpec) -> str:
    return create_index_with_progress(coll, spec)


@index.command("drop")
@click.option("--collection", "-c", "name", required=True)
@connection_options
@click.pass_context
def index_drop(ctx: click.Context, name: str) -> None:
    """Drop the vector index."""
    click.echo(f"dropped {store_of(ctx).collection(name).drop_index()} index(es)")


@index.command("rebuild")
@click.option("--collection", "-c", "name", required=True)
@connection_options
@click.pass_context
def index_rebuild(ctx: click.Context, name: str) -> None:
    """Rebuild the vector index in place."""
    click.echo(f"rebuilt {store_of(ctx).collection(name).rebuild_index()} index(es)")


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
