"""Prewarming without pg_prewarm: the table by a sequential scan, the vector index by a walk
that visits every element."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main


@pytest.mark.parametrize("spec", [vecpg.HNSW(), vecpg.IVFFlat(lists=10), vecpg.HNSW(quantization="binary")],
                         ids=["hnsw", "ivfflat", "binary"])
def test_prewarm_reads_every_page_of_the_table_and_walks_the_whole_index(store: vecpg.Store, db_url: str,
                                                                        spec: vecpg.IndexSpec) -> None:
    coll = store.create_collection("warm", dimension=48)
    vectors = np.random.default_rng(1).normal(size=(3000, 48))
    coll.load({"id": str(i), "embedding": v} for i, v in enumerate(vectors))
    before = coll.prewarm()
    assert [p.part for p in before] == ["table"]  # no index yet: nothing to walk
    coll.create_index(spec)
    table, index = coll.prewarm()
    with store.connection() as conn:
        pages = conn.execute("SELECT pg_relation_size(%s::regclass) / 8192",
                             (f'"{coll.info.schema}"."{coll.info.table}"',)).fetchone()[0]
    assert table.part == "table" and table.pages == pages and table.accesses >= pages
    (info,) = coll.indexes()
    assert index.part == "vector index" and index.pages == info.size_bytes // 8192
    # Every element visited: at least one access per index page (the walk reads pages again).
    assert index.accesses >= index.pages
    assert index.pages_read == 0  # just built: already in shared buffers
    out = CliRunner().invoke(main, ["index", "prewarm", "-c", "warm", "--url", db_url])
    assert out.exit_code == 0 and f"vector index: {index.pages:,} pages" in out.output


def test_prewarm_of_an_unknown_collection_is_a_clear_error(store: vecpg.Store, db_url: str) -> None:
    gone = store.create_collection("gone", dimension=4)
    store.drop_collection("gone")
    with pytest.raises(vecpg.CollectionNotFound):
        gone.prewarm()
    out = CliRunner().invoke(main, ["index", "prewarm", "-c", "nothing", "--url", db_url])
    assert out.exit_code == 2 and "nothing" in out.output and "Traceback" not in out.output
