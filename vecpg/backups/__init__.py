"""Backups of one collection: ``export`` writes every row of every tenant to JSONL (optionally
gzipped) or Parquet, with the collection's settings first; ``import_collection`` reads such a
file back, creating the collection if needed, in one transaction. Vectors, metadata, tenants and
timestamps round-trip exactly (docs/operations.md, "Backups"). Whole databases go through
pg_dump and pg_restore instead.
"""

from .export import export_collection
from .header import Header, ImportResult
from .importer import import_collection

__all__ = ["Header", "ImportResult", "export_collection", "import_collection"]
