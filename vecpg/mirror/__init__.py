"""Qdrant as a secondary mirror of PostgreSQL: points, backends, filters, sync (issue 12, in progress)."""
