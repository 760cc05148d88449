"""Which vector index suits a collection, how large it will be, and whether the server's memory fits it.

The rule of thumb: HNSW with m 16 (pgvector's default) below a million rows; m 32 and
ef_construction 200 up to ten million, which keeps recall up as the graph grows; IVFFlat with
1,000 lists above, which builds in a fraction of HNSW's time and memory. pgvector indexes
``vector`` columns of at most 2,000 dimensions and ``halfvec`` of 4,000; above, the advice is
what ``create_index`` does by itself: an index of halfvec copies, or of binary codes.

Estimates follow pgvector's page layout (8 KB pages, whole rows per page), calibrated on real
indexes built by the embedded server (PostgreSQL 18, pgvector 0.8.5; random vectors):

- HNSW index: a row is an element tuple (its vector, 4 bytes a dimension, and 80 bytes) and a
  neighbour tuple (6 bytes for each of the 2·m neighbours of layer 0, and a few of the upper
  layers), kept on one page together: 4·dim + 12·m + 98 bytes. Measured bytes a row against
  this estimate: 64-d m 16: 570 / 585; 128-d m 16: 832 / 819; 64-d m 32: 767 / 745; 384-d m 16:
  2,049 / 2,048; 384-d m 32: 2,123 / 2,048; 768-d: 4,098 / 4,096; 1536-d: 8,195 / 8,192 (within
  4 %). Without whole pages (rows × (4·dim + 12·m + C)) the 64-d m 16 index gives C = 122 bytes,
  but that form is 10-20 % low from 384 dimensions on, where a page holds only a few rows.
- Checked again on 20,000 rows of each index kind by bench/bench_sizing.py (2026-12-07), measured /
  estimated bytes a row, all within 5 %: 384-d m 32: 2,131 / 2,048; halfvec copies of 384-d m 16:
  1,171 / 1,171, m 32: 1,366 / 1,366; binary codes of 384-d m 16: 349 / 342, m 32: 550 / 547;
  1536-d m 16 and m 32: 8,192 / 8,192; halfvec copies of 1536-d m 16: 4,096 / 4,096; binary
  codes of 1536-d m 16: 502 / 512, m 32: 702 / 683.
- HNSW build: pgvector builds the graph in maintenance_work_mem while it fits, then on disk,
  several times slower. It takes 4·dim + 32·m + 200 bytes a row, measured from the row at which
  pgvector said it no longer fitted 4 MB (64-d m 16: 970 bytes; 384-d m 16: 2,251; 64-d m 32: 1,480).
- IVFFlat index: 4·dim + 24 bytes a row, each list on pages of its own (64-d: 286 bytes a row
  measured, 384-d: 1,645; in bench_sizing, 20 lists over 20,000 rows: 384-d 1,644 / 1,640, of
  halfvec copies 824 / 820, of binary codes 73 / 75; 1536-d 8,201 / 8,199; of halfvec
  copies 4,102 / 4,100, of binary codes 219 / 230).
- IVFFlat build: k-means over max(50·lists, 10,000) sampled rows with a distance bound for each
  sample and list, pgvector's own reckoning; it refuses a build that needs more than
  maintenance_work_mem (checked: 56 MB for 500 lists over 25,000 64-d rows, as pgvector said).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Any

from ..storage import STORAGES, Storage
from .specs import HNSW, IndexSpec, IVFFlat

MAX_HALFVEC_DIMENSIONS = STORAGES["halfvec"].indexable_dimensions  # above: binary codes
HNSW_UPPER_ROWS = 10_000_000  # IVFFlat above
HNSW_LARGE_ROWS = 1_000_000  # m 32, ef_construction 200 from here
IVFFLAT_LISTS = 1000

_PAGE = 8192
_PAGE_SPACE = 8152  # a page less its header and pgvector's special space
_HNSW_ROW = 98  # bytes a row beyond the vector and the neighbours (calibrated, see above)
_HNSW_BUILD_ROW = 200
_IVFFLAT_ROW = 24


def _vector_bytes(dimension: int, quantization: str | None, bytes_per_dimension: int) -> int:
    """Bytes of one indexed vector: as stored, half precision, or one bit a dimension."""
    if quantization == "binary":
        return ceil(dimension / 8)
    return dimension * (2 if quantization == "halfvec" else bytes_per_dimension)


def hnsw_index_bytes(rows: int, dimension: int, m: int, vector_bytes: int | None = None) -> int:
    """Estimated size of an HNSW index (see the module's docstring); ``vector_bytes`` of one
    indexed vector, 4 a dimension unless given."""
    vector = 4 * dimension if vector_bytes is None else vector_bytes
    per_page = max(1, _PAGE_SPACE // (vector + 12 * m + _HNSW_ROW))
    return (ceil(rows / per_page) + 1) * _PAGE


def hnsw_build_bytes(rows: int, dimension: int, m: int, vector_bytes: int | None = None) -> int:
    """Memory an HNSW build needs to keep its graph in maintenance_work_mem."""
    return rows * ((4 * dimension if vector_bytes is None else vector_bytes) + 32 * m + _HNSW_BUILD_ROW)


def ivfflat_index_bytes(rows: int, dimension: int, lists: int, vector_bytes: int | None = None) -> int:
    """Estimated size of an IVFFlat index."""
    vector = 4 * dimension if vector_bytes is None else vector_bytes
    per_page = max(1, _PAGE_SPACE // (vector + _IVFFLAT_ROW))
    list_pages = lists * max(1, ceil(ceil(rows / lists) / per_page))
    center_pages = ceil(lists * (vector + 8) / _PAGE_SPACE)
    return (list_pages + center_pages + 1) * _PAGE


def ivfflat_build_bytes(rows: int, dimension: int, lists: int, vector_bytes: int | None = None) -> int:
    """maintenance_work_mem an IVFFlat build needs for k-means, as pgvector reckons it."""
    wanted = max(50 * lists, 10_000)
    samples = min(rows, wanted)
    item = (4 * dimension if vector_bytes is None else vector_bytes) + 8
    return (wanted + 2 * lists) * item + samples * lists * 4 + lists * lists * 4 + samples * 8 + lists * 12


def format_bytes(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _postgres_size(n: int) -> str:
    """A size to set maintenance_work_mem to: n rounded up to whole MB, or GB from 10 GB on."""
    mb = ceil(n / 2**20)
    return f"{ceil(mb / 1024)}GB" if mb >= 10 * 1024 else f"{mb}MB"


@dataclass(frozen=True)
class IndexAdvice:
    """What ``Collection.recommend_index()`` suggests. ``method`` is None when pgvector cannot
    index the collection's vectors; ``spec`` is the index to pass to ``create_index``."""

    collection: str
    rows: int
    dimension: int
    method: str | None
    params: dict[str, int]
    reason: str
    index_bytes: int | None  # estimated size of the index
    build_bytes: int | None  # maintenance_work_mem the build wants
    maintenance_work_mem: int  # what the build gets
    shared_buffers: int
    warnings: list[str] = field(default_factory=list)
    quantization: str | None = None  # what the index is built on beyond the stored vectors

    @property
    def spec(self) -> IndexSpec | None:
        if self.method == "hnsw":
            return HNSW(m=self.params["m"], ef_construction=self.params["ef_construction"],
                        quantization=self.quantization)
        if self.method == "ivfflat":
            return IVFFlat(lists=self.params.get("lists"), quantization=self.quantization)
        return None

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return {
            "collection": self.collection, "rows": self.rows, "dimension": self.dimension,
            "method": self.method, "params": self.params, "reason": self.reason,
            "index_bytes": self.index_bytes, "build_bytes": self.build_bytes,
            "maintenance_work_mem": self.maintenance_work_mem, "shared_buffers": self.shared_buffers,
            "warnings": self.warnings, "quantization": self.quantization,
        }


def recommend(collection: str, rows: int, dimension: int, maintenance_work_mem: int,
              shared_buffers: int, storage: Storage = STORAGES["vector"],
              quantization: str | None = None) -> IndexAdvice:
    """The advice for these figures (``Collection.recommend_index`` reads them from the database).
    ``quantization``: plan an index of halfvec copies or binary codes (docs/sizing.md's options);
    without it, what ``create_index`` would build."""
    common: dict[str, Any] = {"collection": collection, "rows": rows, "dimension": dimension,
              "maintenance_work_mem": maintenance_work_mem, "shared_buffers": shared_buffers}
    if quantization == "halfvec" and storage.name == "halfvec":
        quantization = None  # as create_index: the column is half precision already
    asked = quantization is not None
    # What create_index does by itself for vectors pgvector cannot index as stored.
    if not asked and dimension > storage.indexable_dimensions:
        quantization = "halfvec" if dimension <= MAX_HALFVEC_DIMENSIONS else "binary"
    vector_bytes = _vector_bytes(dimension, quantization, storage.bytes_per_dimension)
    warnings: list[str] = []
    if rows > HNSW_UPPER_ROWS:
        method, params = "ivfflat", {"lists": IVFFLAT_LISTS}
        reason = (f"above {HNSW_UPPER_ROWS:,} rows: IVFFlat with {IVFFLAT_LISTS:,} lists builds in a fraction "
                  "of HNSW's time and memory (raise probes per search for recall)")
        index_bytes = ivfflat_index_bytes(rows, dimension, IVFFLAT_LISTS, vector_bytes)
        build_bytes = ivfflat_build_bytes(rows, dimension, IVFFLAT_LISTS, vector_bytes)
        if build_bytes > maintenance_work_mem:
            warnings.append(
                f"the IVFFlat build needs about {format_bytes(build_bytes)} of maintenance_work_mem for k-means, "
                f"and gets {format_bytes(maintenance_work_mem)}: pgvector refuses it (\"memory required is ...\"); "
                f"build with maintenance_work_mem='{_postgres_size(build_bytes)}'")
    else:
        m, efc = (16, 64) if rows < HNSW_LARGE_ROWS else (32, 200)
        method, params = "hnsw", {"m": m, "ef_construction": efc}
        reason = (f"below {HNSW_LARGE_ROWS:,} rows: HNSW with pgvector's defaults (m 16, ef_construction 64)"
                  if m == 16 else
                  f"{HNSW_LARGE_ROWS:,} to {HNSW_UPPER_ROWS:,} rows: HNSW with more links (m 32) and a wider "
                  "build search (ef_construction 200) keeps recall up as the graph grows")
        index_bytes = hnsw_index_bytes(rows, dimension, m, vector_bytes)
        build_bytes = hnsw_build_bytes(rows, dimension, m, vector_bytes)
        if build_bytes > maintenance_work_mem:
            warnings.append(
                f"the HNSW graph needs about {format_bytes(build_bytes)} to be built in memory, and "
                f"maintenance_work_mem gives the build {format_bytes(maintenance_work_mem)}: pgvector then "
                f"builds on disk, several times slower; build with maintenance_work_mem='{_postgres_size(build_bytes)}' "
                "if the server has the memory")
    if index_bytes > shared_buffers:
        warnings.append(
            f"the index (about {format_bytes(index_bytes)}) will not fit shared_buffers "
            f"({format_bytes(shared_buffers)}): searches read its pages from the OS cache or the disk and are "
            "slower; raise shared_buffers (a restart; on the embedded server vecpg db start --set shared_buffers=SIZE)")
    if asked:
        reason += ("; the index holds half-precision copies" if quantization == "halfvec"
                   else "; the index holds binary codes, re-ranked exactly by the stored vectors")
    elif quantization is not None:
        reason += (f"; its {dimension:,} dimensions are more than pgvector indexes as {storage.name} "
                   f"({storage.indexable_dimensions:,}), so the index holds "
                   + ("half-precision copies (up to 4,000 dimensions)" if quantization == "halfvec"
                      else "binary codes, re-ranked exactly by the stored vectors"))
    return IndexAdvice(**common, method=method, params=params, reason=reason, index_bytes=index_bytes,
                       build_bytes=build_bytes, warnings=warnings, quantization=quantization)
