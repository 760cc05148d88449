"""The checks only Python can make, beside ``vecpg.doctor()``'s: pending migrations, the measured
recall of each ANN index against its tuned target, and text past the model's window.

Recall is measured as ``tune`` measures it (vecpg/index/tuning.py): stored vectors as queries,
searched as searches run now (the collection's search defaults), against exact search. It is the
costly check (one exact scan a query: docs/performance.md), hence ``recall=False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db import migrate
from ..index.tuning import measure_recall
from ..ops.runner import execute
from .findings import Finding, sql_findings

if TYPE_CHECKING:
    from ..collection import Collection
    from ..store import Store

DEFAULT_TARGET = 0.95  # tune's default target, for collections never tuned
RECALL_SAMPLE = 100
RECALL_K = 10
WINDOW_SAMPLE = 200


def doctor(store: Store, collection: str | None = None, *, recall: bool = True) -> list[Finding]:
    """Every finding for the database (or one collection): ``vecpg.doctor()``'s, then Python's."""
    with store.admin_connection() as conn:  # every tenant's rows, as tune and the metrics read them
        findings = execute(conn, sql_findings(collection))
    findings += migrations(store)
    names = [collection] if collection else [info.name for info in store.list_collections()]
    for name in names:
        coll = store.collection(name)
        if recall:
            findings += recall_findings(coll)
        findings += window_findings(coll)
    return findings


def migrations(store: Store) -> list[Finding]:
    """A database behind this vecpg's newest revision (a process opened before an upgrade of vecpg)."""
    at, head = store.run(migrate.revision()), migrate.head()
    if at == head:
        return []
    return [Finding("pending_migrations", "problem", None,
                    f"the database is at vecpg revision {at or 'none'}, this vecpg needs {head}", "vecpg migrate")]


def recall_findings(coll: Collection) -> list[Finding]:
    """Recall@10 of the collection's ANN index below the target it was tuned for (or tune's default)."""
    indexes = [i for i in coll.indexes() if i.valid]
    if not indexes or coll.count() == 0:
        return []
    tuned = coll.tuning()
    target = tuned.target_recall if tuned else DEFAULT_TARGET
    # The tuning's own queries when it took stored ones: the same recall unless the index got worse since.
    same = tuned is not None and tuned.queries == "stored"
    sample = tuned.sample if same and tuned else RECALL_SAMPLE
    measured = measure_recall(coll, RECALL_K, sample, seed=(tuned.seed or 0) if same and tuned else 0)
    if measured >= target:
        return []
    how = (f"tuned for {target:g} ({tuned.parameter} {tuned.value})" if tuned
           else f"never tuned (target {target:g}, tune's default)")
    return [Finding("recall_below_target", "warning", coll.name,
                    f"recall@{RECALL_K} of {indexes[0].method} index {indexes[0].name} is {measured:.3f} on "
                    f"{sample} stored vectors, {how}: the index returns rows other than the nearest ones",
                    f"vecpg index tune -c {coll.name} --target-recall {target:g}")]


def window_findings(coll: Collection) -> list[Finding]:
    """Documents longer than the model's window in an unchunked collection: their end is never embedded."""
    if coll.model is None or coll.chunking() is not None:
        return []
    over, looked = coll.over_window(WINDOW_SAMPLE)
    if not over:
        return []
    return [Finding("over_window", "warning", coll.name,
                    f"{over} of {looked} sampled documents are longer than {coll.model}'s window: the model embeds "
                    "their beginning only, and searches miss what comes after",
                    f"vecpg collection chunk {coll.name}")]
