"""Tuning by measurement: the smallest ``ef_search`` (HNSW) or ``probes`` (IVFFlat) whose mean
recall@k reaches a target, stored as the collection's search defaults.

``tune`` takes stored vectors as queries (``sample`` of them, the same for the same ``seed``) or
the caller's, finds each query's exact k nearest rows by a scan PostgreSQL makes with index scans
turned off, then runs the queries through the normal search path (``vector_query``) at
ascending values of the index's search parameter, and stops at the first value whose mean
recall reaches the target. A binary-quantized index first gets its re-rank factor the same way,
at the most generous value of that parameter. The choice goes to ``vecpg.set_search_defaults``:
later searches use it unless a call gives its own options.

Choices made here, and why:

- Stored vectors are queries as they are, not perturbed: each finds itself, and its exact answer
  holds it too. Measured on 3,000 clustered 64-d vectors (300 queries), stored vectors were
  optimistic against held-out vectors of the same distribution at the low end under a poor graph
  (m=4/ef_construction=16: recall 0.78-0.86 against 0.70-0.77 at ef_search 10), but within 0.03
  from ef_search 40 up, where targets of 0.9 and more are reached; under m=8 held-out vectors
  scored higher. Moving the stored vectors by a quarter or half of their distance to their
  nearest neighbour narrowed the gap at ef_search 10 only, and costs a second exact pass; any
  larger perturbation guesses at the user's queries. Real queries are best: ``queries=`` takes
  vectors or, with a model, texts.
- A hit is a returned row no farther than the k-th exact neighbour (as ann-benchmarks counts),
  so rows at equal distance (duplicate documents) count whichever of them the index returns.
- The measurement covers every row, not one tenant's: tuning is per collection. It runs on the
  store's admin connection (the embedded server's superuser; on a database you configured, the
  store's own role and the rows it sees), and refuses to run inside ``store.tenant()``. A
  tenant's searches use iterative scans and may need more than the collection-wide value.
- Searches with a larger k than measured get ``ef_search`` raised to their k (vecpg.search_options):
  tune with the k you search with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb
from tqdm import tqdm

from ..documents import check_k, check_vector
from ..errors import InvalidArgument, PermissionDenied
from ..ops.runner import Held, Runner
from ..resources import composed, query
from ..search.options import VectorOptions, spec_of
from ..search.statements import Statements
from ..search.vector import MAX_EF_SEARCH, OPERATORS, scan_rows, stored_query, vector_query
from ..storage import STORAGES

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ..filters import FilterCompiler
    from ..search.dispatch import Searchable
    from .specs import IndexInfo

    class _Store(Protocol):
        vector_schema: str
        pgvector_version: tuple[int, ...]
        filters: FilterCompiler

        @property
        def current_tenant(self) -> str | None: ...

        def connection(self, *, for_search: bool = False) -> AbstractContextManager[psycopg.Connection]: ...

        def admin_connection(self) -> AbstractContextManager[psycopg.Connection]: ...

    class Collection(Searchable, Protocol):
        """A collection as tuning sees it."""

        table: sql.Identifier

        @property
        def schema(self) -> str: ...

        @property
        def store(self) -> _Store: ...  # type: ignore[override]


MAX_PROBES: int = spec_of(VectorOptions, "probes").hi  # type: ignore[assignment]
# Values tried, in this order, until one reaches the target. IVFFlat's probes double up to the
# index's lists (every list: an exact search).
EF_SEARCH_LADDER = (10, 16, 24, 32, 40, 64, 100, 150, 200, 300, 400, 600, 800, 1000)
RERANK_LADDER = (1, 2, 4, 8, 16, 32)
MAX_SAMPLE = 10_000
# Distances are compared as PostgreSQL computed them, on the same vectors; this only absorbs
# the last bits of float arithmetic.
_TOLERANCE = 1e-9

Curve = tuple[tuple[int, float], ...]  # (value tried, mean recall@k), in the order tried


@dataclass(frozen=True)
class TuningResult:
    """What a measurement found and chose: ``parameter`` set to ``value`` (and ``rerank`` for
    binary codes) gives mean recall@k ``recall`` over ``sample`` queries."""

    collection: str
    parameter: str  # "ef_search" (HNSW) or "probes" (IVFFlat)
    value: int
    recall: float
    target_recall: float
    k: int
    sample: int
    queries: str  # "stored" (sampled with `seed`) or "given"
    seed: int | None
    index: str
    method: str
    quantization: str | None
    curve: Curve
    rerank: int | None = None  # binary codes: candidates per result re-ranked exactly
    rerank_curve: Curve = ()  # measured at the most generous value of `parameter`
    seconds: float = 0.0
    measured_at: datetime | None = None

    @property
    def reached(self) -> bool:
        """Whether the chosen options reach the target (if not, they are the best measured)."""
        return self.recall >= self.target_recall

    def search_defaults(self) -> dict[str, int]:
        """The search options this result stores with the collection."""
        chosen = {self.parameter: self.value}
        return chosen if self.rerank is None else {"rerank": self.rerank, **chosen}

    def to_json(self) -> dict[str, Any]:
        """As stored in ``vecpg.collection.tuning``."""
        return {
            "target_recall": self.target_recall, "k": self.k, "recall": self.recall, "reached": self.reached,
            "parameter": self.parameter, "value": self.value, "rerank": self.rerank,
            "sample": self.sample, "queries": self.queries, "seed": self.seed,
            "index": {"name": self.index, "method": self.method, "quantization": self.quantization},
            "curve": [list(point) for point in self.curve], "rerank_curve": [list(p) for p in self.rerank_curve],
            "seconds": self.seconds,
            "measured_at": self.measured_at.isoformat() if self.measured_at else None,
        }

    @classmethod
    def from_json(cls, collection: str, data: Mapping[str, Any]) -> TuningResult:
        """A result as ``to_json`` stored it."""
        index = data.get("index") or {}
        measured = data.get("measured_at")
        return cls(
            collection=collection, parameter=data["parameter"], value=int(data["value"]),
            recall=float(data["recall"]), target_recall=float(data["target_recall"]), k=int(data["k"]),
            sample=int(data["sample"]), queries=data.get("queries", "stored"), seed=data.get("seed"),
            index=index.get("name", ""), method=index.get("method", ""), quantization=index.get("quantization"),
            curve=tuple((int(v), float(r)) for v, r in data.get("curve", ())), rerank=data.get("rerank"),
            rerank_curve=tuple((int(v), float(r)) for v, r in data.get("rerank_curve", ())),
            seconds=float(data.get("seconds", 0.0)),
            measured_at=datetime.fromisoformat(measured) if measured else None,
        )

    def summary(self) -> str:
        """One line: the choice, its recall and the target."""
        chosen = f"{self.parameter} {self.value}" + (f", rerank {self.rerank}" if self.rerank is not None else "")
        when = f", {self.measured_at:%Y-%m-%d %H:%M} UTC" if self.measured_at else ""
        verdict = "" if self.reached else ", target not reached: the best measured"
        source = "stored vectors as queries" if self.queries == "stored" else "given queries"
        return (f"{chosen}: recall@{self.k} {self.recall:.3f} (target {self.target_recall:g}{verdict}; "
                f"{self.sample} {source}, {self.method} index {self.index}{when})")


class _Held:
    """The store as search sees it, on the one connection the measurement holds, as no tenant."""

    current_tenant = None

    def __init__(self, vector_schema: str, pgvector_version: tuple[int, ...], filters: FilterCompiler,
                 conn: psycopg.Connection) -> None:
        self.vector_schema, self.pgvector_version, self.filters = vector_schema, pgvector_version, filters
        self.run = Runner(Held(conn)).run


@dataclass
class _Measured:
    """The collection as search sees it during the measurement: without its search defaults, so
    that only the options tried count."""

    name: str
    distance: str
    dimension: int
    quantization: str | None
    statements: Statements
    store: _Held
    search_defaults: dict[str, Any] = field(default_factory=dict)
    storage: str = "vector"
    partitioned: bool = False
    tenant_scope: str = ""


def _measured(collection: Collection, conn: psycopg.Connection) -> _Measured:
    store = collection.store
    return _Measured(collection.name, collection.distance, collection.dimension, collection.quantization,
                     collection.statements, _Held(store.vector_schema, store.pgvector_version, store.filters, conn),
                     storage=collection.storage, partitioned=collection.partitioned,
                     tenant_scope=collection.tenant_scope)


def measure_recall(collection: Collection, k: int = 10, sample: int = 100, *, seed: int = 0,
                   options: Mapping[str, int] | None = None) -> float:
    """Mean recall@k of ``sample`` stored vectors searched as searches run now (the collection's
    search defaults, or ``options``) against the exact answer, measured as ``tune`` measures
    (``vecpg doctor`` compares it with the tuned target)."""
    _check(0.5, k, sample, seed)
    with collection.store.admin_connection() as conn:
        register_vector(conn)
        queries = _sample(conn, collection, sample, seed)
        truth = _exact(conn, collection, queries, k, False)
        chosen = dict(collection.search_defaults if options is None else options)
        return _recall(_measured(collection, conn), queries, truth, k, chosen)


def _check(target_recall: float, k: int, sample: int, seed: int) -> None:
    if isinstance(target_recall, bool) or not isinstance(target_recall, (int, float)) \
            or not 0 < target_recall <= 1:
        raise InvalidArgument(f"target_recall must be a number above 0 and at most 1, got {target_recall!r}")
    check_k(k)
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE:
        raise InvalidArgument(f"sample must be an integer between 1 and {MAX_SAMPLE}, got {sample!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgument(f"seed must be an integer, got {seed!r}")


def _given(collection: Collection, queries: Sequence[Any] | np.ndarray) -> list[np.ndarray]:
    """The caller's queries as checked vectors; texts are embedded with the collection's model."""
    items = list(queries)
    if not items or len(items) > MAX_SAMPLE:
        raise InvalidArgument(f"queries must hold between 1 and {MAX_SAMPLE} queries, got {len(items)}")
    texts = [i for i, q in enumerate(items) if isinstance(q, str)]
    if texts:
        embedded = [collection.embed_query(items[i]) for i in texts]  # checks each text, and the model
        for i, vector in zip(texts, embedded):
            items[i] = vector
    largest = STORAGES[collection.storage].largest
    return [check_vector(q, collection.dimension, f"query {i}", largest) for i, q in enumerate(items)]


def _sample(conn: psycopg.Connection, collection: Collection, n: int, seed: int) -> list[np.ndarray]:
    statement = composed("tune_sample", table=collection.table)
    rows = conn.execute(statement, {"n": n, "seed": str(seed)}).fetchall()
    if not rows:
        raise InvalidArgument(f"collection {collection.name!r} has no stored vectors to take queries from")
    return [np.asarray(r[0], dtype=np.float32) for r in rows]


def _exact(conn: psycopg.Connection, collection: Collection, queries: list[np.ndarray], k: int,
           progress: bool) -> list[tuple[float, int]]:
    """Per query, the distance of its k-th exact neighbour and how many neighbours it has (fewer
    than k in a small collection)."""
    schema = sql.Identifier(collection.store.vector_schema)
    op = sql.SQL("OPERATOR({}.{})").format(schema, sql.SQL(OPERATORS[collection.distance]))
    # The query compared in the stored type, as searches compare it: the truth is over the same values.
    statement = composed(
        "exact_neighbours",
        table=collection.table, op=op, query=stored_query(collection, schema))
    truth: list[tuple[float, int]] = []
    with conn.transaction(), tqdm(total=len(queries), desc="exact answers", unit="query", disable=not progress) as bar:
        conn.execute("SET LOCAL enable_indexscan = off")  # the index under measurement must not answer
        for vector in queries:
            distances = [r[0] for r in conn.execute(statement, {"query": vector, "k": k}).fetchall()]
            truth.append((max(distances) if distances else 0.0, len(distances)))
            bar.update()
    if all(size == 0 for _, size in truth):
        raise InvalidArgument(f"collection {collection.name!r} has no stored vectors to measure recall against")
    return truth


def _recall(target: _Measured, queries: list[np.ndarray], truth: list[tuple[float, int]], k: int,
            options: Mapping[str, int]) -> float:
    """Mean recall@k of the queries searched with these options."""
    total = 0.0
    for vector, (limit, size) in zip(queries, truth):
        if size == 0:
            continue
        hits = target.store.run(vector_query(target, vector, k, None, options, include=()))
        bound = limit + _TOLERANCE * max(1.0, abs(limit))
        total += sum(1 for hit in hits if hit.distance is not None and hit.distance <= bound) / size
    # Rounded: the stored curve and the choice made from it are the same numbers.
    return round(total / sum(1 for _, size in truth if size), 4)


def _climb(measure: Callable[[int], float], values: Sequence[int], target: float, name: str,
           progress: bool) -> Curve:
    """Recall at each value in order, up to the first reaching the target."""
    curve: list[tuple[int, float]] = []
    with tqdm(total=len(values), desc=name, unit="value", disable=not progress) as bar:
        for value in values:
            recall = measure(value)
            curve.append((value, recall))
            bar.set_postfix_str(f"{name}={value} recall={recall:.3f}")
            bar.update()
            if recall >= target:
                break
    return tuple(curve)


def _choice(curve: Curve, target: float) -> tuple[int, float]:
    """The first value reaching the target, else the one with the best recall (the smallest of equals)."""
    if curve[-1][1] >= target:
        return curve[-1]
    return max(curve, key=lambda point: (point[1], -point[0]))


def _ladder(collection: Collection, conn: psycopg.Connection, method: str, index: str, k: int,
            fixed: Mapping[str, int]) -> tuple[str, tuple[int, ...]]:
    """The parameter to tune and its values, smallest first; the last is the most generous."""
    if method == "hnsw":
        # Below the rows the scan must return, ef_search would cut the results short.
        rows = min(scan_rows(collection, k, fixed), MAX_EF_SEARCH)
        return "ef_search", tuple(sorted({max(rows, v) for v in EF_SEARCH_LADDER}))
    row = conn.execute(query("index_lists"), {"index": index, "schema": collection.schema}).fetchone()
    lists = min(int(row[0]) if row else 1, MAX_PROBES)
    return "probes", tuple(sorted({min(2**i, lists) for i in range(lists.bit_length() + 1)}))


def tune(
    collection: Collection,
    indexes: Sequence[IndexInfo],
    target_recall: float = 0.95,
    k: int = 10,
    queries: Sequence[Any] | np.ndarray | None = None,
    sample: int = 200,
    *,
    seed: int = 0,
    progress: bool = False,
) -> TuningResult:
    """Measure, choose and store a collection's search defaults (see the module's docstring)."""
    _check(target_recall, k, sample, seed)
    store = collection.store
    if store.current_tenant is not None:
        raise InvalidArgument("tuning measures the whole collection, not one tenant's rows: call it outside "
                              "store.tenant() (and without --tenant)")
    if not indexes:
        raise InvalidArgument(f"collection {collection.name!r} has no vector index: nothing to tune "
                              "(build one with create_index, or vecpg index create)")
    index = indexes[0]
    with store.connection() as conn:  # before measuring for minutes, not after
        row = conn.execute("SELECT current_user, has_function_privilege("
                           "'vecpg.set_search_defaults(text, jsonb, jsonb)', 'EXECUTE')").fetchone()
    if not (row and row[1]):
        raise PermissionDenied(f'role "{row[0] if row else ""}" may not store search defaults '
                               "(vecpg.set_search_defaults): tuning needs a member of vecpg_admin")
    vectors = _given(collection, queries) if queries is not None else None
    started = time.monotonic()
    with store.admin_connection() as conn:
        register_vector(conn)
        measured = _sample(conn, collection, sample, seed) if vectors is None else vectors
        truth = _exact(conn, collection, measured, k, progress)
        target = _measured(collection, conn)

        def measure(options: Mapping[str, int]) -> float:
            return _recall(target, measured, truth, k, options)

        rerank: int | None = None
        rerank_curve: Curve = ()
        if collection.quantization == "binary":
            parameter, values = _ladder(collection, conn, index.method, index.name, k, {"rerank": RERANK_LADDER[-1]})
            generous = values[-1]
            rerank_curve = _climb(lambda r: measure({parameter: generous, "rerank": r}), RERANK_LADDER,
                                  target_recall, "rerank", progress)
            rerank = _choice(rerank_curve, target_recall)[0]
        fixed: dict[str, int] = {} if rerank is None else {"rerank": rerank}
        parameter, values = _ladder(collection, conn, index.method, index.name, k, fixed)
        curve = _climb(lambda v: measure({**fixed, parameter: v}), values, target_recall, parameter, progress)
    value, recall = _choice(curve, target_recall)
    result = TuningResult(
        collection=collection.name, parameter=parameter, value=value, recall=recall, target_recall=target_recall,
        k=k, sample=len(measured), queries="stored" if queries is None else "given",
        seed=seed if queries is None else None, index=index.name, method=index.method,
        quantization=collection.quantization, curve=curve, rerank=rerank, rerank_curve=rerank_curve,
        seconds=round(time.monotonic() - started, 3), measured_at=datetime.now(timezone.utc),
    )
    with store.connection() as conn:
        conn.execute("SELECT vecpg.set_search_defaults(%s, %s, %s)",
                     (collection.name, Jsonb(result.search_defaults()), Jsonb(result.to_json())))
    return result
