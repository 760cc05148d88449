"""Ingestion: documents from CSV, JSON Lines and Parquet files into a collection.

``records`` is what every reader yields, ``text`` reads CSV and JSONL (gzipped or not) and
``parquet`` Parquet files, both as streams; ``formats`` picks the reader from the file name;
``checkpoint`` records how far an ingest got; ``pipeline`` runs an ingest in chunks, each
committed with its checkpoint, so that an interrupted one resumes without writing a record twice.
"""

from .checkpoint import Checkpoint, fingerprint
from .formats import count_records, file_format, open_reader, read_documents
from .pipeline import IngestOptions, IngestResult, Plan, ingest_file, plan_ingest, run_ingest
from .records import COLUMNS, Reader

__all__ = [
    "COLUMNS",
    "Checkpoint",
    "IngestOptions",
    "IngestResult",
    "Plan",
    "Reader",
    "count_records",
    "file_format",
    "fingerprint",
    "ingest_file",
    "open_reader",
    "plan_ingest",
    "read_documents",
    "run_ingest",
]
