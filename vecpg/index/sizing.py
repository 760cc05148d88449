"""What N vectors need on disk and in memory: the table, the vector index, the keyword index and
the Qdrant mirror, from bytes a row measured here.

The vector index is ``advice.recommend``'s estimate (pgvector's page layout, calibrated on real
indexes), so this page and ``vecpg index recommend`` give the same method and size. The other
parts are bytes a row measured by ``bench/bench_sizing.py`` on the embedded server: rows of
SciFact text cut into chunks of about 600 characters with a title and a small metadata object,
random unit vectors, after VACUUM. docs/sizing.md's tables are :func:`markdown`'s output
(``python -m vecpg.index.sizing --markdown``); tests/test_sizing_doc.py checks they agree.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument
from ..storage import STORAGES
from .advice import format_bytes, recommend

# Where and when the constants below were measured (bench/bench_sizing.py --n 20000).
MEASURED = {"date": "2026-12-07", "machine": "x86_64, 2 cores (AMD EPYC), shared", "postgres": "18.4",
            "pgvector": "0.8.5", "rows": 20_000, "content_chars": 634, "title_chars": 101}


@dataclass(frozen=True)
class TableRow:
    """Bytes a row of a collection's table: heap (with the vector kept in the row), TOAST (the
    text and tsvector moved out of a row too long for its page), and the indexes every
    collection has: primary key, full-text GIN, metadata GIN."""

    heap: int
    toast: int
    primary_key: int
    fts_gin: int
    metadata_gin: int

    @property
    def total(self) -> int:
        return self.heap + self.toast + self.primary_key + self.fts_gin + self.metadata_gin


# (storage, dimension) -> bytes a row, measured.
TABLE_ROW: dict[tuple[str, int], TableRow] = {
    ("vector", 384): TableRow(heap=2731, toast=991, primary_key=39, fts_gin=516, metadata_gin=121),
    ("halfvec", 384): TableRow(heap=2048, toast=701, primary_key=39, fts_gin=501, metadata_gin=121),
    ("vector", 1536): TableRow(heap=8192, toast=991, primary_key=39, fts_gin=554, metadata_gin=123),
    ("halfvec", 1536): TableRow(heap=4354, toast=991, primary_key=39, fts_gin=532, metadata_gin=121),
}
# dimension -> bytes a row of the keyword index (vecpg_postings.<collection>, heap and index):
# a posting for each distinct word of a row, so it follows the text, not the vectors.
KEYWORD_INDEX_ROW: dict[int, int] = {384: 8810, 1536: 8813}
# (vectors, dimension) -> bytes a point of the in-process Qdrant Edge shard after a sync and an
# optimize (the growth from N to 2·N points, so without the files a shard has whatever its
# points): the float32 vectors (int8: and their int8 copies), the payload with the text, the HNSW
# graph, the WAL. Measured from vector tables; the sync sends float lists from either storage.
MIRROR_POINT: dict[tuple[str, int], int] = {
    ("float32", 384): 2248, ("int8", 384): 2648, ("float32", 1536): 6717, ("int8", 1536): 8257,
}

DIMENSIONS = (384, 1536)
ROWS = (1_000_000, 10_000_000, 100_000_000)
# A name in the page -> the table's storage and the index's quantization.
OPTIONS: dict[str, tuple[str, str | None]] = {
    "vector": ("vector", None),
    "halfvec": ("halfvec", None),
    "binary": ("vector", "binary"),
}
_PLENTY = 2**62  # memory that fits anything: the page states what is needed, not what is short


@dataclass(frozen=True)
class Plan:
    """What ``rows`` vectors of ``dimension`` need with one of :data:`OPTIONS`."""

    rows: int
    dimension: int
    option: str
    method: str
    params: dict[str, int]
    index_bytes: int  # the vector index: what must stay in memory for fast HNSW searches
    build_bytes: int  # maintenance_work_mem its build wants
    table_bytes: int
    keyword_index_bytes: int
    mirror_bytes: int

    @property
    def postgres_bytes(self) -> int:
        """Disk of the collection in PostgreSQL: table, vector index and keyword index."""
        return self.table_bytes + self.index_bytes + self.keyword_index_bytes


def plan(rows: int, dimension: int, option: str = "vector") -> Plan:
    """The sizes for ``rows`` vectors (measured constants exist for 384 and 1,536 dimensions)."""
    if option not in OPTIONS:
        raise InvalidArgument(f"unknown option {option!r}: use {', '.join(OPTIONS)}")
    storage, quantization = OPTIONS[option]
    row = TABLE_ROW.get((storage, dimension))
    if row is None:
        raise InvalidArgument(f"no measured table costs for {dimension} dimensions: measured for "
                              f"{', '.join(str(d) for d in DIMENSIONS)} (bench/bench_sizing.py)")
    advice = recommend("sizing", rows, dimension, _PLENTY, _PLENTY, STORAGES[storage], quantization)
    assert advice.method is not None and advice.index_bytes is not None and advice.build_bytes is not None
    return Plan(rows=rows, dimension=dimension, option=option, method=advice.method, params=advice.params,
                index_bytes=advice.index_bytes, build_bytes=advice.build_bytes, table_bytes=rows * row.total,
                keyword_index_bytes=rows * KEYWORD_INDEX_ROW[dimension], mirror_bytes=rows * MIRROR_POINT[("float32", dimension)])


def _count(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"


def _method(p: Plan) -> str:
    return f"{p.method} " + ", ".join(f"{k} {v}" for k, v in p.params.items())


def markdown() -> str:
    """docs/sizing.md's tables."""
    lines = [("| vectors | dimensions | option | index | vector index (RAM) | build memory | table | "
             "keyword index | PostgreSQL disk |"), "|---|---|---|---|---|---|---|---|---|"]
    for rows in ROWS:
        for dim in DIMENSIONS:
            for option in OPTIONS:
                p = plan(rows, dim, option)
                lines.append(f"| {_count(rows)} | {dim:,} | {option} | {_method(p)} | {format_bytes(p.index_bytes)} | "
                             f"{format_bytes(p.build_bytes)} | {format_bytes(p.table_bytes)} | "
                             f"{format_bytes(p.keyword_index_bytes)} | {format_bytes(p.postgres_bytes)} |")
    lines += ["", "| vectors | dimensions | Qdrant mirror, float32 | Qdrant mirror, int8 |", "|---|---|---|---|"]
    for rows in ROWS:
        for dim in DIMENSIONS:
            lines.append(f"| {_count(rows)} | {dim:,} | {format_bytes(rows * MIRROR_POINT[('float32', dim)])} | "
                         f"{format_bytes(rows * MIRROR_POINT[('int8', dim)])} |")
    lines += ["", "| bytes a row | " + " | ".join(f"{s} {d:,}" for d in DIMENSIONS for s in STORAGES) + " |",
              "|---|" + "---|" * (len(DIMENSIONS) * len(STORAGES))]
    parts: list[tuple[str, Any]] = [
        ("heap", lambda r: r.heap), ("TOAST", lambda r: r.toast), ("primary key", lambda r: r.primary_key),
        ("full-text GIN", lambda r: r.fts_gin), ("metadata GIN", lambda r: r.metadata_gin),
        ("table, all", lambda r: r.total)]
    for label, part in parts:
        lines.append(f"| {label} | " + " | ".join(f"{part(TABLE_ROW[(s, d)]):,}" for d in DIMENSIONS
                                                for s in STORAGES) + " |")
    for label, by_dim in (("keyword index", lambda d: KEYWORD_INDEX_ROW[d]),
                          ("Qdrant mirror, float32", lambda d: MIRROR_POINT[("float32", d)]),
                          ("Qdrant mirror, int8", lambda d: MIRROR_POINT[("int8", d)])):
        lines.append(f"| {label} | " + " | ".join(f"{by_dim(d):,}" for d in DIMENSIONS for _ in STORAGES) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Sizes of 1M, 10M and 100M vectors (docs/sizing.md).")
    parser.add_argument("--markdown", action="store_true", help="print docs/sizing.md's tables")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(), end="")
    else:
        for rows in ROWS:
            for dim in DIMENSIONS:
                for option in OPTIONS:
                    p = plan(rows, dim, option)
                    print(f"{_count(rows)} x {dim}, {option}: {_method(p)}, index {format_bytes(p.index_bytes)}, "
                          f"PostgreSQL {format_bytes(p.postgres_bytes)}, mirror {format_bytes(p.mirror_bytes)}")


if __name__ == "__main__":
    main()
