"""``vecpg demo``: a sample corpus loaded, indexed and searched."""

from __future__ import annotations

from importlib import resources

import click

from .. import config
from ..index.specs import HNSW
from ..ingest import count_records, read_documents
from ..store import connect
from .app import url_option
from .index import build_index
from .search import print_results

DEMO_QUERIES = (
    "how do stars form",
    "what temperature should bread bake at",
    "index types for nearest neighbour search",
    "causes of sea level rise",
)


@click.command()
@click.option("--collection", "name", default="demo", show_default=True)
@url_option
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
    click.echo(f"built index {build_index(coll, HNSW())}")
    for text in DEMO_QUERIES:
        click.echo(f"\nsearch: {text}")
        print_results(coll.search(text, k=3), as_json=False)
    hybrid = "bread crust oven steam"
    click.echo(f"\nhybrid search (vectors + BM25 in PostgreSQL): {hybrid}")
    print_results(coll.search(hybrid, k=3, mode="hybrid"), as_json=False)
    click.echo(f"\nTry: vecpg search 'your question' --collection {name} [--mode keyword|hybrid]")
