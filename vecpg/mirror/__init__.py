"""Qdrant as a secondary mirror of PostgreSQL.

``points`` (a document as a point), ``protocol`` (what a backend does), ``edge`` / ``server``
(where Qdrant runs) and ``factory`` (the one the environment asks for),
``filters`` (vecpg's filter language in Qdrant's terms), ``sync`` (outbox to Qdrant, crash-safe),
``verify`` (PostgreSQL against Qdrant) and ``search`` (queries through the mirror). The capture
side is SQL: sql/idempotent/09_mirror.sql.
"""
