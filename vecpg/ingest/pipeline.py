"""An ingest: a file into a collection in chunks, each chunk committed with its checkpoint.

A chunk (``commit_every`` records) is one transaction that loads its documents through the
collection's binary COPY path and records, beside them, how many records of the file are now
committed. A run that dies anywhere leaves whole chunks and a checkpoint that counts exactly
those; the next run on the same file skips them and goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psycopg

from ..errors import InputFileError, InvalidArgument, VecpgError
from . import checkpoint
from .checkpoint import Checkpoint
from .formats import file_format, open_reader
from .records import Reader

if TYPE_CHECKING:
    from ..collection import Collection
    from .progress import IngestBar

# new: no earlier run; resume: after the records an earlier run committed; changed: the file is
# not the one an earlier run read, so from the start; restart: from the start as asked; done:
# an earlier run ingested the whole file, nothing to do.
Status = Literal["new", "resume", "changed", "restart", "done"]


@dataclass(frozen=True)
class IngestOptions:
    """How an ingest runs."""

    batch_size: int = 256  # documents checked, embedded and copied at a time
    commit_every: int = 10_000  # records per transaction, each with its checkpoint
    via_queue: bool = False  # write text and metadata only; the embedding workers add the vectors
    restart: bool = False  # from the first record, whatever an earlier run did
    progress: bool = False  # a bar on stderr
    metadata_columns: tuple[str, ...] = ()  # columns that become metadata keys


@dataclass(frozen=True)
class Plan:
    """Where an ingest of a file starts, as its checkpoint decides."""

    path: Path
    source: str  # the resolved path: the checkpoint's key
    fingerprint: str
    status: Status
    start: int  # records to skip: committed by an earlier run
    previous: Checkpoint | None

    def describe(self) -> str | None:
        """What a user should hear before the ingest starts (None for a first ingest)."""
        earlier = self.previous.records if self.previous else 0
        return {
            "new": None,
            "resume": f"resuming after {self.start} records (committed by an earlier run)",
            "changed": f"{self.path} changed since an earlier run committed {earlier} of its records: starting over",
            "restart": f"restarting {self.path} from its first record (an earlier run committed {earlier})",
            "done": f"{self.path} is already ingested ({earlier} records)",
        }[self.status]


@dataclass(frozen=True)
class IngestResult:
    """What a run did."""

    plan: Plan
    records: int  # records of the file this run committed
    documents: int  # distinct ids this run wrote (an id repeated in one chunk counts once)
    seconds: float

    @property
    def docs_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def plan_ingest(collection: Collection, path: str | Path, restart: bool = False) -> Plan:
    """Read the file's checkpoint (for the tenant acting) and decide where the ingest starts."""
    path = Path(path)
    file_format(path)  # an unknown type is refused before anything is read
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    source = str(path.resolve())
    stamp = checkpoint.fingerprint(path)
    with collection.store.connection() as conn:
        previous = checkpoint.load(conn, collection.name, source)
    status: Status
    if previous is None:
        status, start = "new", 0
    elif restart:
        status, start = "restart", 0
    elif previous.fingerprint != stamp:
        status, start = "changed", 0
    elif previous.finished:
        status, start = "done", previous.records
    else:
        status, start = "resume", previous.records
    return Plan(path, source, stamp, status, start, previous)


class _Counted:
    """The records of one chunk, counted as the load takes them."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self._records:
            self.count += 1
            yield record


def _tracked(reader: Reader, bar: IngestBar) -> Iterator[dict[str, Any]]:
    read = 0
    for record in reader.records:
        yield record
        read += 1
        if read % 64 == 0:
            bar.update(reader.position(), read)
    bar.update(reader.position(), read)


def run_ingest(collection: Collection, plan: Plan, options: IngestOptions = IngestOptions()) -> IngestResult:
    """Ingest the file from ``plan.start`` on, committing every ``options.commit_every`` records."""
    if options.commit_every < 1:
        raise InvalidArgument("commit_every must be at least 1")
    started = time.monotonic()
    if plan.status == "done":
        return IngestResult(plan, 0, 0, 0.0)
    store = collection.store
    reader = open_reader(plan.path, skip=plan.start, metadata_columns=options.metadata_columns)
    bar: IngestBar | None = None
    if options.progress:
        from .progress import IngestBar

        bar = IngestBar(f"ingesting {plan.path.name}", reader.total, reader.unit)
    records = _tracked(reader, bar) if bar is not None else reader.records
    committed, documents, finished = plan.start, 0, False
    saved = plan.previous  # the checkpoint as this ingest last saw it

    def save(conn: psycopg.Connection, state: Checkpoint) -> None:
        nonlocal saved
        if not checkpoint.save(conn, collection.name, plan.source, state, saved):
            # Raised inside the chunk's transaction: its rows go too.
            raise InputFileError(f"{plan.path}: another ingest of this file into {collection.name} committed "
                                 "records while this one ran; run it again to resume after them")
        saved = state

    try:
        while not finished:
            first = next(records, None)  # nothing opens a transaction for an empty chunk
            if first is None:
                break
            chunk = _Counted(chain([first], islice(records, options.commit_every - 1)))
            with store.connection() as conn, conn.transaction():
                documents += collection.load(chunk, options.batch_size, via_queue=options.via_queue,
                                             first_row=committed, connection=conn)
                finished = chunk.count < options.commit_every  # the file ended inside the chunk
                save(conn, Checkpoint(plan.fingerprint, committed + chunk.count, finished))
            committed += chunk.count
        if not finished:  # the file ended on a chunk's boundary, or had nothing left to read
            with store.connection() as conn:
                save(conn, Checkpoint(plan.fingerprint, committed, True))
    except VecpgError as exc:
        if committed > plan.start:  # say that the chunks before the error stay
            raise type(exc)(f"{exc} (the {committed} records before it are committed)") from None
        raise
    finally:
        reader.close()
        if bar is not None:
            bar.close()
    return IngestResult(plan, committed - plan.start, documents, time.monotonic() - started)


def ingest_file(
    collection: Collection,
    path: str | Path,
    options: IngestOptions = IngestOptions(),
    notify: Callable[[str], None] | None = None,
    tenant: str | None = None,
) -> IngestResult:
    """Ingest a CSV, JSONL (either gzipped) or Parquet file into a collection, resumably.

    Run again on the same file, it resumes after the records an earlier run committed, or does
    nothing if that run finished (``options.restart`` ingests it again); a file whose contents
    changed is ingested from the start. ``notify`` hears which of these it is. ``tenant``: act
    for that tenant, whose checkpoints are its own.
    """
    if tenant is not None:
        with collection.store.tenant(tenant):
            return ingest_file(collection, path, options, notify)
    plan = plan_ingest(collection, path, restart=options.restart)
    message = plan.describe()
    if message and notify is not None:
        notify(message)
    return run_ingest(collection, plan, options)
