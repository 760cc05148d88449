"""Index advice: the rule of thumb, the size estimates against real indexes, and the memory warnings."""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner

import vecpg
from vecpg.cli import main
from vecpg.cli.index import advice_lines
from vecpg.index.advice import hnsw_index_bytes, ivfflat_build_bytes, ivfflat_index_bytes, recommend
from vecpg.storage import STORAGES

MB = 2**20
GB = 2**30


@pytest.fixture
def small(store: vecpg.Store) -> vecpg.Collection:
    coll = store.create_collection("small", dimension=64)
    rng = np.random.default_rng(0)
    coll.load({"id": str(i), "content": "x", "embedding": v}
              for i, v in enumerate(rng.standard_normal((3000, 64)).astype(np.float32)))
    return coll


@pytest.mark.parametrize(("rows", "method", "params"), [
    (0, "hnsw", {"m": 16, "ef_construction": 64}),
    (999_999, "hnsw", {"m": 16, "ef_construction": 64}),
    (1_000_000, "hnsw", {"m": 32, "ef_construction": 200}),
    (10_000_000, "hnsw", {"m": 32, "ef_construction": 200}),
    (10_000_001, "ivfflat", {"lists": 1000}),
])
def test_the_rule_of_thumb(rows: int, method: str, params: dict[str, int]) -> None:
    advice = recommend("docs", rows, 384, 64 * GB, 64 * GB)
    assert (advice.method, advice.params) == (method, params)
    assert advice.spec is not None and advice.spec.method == method and advice.warnings == []


def test_beyond_what_pgvector_indexes_the_advice_is_a_quantized_index() -> None:
    """As create_index does by itself: halfvec copies up to 4,000 dimensions, binary codes above;
    a halfvec collection indexes its 3,072 dimensions as stored."""
    plain = recommend("docs", 10_000, 2000, GB, GB)
    assert plain.method == "hnsw" and plain.quantization is None
    half = recommend("docs", 10_000, 3072, GB, GB)
    assert half.quantization == "halfvec" and half.spec is not None and half.spec.quantization == "halfvec"
    assert "half-precision copies" in half.reason
    binary = recommend("docs", 10_000, 8192, GB, GB)
    assert binary.quantization == "binary" and "binary codes" in binary.reason
    stored = recommend("docs", 10_000, 3072, GB, GB, STORAGES["halfvec"])
    assert stored.quantization is None and stored.index_bytes == half.index_bytes
    # A bit a dimension (and the links and row overhead, which do not shrink): far smaller.
    assert binary.index_bytes is not None and binary.index_bytes < hnsw_index_bytes(10_000, 8192, 16) / 5


def test_estimates_follow_pgvectors_own_figures() -> None:
    # pgvector refused this IVFFlat build with "memory required is 56 MB" (its MB: bytes / 2**20, plus one).
    assert int(ivfflat_build_bytes(25_000, 64, 500) / MB) + 1 == 56
    # Measured on real indexes (vecpg/index/advice.py lists them): bytes a row within 5 %.
    for rows, dim, m, measured in ((25_000, 64, 16, 570.5), (10_000, 384, 16, 2048.8), (4_000, 768, 16, 4098)):
        assert hnsw_index_bytes(rows, dim, m) / rows == pytest.approx(measured, rel=0.05)
    assert ivfflat_index_bytes(25_000, 64, 25) / 25_000 == pytest.approx(286.4, rel=0.05)


def test_advice_for_a_real_collection_and_an_index_of_the_estimated_size(small, conn: psycopg.Connection) -> None:
    advice = small.recommend_index()
    assert (advice.rows, advice.dimension, advice.method, advice.params) == (3000, 64, "hnsw",
                                                                            {"m": 16, "ef_construction": 64})
    assert advice.warnings == []  # the test server's 256 MB of shared_buffers hold a 2 MB index
    shared = conn.execute("SELECT pg_size_bytes(current_setting('shared_buffers'))").fetchone()[0]
    built_with = conn.execute("SELECT pg_size_bytes(setting) FROM vecpg.build_settings() "
                              "WHERE name = 'maintenance_work_mem'").fetchone()[0]
    assert (advice.shared_buffers, advice.maintenance_work_mem) == (shared, built_with)
    assert built_with >= GB  # what vecpg's builds get at least, not the session's setting

    small.create_index(advice.spec)
    (index,) = small.indexes()
    assert index.size_bytes == pytest.approx(advice.index_bytes, rel=0.1)


def test_a_quantized_index_is_planned_on_request(small) -> None:
    plain, binary = small.recommend_index(), small.recommend_index(quantization="binary")
    assert binary.quantization == "binary" and binary.index_bytes < plain.index_bytes  # 64-d: the links dominate
    assert "--quantization binary" in "\n".join(advice_lines(binary))
    with pytest.raises(vecpg.InvalidArgument, match="plan halfvec or binary"):
        small.recommend_index(quantization="none")


def test_warnings_when_memory_is_short(small) -> None:
    advice = small.recommend_index(maintenance_work_mem="1MB", shared_buffers=MB)
    assert advice.maintenance_work_mem == MB and advice.shared_buffers == MB
    build, buffers = advice.warnings
    assert "needs about 2.8 MiB to be built in memory" in build and "builds on disk" in build
    assert "maintenance_work_mem='3MB'" in build
    assert "will not fit shared_buffers (1.0 MiB)" in buffers and "searches read its pages" in buffers
    planned = small.recommend_index(rows=20_000_000, maintenance_work_mem=64 * MB)
    assert planned.rows == 20_000_000 and planned.method == "ivfflat"
    assert "pgvector refuses it" in planned.warnings[0]
    assert "will not fit shared_buffers" in planned.warnings[1]
    for bad in ({"rows": -1}, {"rows": "many"}, {"shared_buffers": True}, {"maintenance_work_mem": -5}):
        with pytest.raises(vecpg.InvalidArgument):
            small.recommend_index(**bad)
    with pytest.raises(vecpg.ValueRejected, match="invalid size"):
        small.recommend_index(shared_buffers="lots")


def test_the_command_line_recommends(small, db_url: str) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["--url", db_url, "index", "recommend", "-c", "small"]).output
    assert "small: 3,000 rows of 64 dimensions" in text
    assert "recommended:    hnsw (m 16, ef_construction 64)" in text
    assert "vecpg index create -c small --method hnsw --m 16 --ef-construction 64" in text
    assert "warning" not in text
    short = runner.invoke(main, ["--url", db_url, "index", "recommend", "-c", "small", "--rows", "5000000",
                                 "--maintenance-work-mem", "64MB", "--shared-buffers", "128MB", "--json"])
    advice = json.loads(short.output)
    assert (advice["rows"], advice["method"], advice["params"]) == (5_000_000, "hnsw", {"m": 32, "ef_construction": 200})
    assert len(advice["warnings"]) == 2 and advice["maintenance_work_mem"] == 64 * MB
    bad = runner.invoke(main, ["--url", db_url, "index", "recommend", "-c", "small", "--shared-buffers", "lots"])
    assert bad.exit_code == 2 and "invalid size" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
