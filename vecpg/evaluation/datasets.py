"""What evaluation reads: a BEIR-format dataset (corpus, queries, graded judgements of one split),
or a file of labelled queries against a collection that already holds the documents."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import InputFileError, InvalidArgument

if TYPE_CHECKING:
    from ..collection import Collection


@dataclass
class Dataset:
    """Queries and their graded judgements, with where the corpus is (a BEIR dataset's split), or
    no corpus (labelled queries for a collection that holds the documents already)."""

    corpus: Path | None
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def judged_queries(self) -> dict[str, str]:
        """Queries with at least one positive judgement (the others cannot be scored)."""
        return {qid: text for qid, text in self.queries.items() if any(g > 0 for g in self.qrels.get(qid, {}).values())}


def _open_text(path: Path) -> IO[str]:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def load_dataset(directory: str | Path, split: str = "test") -> Dataset:
    """Read ``corpus.jsonl[.gz]``, ``queries.jsonl`` and ``qrels/<split>.tsv`` from a directory."""
    root = Path(directory)
    corpus = next((root / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (root / n).is_file()), None)
    if corpus is None:
        raise InputFileError(f"{root}: no corpus.jsonl or corpus.jsonl.gz (is this a BEIR dataset directory?)")
    queries_path, qrels_path = root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise InputFileError(f"{path}: missing")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
            except (IndexError, ValueError):
                raise InputFileError(f"{qrels_path}: malformed line {row!r}") from None
    queries: dict[str, str] = {}
    with queries_path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    item = json.loads(line)
                    queries[str(item["_id"])] = item["text"]
                except (json.JSONDecodeError, KeyError):
                    raise InputFileError(f"{queries_path}:{number}: expected a JSON object with _id and text") from None
    return Dataset(corpus, {q: t for q, t in queries.items() if q in qrels}, qrels)


def load_judgements(path: str | Path) -> Dataset:
    """Labelled queries from a CSV (with a header row) or JSONL file: ``query``, ``relevant_ids``
    (one id or several separated by spaces; in JSONL a list too) and optional ``grades`` (one
    integer per id, 1 when absent). Queries are named by their line number."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: missing")
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise InputFileError(f"{path}: labelled queries come as .csv or .jsonl")
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for number, row in _labelled_rows(path, fh):
            where = f"{path}:{number}"
            text, ids, grades = row.get("query"), _words(row.get("relevant_ids")), _words(row.get("grades"))
            if not isinstance(text, str) or not text.strip() or not ids:
                raise InputFileError(f"{where}: needs a query and at least one id in relevant_ids")
            if grades and len(grades) != len(ids):
                raise InputFileError(f"{where}: {len(grades)} grades for {len(ids)} relevant ids")
            try:
                graded = {doc: int(g) for doc, g in zip(ids, grades or ["1"] * len(ids))}
            except ValueError:
                raise InputFileError(f"{where}: grades must be integers") from None
            queries[f"q{number}"], qrels[f"q{number}"] = text, graded
    if not queries:
        raise InputFileError(f"{path}: no labelled queries")
    return Dataset(None, queries, qrels)


def _labelled_rows(path: Path, fh: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"query", "relevant_ids"} <= set(reader.fieldnames):
            raise InputFileError(f"{path}: the header must name the columns query and relevant_ids")
        for row in reader:
            yield reader.line_num, row
        return
    for number, line in enumerate(fh, start=1):
        if line.strip():
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(item, dict):
                raise InputFileError(f"{path}:{number}: expected a JSON object with query and relevant_ids")
            yield number, item


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value).split()


def corpus_documents(dataset: Dataset) -> Iterator[dict[str, Any]]:
    """The corpus as vecpg documents (BEIR's ``_id``, ``title``, ``text``)."""
    if dataset.corpus is None:
        raise InvalidArgument("labelled queries come without a corpus: evaluate them against a loaded collection")
    with _open_text(dataset.corpus) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield {"id": str(item["_id"]), "title": item.get("title") or None, "content": item["text"]}
            except (json.JSONDecodeError, KeyError):
                raise InputFileError(f"{dataset.corpus}:{number}: expected a JSON object with _id and text") from None


def ensure_loaded(collection: Collection, dataset: Dataset, progress: bool = False) -> int:
    """Load the corpus unless the collection already holds exactly it; returns documents written."""
    ids = [doc["id"] for doc in corpus_documents(dataset)]
    if collection.count() == len(ids) and collection.count({"id": {"$in": ids}}) == len(ids):
        return 0
    return collection.load(corpus_documents(dataset), progress=progress, total=len(ids))
