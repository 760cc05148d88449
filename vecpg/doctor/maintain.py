"""``vecpg maintain``: run what the doctor advises and is safe to run unattended.

Purges of expired documents (small batches, each its own short transaction), VACUUM ANALYZE of
bloated or badly analyzed tables, REINDEX INDEX CONCURRENTLY of invalid and bloated indexes
(neither blocks searches nor writes), retuning of indexes below their recall target, and the
failed embeddings put back in the queue. The rest (building a missing index,
raising shared_buffers, upgrading pgvector, re-embedding) changes what the operator decides, so
maintain names it and leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from tqdm import tqdm

from .checks import DEFAULT_TARGET, doctor
from .findings import Finding

if TYPE_CHECKING:
    from ..store import Store

# Checks whose fix is a statement maintain runs as the doctor wrote it, in this order: vacuum
# first (the reindex then copies no dead rows), then the indexes.
SQL_FIXES = ("table_bloat", "never_analyzed", "stale_statistics", "invalid_index", "index_bloat")
# The order of the repairs: purges of expired documents first (the vacuum reclaims what they delete).
ORDER = ("expired_rows", *SQL_FIXES)


@dataclass(frozen=True)
class Action:
    """One repair: what it does (the command) and the findings it answers."""

    command: str
    collection: str | None
    findings: tuple[Finding, ...]
    run: Callable[[], object]


def plan(store: Store, findings: list[Finding]) -> tuple[list[Action], list[Finding]]:
    """The repairs for these findings, and the findings left to the operator."""
    actions: dict[str, Action] = {}
    left: list[Finding] = []

    def add(command: str, finding: Finding, run: Callable[[], object]) -> None:
        known = actions.get(command)
        actions[command] = Action(command, finding.collection, (known.findings if known else ()) + (finding,),
                                  known.run if known else run)

    ordered = sorted(findings, key=lambda f: ORDER.index(f.check) if f.check in ORDER else len(ORDER))
    for finding in ordered:
        name = finding.collection
        if finding.check == "expired_rows" and name:
            add(f"vecpg collection purge {name}", finding, partial(_purge, store, name))
        elif finding.check in SQL_FIXES:
            add(finding.fix, finding, partial(_execute, store, finding.fix))
        elif finding.check == "recall_below_target" and name:
            add(f"vecpg index tune -c {name}", finding, partial(_retune, store, name))
        elif finding.check == "embedding_failures" and name:
            add(finding.fix, finding, partial(_execute, store, "SELECT vecpg.retry_embeddings(%s)", name))
        elif finding.severity != "ok":
            left.append(finding)
    return list(actions.values()), left


def _purge(store: Store, name: str) -> int:
    """Every expired document of the collection, deleted in small batches (Collection.purge_expired)."""
    return store.collection(name).purge_expired()


def maintain(store: Store, collection: str | None = None, *, dry_run: bool = False, progress: bool = False,
             recall: bool = True) -> tuple[list[Action], list[Finding]]:
    """Run the repairs the doctor's findings call for (only list them with ``dry_run``); returns
    the repairs and the findings left to the operator."""
    actions, left = plan(store, doctor(store, collection, recall=recall))
    if not dry_run:
        with tqdm(actions, desc="maintain", unit="step", disable=not progress) as bar:
            for action in bar:
                bar.set_postfix_str(action.command[:60])
                action.run()
    return actions, left


def _execute(store: Store, statement: str, *params: object) -> None:
    # VACUUM and REINDEX CONCURRENTLY run outside a transaction, as the tables' owner may.
    with store.admin_connection() as conn:
        conn.execute(statement, params or None)  # type: ignore[arg-type]


def _retune(store: Store, name: str) -> None:
    coll = store.collection(name)
    tuned = coll.tuning()
    coll.tune(tuned.target_recall if tuned else DEFAULT_TARGET)
